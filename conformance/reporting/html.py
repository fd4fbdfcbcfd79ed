"""A single-file HTML report a person can read, rendered from `templates/report.html.j2` with Jinja2:
violations grouped by rule, each with the request, what the documented behaviour expects, and what the
target answered; counts of cases per suite; the rule matrix of each API."""

from __future__ import annotations

import json
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from conformance.reporting import differences_by_rule, documented_by_rule, rules_by_api, title
from conformance.results import CaseResult, Exchange, ExitCode, Outcome, RunResult, Violation


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("conformance.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["request_text"] = request_text
    env.filters["response_text"] = response_text
    env.filters["response_html"] = response_html
    env.filters["markdown"] = markdown_inline
    return env


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})  # a rule's sentence is text: no raw HTML passes


def markdown_inline(text: str) -> Markup:
    """A rule's sentence or title as written (`code`, *emphasis*, links), rendered, never raw HTML."""
    return Markup(_markdown().renderInline(text or ""))  # markdown-it escapes the text itself


def response_html(exchange: Exchange, subject: str = "") -> Markup:
    """The response as text, the lines about the violation's member (`subject`) marked."""
    member = subject.replace("/", ".").rsplit(".", 1)[-1].strip("[]")
    key = f'"{member}":' if member else None
    lines = [
        Markup("<mark>{}</mark>").format(line) if key and key in line else escape(line)
        for line in response_text(exchange).split("\n")
    ]
    return Markup("\n").join(lines)


def render(result: RunResult) -> str:
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            result=result,
            title=title(result),
            verdict=_verdict(result),
            outcomes=[outcome.value for outcome in Outcome],
            summary=_summary(result),
            violations=_violations(documented_by_rule(result.cases)),
            differences=_violations(differences_by_rule(result.cases)),
            not_judged=[c for c in result.cases if c.outcome in (Outcome.ERROR, Outcome.SKIPPED, Outcome.NOT_RUN)],
            matrix=rules_by_api(result),
        )
    )


def _verdict(result: RunResult) -> dict[str, Any]:
    code = result.exit_code
    if result.unrestored:
        return {"kind": "changed"}
    if code == ExitCode.CONFORMS:
        return {"kind": "ok"}
    if code == ExitCode.VIOLATIONS:
        documented = documented_by_rule(result.cases)
        return {"kind": "bad", "violations": sum(map(len, documented.values())), "rules": len(documented)}
    reason = result.fatal or f"{result.count(Outcome.ERROR)} case(s) could not be judged."
    return {"kind": "warn", "reason": reason}


def _summary(result: RunResult) -> list[dict[str, Any]]:
    rows = []
    ordered = sorted(result.cases, key=lambda case: (case.api, case.suite.value))
    for (api, suite), group in groupby(ordered, key=lambda case: (case.api, case.suite.value)):
        cases = list(group)
        rows.append(
            {
                "api": api,
                "suite": suite,
                "counts": [(outcome.value, result.count(outcome, cases)) for outcome in Outcome],
                # examples generated (fuzz, boundaries); None where the suite sends fixed requests
                "cases": sum(case.cases for case in cases if case.cases is not None)
                if any(case.cases is not None for case in cases)
                else None,
                "positive": sum(case.positive for case in cases),
                "negative": sum(case.negative for case in cases),
            }
        )
    return rows


def _violations(by_rule: dict[str, list[tuple[CaseResult, Violation]]]) -> list[dict[str, Any]]:
    groups = []
    for rule, items in by_rule.items():
        case, first = items[0]
        title = case.title if case.suite.value != "fuzz" else first.expected or case.title
        source = first.basis.source or case.source
        groups.append(
            {"rule": rule, "title": title, "source": source, "evidence": first.evidence.value, "entries": items}
        )
    return groups


def request_text(exchange: Exchange) -> str:
    return _text(f"{exchange.method} {exchange.url}", exchange.request_headers, exchange.request_body)


def response_text(exchange: Exchange) -> str:
    status = str(exchange.status) if exchange.status is not None else "no response"
    return _text(status, exchange.response_headers, exchange.response_body)


def _text(first_line: str, headers: dict[str, str], body: str | None) -> str:
    text = "\n".join([first_line, *(f"{name}: {value}" for name, value in headers.items())])
    return text + "\n\n" + _pretty(body) if body else text


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def write(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
