"""The JSON report: the whole run, machine-readable."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from conformance.reporting import rules_by_api
from conformance.results import CaseResult, Evidence, Outcome, RunResult

FORMAT_VERSION = 2  # 2: evidence classes, the `differs` outcome, unrestored and created records


def as_dict(result: RunResult) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "exit_code": int(result.exit_code),
        "fatal": result.fatal or None,
        "seed": result.seed,
        "duration": round(result.duration, 3),
        "targets": result.targets,
        "strict": result.strict,
        "summary": {outcome.value: result.count(outcome) for outcome in Outcome},
        "by_evidence": {
            evidence.value: sum(1 for violation in result.violations if violation.evidence == evidence)
            for evidence in Evidence
        },
        "unrestored": [dataclasses.asdict(record) for record in result.unrestored],
        "created": result.created,
        "cases": [_case(case) for case in result.cases],
        "rules": {api: [rule.as_dict() for rule in rules] for api, rules in rules_by_api(result).items()},
    }


def _case(case: CaseResult) -> dict[str, Any]:
    data = dataclasses.asdict(case)
    data["evidence"] = case.evidence.value
    for violation, as_data in zip(case.violations, data["violations"], strict=True):
        as_data["evidence"] = violation.evidence.value
        as_data["because"] = violation.basis.source
        as_data["explanation"] = violation.explanation
        del as_data["basis"]
    data["basis"] = {"evidence": case.basis.evidence.value, "source": case.basis.source}
    return data


def render(result: RunResult) -> str:
    return json.dumps(as_dict(result), indent=2, ensure_ascii=False) + "\n"


def write(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
