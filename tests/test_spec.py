"""The shared spec model as the mock uses it: lookups through `allOf`, validation as structured errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.engine.spec import SpecView
from openapi_model import SpecError

SCHEMAS = {
    "Base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "maxLength": 3}}},
    "Closed": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
    "Full": {
        "allOf": [{"$ref": "#/components/schemas/Base"}],
        "required": ["b"],
        "properties": {
            "b": {"type": "string", "enum": ["x", "y"]},
            "n": {"type": "integer", "nullable": True},
            "when": {"type": "string", "format": "date"},
        },
    },
}
SPEC = SpecView(
    {
        "openapi": "3.0.3",
        "paths": {
            "/things/{thing_id}": {
                "parameters": [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "get": {"operationId": "getThing", "responses": {}},
                "patch": {"operationId": "updateThing", "responses": {}},
            }
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"oauth": {"type": "oauth2", "x-auth-prefix": "Word"}},
        },
    }
)


def test_lookups_read_constraints_from_the_schema():
    assert SPEC.max_length("Base", "a") == 3
    assert SPEC.enum("Full", "b") == ["x", "y"]


def test_references_are_resolved_to_one_shared_object():
    assert SPEC.schema("Full")["allOf"][0] is SPEC.schema("Base")


def test_all_of_parts_are_merged_for_required_and_properties():
    assert sorted(SPEC.required("Full")) == ["a", "b"]
    assert sorted(SPEC.property_names("Full")) == ["a", "b", "n", "when"]


def test_validate_gives_each_violation_as_data():
    errors = SPEC.validate("Full", {"a": "long", "b": "z", "n": "1"})
    assert {(e.dotted, e.code, repr(e.limit), repr(e.value)) for e in errors} == {
        ("a", "maxLength", "3", "'long'"),
        ("b", "enum", "['x', 'y']", "'z'"),
        ("n", "type", "'integer'", "'1'"),
    }
    assert [(e.dotted, e.code, e.value) for e in SPEC.validate("Closed", {"a": "ok", "extra": 1})] == [
        ("extra", "unknown", 1)
    ]


def test_a_missing_member_is_reported_at_its_own_location():
    errors = SPEC.validate("Full", {"a": "ok", "n": 1})
    assert [(e.location, e.code) for e in errors] == [(("b",), "required")]


def test_nullable_members_accept_null():
    assert SPEC.validate("Full", {"a": "ok", "b": "x", "n": None}) == []


def test_operations_carry_merged_parameters_and_a_path_regex():
    patch = SPEC.operation_for("PATCH", "/things/42")
    assert patch is not None and patch.operation_id == "updateThing"
    assert [p["name"] for p in patch.parameters] == ["thing_id"]
    assert patch.path_arguments("/things/42") == {"thing_id": "42"}
    assert SPEC.operation_for("PATCH", "/things/42/more") is None
    assert SPEC.methods_for("/things/7") == ["GET", "PATCH"]


def test_the_auth_word_comes_from_the_spec():
    assert SPEC.auth_prefix == "Word"
    assert SpecView({"openapi": "3.0.3"}).auth_prefix == "Bearer"


def test_a_dangling_reference_is_a_spec_error():
    with pytest.raises(SpecError, match="unresolvable reference"):
        SpecView({"components": {"schemas": {"A": {"$ref": "#/components/schemas/Nope"}}}})


def test_a_missing_file_is_a_spec_error(tmp_path: Path):
    with pytest.raises(SpecError, match="no such spec"):
        SpecView.load(tmp_path / "nope.yaml")


def test_the_harness_reads_specs_without_importing_the_mock():
    code = (
        "import sys, conformance.apis, conformance.restore, openapi_model; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mock_server'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
