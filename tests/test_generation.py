"""Schemathesis can generate requests for every operation of every spec (issue 21).

The harness's fuzzing and stateful phases rest on this: an over-constrained schema (a pattern
that only rarely meets its format, contradictory `allOf` members) ends a run in "Cannot generate
test data". Generation goes through Schemathesis' public API, bounded per operation.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from mock_server.config import DEFAULT_SPEC_DIR

SPECS = sorted(DEFAULT_SPEC_DIR.glob("*.yaml"))
EXAMPLES_PER_OPERATION = 10


@functools.cache
def operations(path: Path) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_path(path)
    return [result.ok() for result in schema.get_all_operations()]


CASES = [
    pytest.param(path, operation.label, id=f"{path.stem}:{operation.label}")
    for path in SPECS
    for operation in operations(path)
]


@pytest.mark.parametrize(("path", "label"), CASES)
def test_schemathesis_generates_valid_cases_for_the_operation(path: Path, label: str) -> None:
    operation = next(op for op in operations(path) if op.label == label)
    generated: list[object] = []

    @given(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    def generate(case: schemathesis.Case) -> None:
        generated.append(case)

    generate()
    assert generated
