"""Reports of a run: console summary, JUnit XML, JSON and a single-file HTML page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from conformance.apis import discover
from conformance.results import CaseResult, RunResult, Suite, Violation
from conformance.rules import Rule, rule_matrix

# The suites the rule matrix reads its results from: a drift run replays exchanges and judges no rule.
RULE_SUITES = frozenset({Suite.SCENARIOS, Suite.FUZZ, Suite.BOUNDARIES, Suite.CONCURRENCY})


def suites_run(result: RunResult) -> list[str]:
    """The suites of the run, in the order of `Suite` (drift when a recording was replayed)."""
    seen = {case.suite for case in result.cases} | ({Suite.DRIFT} if result.recording else set())
    return [suite.value for suite in Suite if suite in seen]


def title(result: RunResult) -> str:
    """What ran, against what: `Drift report · zoho-desk at URL · recording zoho.har`."""
    suites = suites_run(result)
    kind = "Drift report" if suites == [Suite.DRIFT.value] else "Conformance report"
    parts = [f"{kind} ({', '.join(suites)})" if kind == "Conformance report" and suites else kind]
    targets = ", ".join(f"{api} at {url}" for api, url in result.targets.items())
    parts.append(targets or "no target")
    if result.recording:
        parts.append(f"recording {result.recording}")
    return " · ".join(parts)


def violations_by_rule(
    cases: Iterable[CaseResult], *, documented: bool | None = None
) -> dict[str, list[tuple[CaseResult, Violation]]]:
    """Every violation (or only those of documented rules, or only the others), grouped by the rule it breaks,
    rules in the order first met."""
    grouped: dict[str, list[tuple[CaseResult, Violation]]] = defaultdict(list)
    for case in cases:
        for violation in case.violations:
            if documented is None or violation.basis.documented == documented:
                grouped[violation.rule].append((case, violation))
    return dict(grouped)


def documented_by_rule(cases: Iterable[CaseResult]) -> dict[str, list[tuple[CaseResult, Violation]]]:
    """Violations of documented rules: what fails a run."""
    return {rule: items for rule, items in violations_by_rule(cases, documented=True).items()}


def differences_by_rule(cases: Iterable[CaseResult]) -> dict[str, list[tuple[CaseResult, Violation]]]:
    """Differences from our inferences and from HTTP hygiene: reported apart, failing only --strict."""
    return {rule: items for rule, items in violations_by_rule(cases, documented=False).items()}


def rules_by_api(result: RunResult) -> dict[str, list[Rule]]:
    """The rule matrix of every API the run tested, with this run's results (none for a drift run)."""
    if not {case.suite for case in result.cases} & RULE_SUITES:
        return {}
    apis = discover()
    return {
        name: rule_matrix(apis[name], [case for case in result.cases if case.api == name])
        for name in result.targets
        # a drift replay judges no documented rule: its report lists only the rules it compared
        if name in apis and any(case.suite != Suite.DRIFT for case in result.cases if case.api == name)
    }


def write_html(result: RunResult, path: Path) -> None:
    """The single-file HTML report; its renderer (Jinja2, markdown-it) is imported only when one is asked for."""
    from conformance.reporting import html

    html.write(result, path)
