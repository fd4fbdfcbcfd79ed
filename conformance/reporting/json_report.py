"""The JSON report: the whole run, machine-readable."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from conformance.reporting import rules_by_api
from conformance.results import Outcome, RunResult

FORMAT_VERSION = 1


def as_dict(result: RunResult) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "exit_code": int(result.exit_code),
        "fatal": result.fatal or None,
        "seed": result.seed,
        "duration": round(result.duration, 3),
        "targets": result.targets,
        "summary": {outcome.value: result.count(outcome) for outcome in Outcome},
        "cases": [dataclasses.asdict(case) for case in result.cases],
        "rules": {api: [rule.as_dict() for rule in rules] for api, rules in rules_by_api(result).items()},
    }


def render(result: RunResult) -> str:
    return json.dumps(as_dict(result), indent=2, ensure_ascii=False) + "\n"


def write(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
