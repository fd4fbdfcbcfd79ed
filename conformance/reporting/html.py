"""A single-file HTML report a person can read: violations grouped by rule, each with the request,
what the documented behaviour expects, and what the target answered."""

from __future__ import annotations

import json
from html import escape
from itertools import groupby
from pathlib import Path

from conformance.reporting import violations_by_rule
from conformance.results import CaseResult, Exchange, ExitCode, Outcome, RunResult, Violation

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d1d1f}
h1{margin-bottom:.2rem} .meta{color:#666} table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
.verdict{font-size:1.2rem;font-weight:600;padding:.6rem 1rem;border-radius:6px;display:inline-block}
.ok{background:#e3f6e8;color:#17692e} .bad{background:#fde7e7;color:#9b1c1c} .warn{background:#fff4d6;color:#7a5300}
.rule{border:1px solid #e3e3e3;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.rule h3{margin:.3rem 0} details{margin:.4rem 0} summary{cursor:pointer}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word;margin:.3rem 0}
.cols{display:grid;grid-template-columns:1fr 1fr 1fr;gap:.6rem} .cols h4{margin:.2rem 0}
.failed{color:#9b1c1c} .error{color:#7a5300} .skipped{color:#666} .passed{color:#17692e}
"""


def render(result: RunResult) -> str:
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        "<title>Conformance report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Conformance report</h1>",
        _meta(result),
        _verdict(result),
        _summary(result),
        _violations(result),
        _not_judged(result),
        _all_cases(result),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(result: RunResult) -> str:
    targets = ", ".join(f"{escape(api)}: <code>{escape(url)}</code>" for api, url in result.targets.items())
    seed = f" · seed <code>{result.seed}</code>" if result.seed is not None else ""
    return f"<p class=meta>{targets or 'no target'} · {result.duration:.1f}s{seed}</p>"


def _verdict(result: RunResult) -> str:
    code = result.exit_code
    if code == ExitCode.CONFORMS:
        return "<p class='verdict ok'>Conforms: no documented rule is broken.</p>"
    if code == ExitCode.VIOLATIONS:
        rules = len(violations_by_rule(result.cases))
        return f"<p class='verdict bad'>{len(result.violations)} violation(s) of {rules} rule(s).</p>"
    reason = escape(result.fatal) if result.fatal else f"{result.count(Outcome.ERROR)} case(s) could not be judged."
    return f"<p class='verdict warn'>Could not run: {reason}</p>"


def _summary(result: RunResult) -> str:
    rows = []
    ordered = sorted(result.cases, key=lambda case: (case.api, case.suite.value))
    for (api, suite), group in groupby(ordered, key=lambda case: (case.api, case.suite.value)):
        cases = list(group)
        counts = "".join(f"<td class={outcome.value}>{result.count(outcome, cases)}</td>" for outcome in Outcome)
        rows.append(f"<tr><td>{escape(api)}</td><td>{escape(suite)}</td>{counts}</tr>")
    header = "".join(f"<th>{outcome.value}</th>" for outcome in Outcome)
    return f"<h2>Summary</h2><table><tr><th>API</th><th>suite</th>{header}</tr>{''.join(rows)}</table>"


def _violations(result: RunResult) -> str:
    grouped = violations_by_rule(result.cases)
    if not grouped:
        return ""
    sections = ["<h2>Violations by rule</h2>"]
    for rule, items in grouped.items():
        case = items[0][0]
        source = f"<p class=meta>Documented in: {escape(case.source)}</p>" if case.source else ""
        title = escape(case.title if case.suite.value != "fuzz" else items[0][1].expected or case.title)
        entries = "".join(_violation(case, violation) for case, violation in items)
        sections.append(
            f"<section class=rule><h3><code>{escape(rule)}</code> — {title}</h3>{source}"
            f"<p>{len(items)} violation(s)</p>{entries}</section>"
        )
    return "\n".join(sections)


def _violation(case: CaseResult, violation: Violation) -> str:
    exchange = violation.exchange
    columns = [
        f"<div><h4>Request</h4>{_request(exchange)}</div>" if exchange else "",
        f"<div><h4>Expected</h4><pre>{escape(violation.expected)}</pre></div>" if violation.expected else "",
        f"<div><h4>Actual response</h4>{_response(exchange)}</div>" if exchange else "",
    ]
    return (
        f"<details open><summary><b>{escape(case.api)}</b> · {escape(case.name)}</summary>"
        f"<pre>{escape(violation.message)}</pre><div class=cols>{''.join(columns)}</div></details>"
    )


def _request(exchange: Exchange) -> str:
    return _pre(f"{exchange.method} {exchange.url}", exchange.request_headers, exchange.request_body)


def _response(exchange: Exchange) -> str:
    status = str(exchange.status) if exchange.status is not None else "no response"
    return _pre(status, exchange.response_headers, exchange.response_body)


def _pre(first_line: str, headers: dict[str, str], body: str | None) -> str:
    lines = [first_line, *(f"{name}: {value}" for name, value in headers.items())]
    text = "\n".join(lines)
    if body:
        text += "\n\n" + _pretty(body)
    return f"<pre>{escape(text)}</pre>"


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _not_judged(result: RunResult) -> str:
    items = [case for case in result.cases if case.outcome in (Outcome.ERROR, Outcome.SKIPPED)]
    if not items:
        return ""
    rows = "".join(
        f"<tr><td class={case.outcome.value}>{case.outcome.value}</td><td>{escape(case.api)}</td>"
        f"<td>{escape(case.name)}</td><td><pre>{escape(case.detail)}</pre></td></tr>"
        for case in items
    )
    return f"<h2>Not judged</h2><table><tr><th>outcome</th><th>API</th><th>case</th><th>why</th></tr>{rows}</table>"


def _all_cases(result: RunResult) -> str:
    rows = "".join(
        f"<tr><td class={case.outcome.value}>{case.outcome.value}</td><td>{escape(case.api)}</td>"
        f"<td>{escape(case.suite.value)}</td><td>{escape(case.name)}</td><td>{escape(case.title)}</td></tr>"
        for case in result.cases
    )
    return (
        f"<details><summary><h2 style='display:inline'>All {len(result.cases)} cases</h2></summary>"
        f"<table><tr><th>outcome</th><th>API</th><th>suite</th><th>case</th><th>rule</th></tr>{rows}</table></details>"
    )


def write(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
