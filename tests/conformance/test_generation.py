"""Every request body of every spec can be generated, valid and invalid: a check that cannot generate a case
would otherwise run nothing (the harness reports it as "not run", never as passed)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from conformance.apis import discover

WRITES = [
    (api, operation)
    for api in discover().values()
    for operation in api.operations()
    if "requestBody" in operation.definition
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("api", "operation"), WRITES, ids=[f"{a.name} {o.label}" for a, o in WRITES])
def test_request_bodies_can_be_generated(api: Any, operation: Any, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_path(api.spec_path)
    generated = []

    @settings(max_examples=5, suppress_health_check=list(HealthCheck), deadline=None, database=None)
    @given(schema[operation.path][operation.method].as_strategy(generation_mode=mode))
    def draw(case: schemathesis.Case[Any]) -> None:
        generated.append(case)

    draw()
    assert generated
