"""jsonschema-rs's quick verdict (`mock_server/engine/quick_check.py`) is jsonschema's own verdict.

On every subschema of every spec, against scalars on both sides of each of the spec's limits, and on
each schema with instances from the spec's examples and seeds (each member changed to each of its
probes, every scalar of another type): the quick check says "valid" exactly when the mock's jsonschema
validator finds no error (also the second time, when the keywords left to jsonschema remember the
scalars they passed), and the mock's validation of a schema reports exactly jsonschema's errors.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema.validators import extend

from mock_server.engine.quick_check import quick_check
from mock_server.engine.spec import FORMAT_CHECKER, RequestSchema, _decimal_request_validator, request_validator
from mock_server.vendors import discover
from tests.support.schema_probes import EVERY_TYPE, instances, probe_pool, probes, report, schemas, spec_cases

# values jsonschema-rs cannot take or may read otherwise than Python: they must still get jsonschema's verdict
AWKWARD = ("\ud800", "2027-01-01\n", "/a\n", "٣", 2**64 + 1, -(2**70), 1e308, 5e-324, 10.000000000000002)


def _library(schema: dict[str, Any]) -> Any:
    return extend(_decimal_request_validator(), {})(schema, format_checker=FORMAT_CHECKER)


def _valid(validator: Any, instance: Any) -> bool:
    return next(iter(validator.iter_errors(instance)), None) is None


@pytest.mark.parametrize("api", sorted(discover()))
def test_the_quick_verdict_is_jsonschemas_on_every_subschema(api: str) -> None:
    spec, seed, every_subschema = spec_cases(api)
    pool = [*probe_pool(spec, seed, every_subschema), *AWKWARD]
    quick_valid = 0
    for schema in every_subschema:
        quick, library = quick_check(request_validator(schema)), _library(schema)
        assert quick is not None, schema
        for value in pool:
            expected = _valid(library, value)
            for _ in range(2):  # the second time, what the keywords left to jsonschema remembered
                assert quick(value) == expected or (value in AWKWARD and not quick(value)), (schema, value)
            quick_valid += expected
    assert quick_valid > len(every_subschema), "valid values were tried"


@pytest.mark.parametrize("api", sorted(discover()))
def test_the_quick_verdict_is_jsonschemas_on_every_schema_and_the_errors_are_jsonschemas(api: str) -> None:
    spec, seed, _ = spec_cases(api)
    every_instance = instances(spec, seed)
    objects = [instance for instance in every_instance if isinstance(instance, dict)]
    for schema in schemas(spec):
        quick, library, mock = quick_check(request_validator(schema)), _library(schema), RequestSchema(schema)
        assert quick is not None, schema
        members = schema.get("properties", {})
        base = min(objects, key=lambda candidate: len(report(library, candidate)), default={})
        changed = [{**base, member: value} for member in members for value in [*probes(members[member]), *EVERY_TYPE]]
        for instance in [*every_instance, *changed]:
            assert quick(instance) == _valid(library, instance), (schema.get("description"), instance)
            assert report(mock, instance) == report(library, instance)


def test_nullable_is_read_as_connexion_reads_it() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "nullable": True, "enum": [1, 2]}}}
    quick = quick_check(request_validator(schema))
    assert quick is not None
    assert [quick({"a": value}) for value in (None, 1, 3, "1")] == [True, True, False, False]
    assert quick_check(request_validator({"type": "string"})) is not None


def test_keywords_left_to_jsonschema_are_judged_by_jsonschema() -> None:
    # Python's `$` also matches before a final newline; the decimal `multipleOf` takes 0.07 as 7 steps of 0.01
    schema = {"properties": {"code": {"type": "string", "pattern": "^[0-9]{4}$"}, "amount": {"multipleOf": 0.01}}}
    quick = quick_check(request_validator(schema))
    assert quick is not None
    assert quick({"code": "2024\n", "amount": 0.07}) is True
    assert quick({"code": "20245"}) is False
    assert quick({"amount": 0.071}) is False


def test_a_schema_jsonschema_rs_is_not_given_is_validated_by_jsonschema_alone() -> None:
    assert quick_check(request_validator({"items": [{"type": "string"}]})) is None  # Draft 4 tuple items
    assert quick_check(request_validator({"maximum": 3, "exclusiveMaximum": 1})) is None
    mock = RequestSchema({"items": [{"type": "string"}]})
    assert [error.validator for error in mock.iter_errors([1])] == ["type"]


def test_keywords_where_a_mistake_could_pass_are_jsonschemas() -> None:
    # were jsonschema-rs to refuse a value of a branch jsonschema takes, `not` and `oneOf` would let it pass
    schema = {
        "properties": {
            "a": {"not": {"type": "string", "pattern": "^x$"}},
            "b": {"oneOf": [{"type": "integer"}, {"type": "number", "multipleOf": 0.5}]},
            "c": {"patternProperties": {"^n": {"type": "integer"}}, "additionalProperties": False},
        }
    }
    quick, library = quick_check(request_validator(schema)), _library(schema)
    assert quick is not None
    for instance in ({"a": "x"}, {"a": "y"}, {"b": 1}, {"b": 1.5}, {"b": 1.25}, {"c": {"n": 1}}, {"c": {"m": 1}}):
        assert quick(instance) == _valid(library, instance), instance
