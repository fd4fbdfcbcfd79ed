"""Reports of a run: console summary, JUnit XML, JSON and a single-file HTML page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from conformance.results import CaseResult, Violation


def violations_by_rule(cases: Iterable[CaseResult]) -> dict[str, list[tuple[CaseResult, Violation]]]:
    """Every violation, grouped by the rule it breaks, rules in the order first met."""
    grouped: dict[str, list[tuple[CaseResult, Violation]]] = defaultdict(list)
    for case in cases:
        for violation in case.violations:
            grouped[violation.rule].append((case, violation))
    return dict(grouped)
