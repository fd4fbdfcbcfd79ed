"""The shared spec model as the mock uses it: lookups through `allOf`, validation as structured errors."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.engine.spec import SpecView
from openapi_model import SpecError, document, load_yaml_file

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


def parses_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every YAML text `openapi_model` parses, as it parses it."""
    parsed: list[str] = []
    parse = document.load_yaml

    def counting(source):
        parsed.append(source)
        return parse(source)

    monkeypatch.setattr(document, "load_yaml", counting)
    return parsed


@pytest.mark.parametrize("name", ["abillity", "elevate", "revnue", "zoho-desk"])
def test_a_spec_kept_parsed_is_the_spec_parsed(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = DEFAULT_SPEC_DIR / f"{name}.yaml"
    parsed = parses_counted(monkeypatch)
    fresh = SpecView.load(path)
    first, again = (SpecView.load(path, cache_dir=tmp_path) for _ in range(2))
    assert fresh.raw == first.raw == again.raw  # integer keys (response codes) stay integers
    assert len(parsed) == 2  # without the cache, then once for both loads with it
    again.raw["x-mutated"] = True  # each load has its own data
    assert "x-mutated" not in SpecView.load(path, cache_dir=tmp_path).raw


def test_a_changed_file_is_parsed_again_never_read_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    parsed = parses_counted(monkeypatch)
    spec = tmp_path / "spec.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: one}\npaths: {}\n")
    assert load_yaml_file(spec, tmp_path / "cache")["info"]["title"] == "one"
    spec.write_text("openapi: 3.0.3\ninfo: {title: two}\npaths: {}\n")
    assert load_yaml_file(spec, tmp_path / "cache")["info"]["title"] == "two"
    assert len(parsed) == 2
    for kept in (tmp_path / "cache").rglob("*"):
        if kept.is_file():
            kept.write_bytes(kept.read_bytes()[:5])  # a damaged cache entry is parsed again
    assert load_yaml_file(spec, tmp_path / "cache")["info"]["title"] == "two"
    assert len(parsed) == 3


def test_data_marshal_cannot_keep_is_parsed_each_time(tmp_path: Path):
    spec = tmp_path / "dated.yaml"
    spec.write_text("when: 2026-11-01\n")
    assert load_yaml_file(spec, tmp_path / "cache") == load_yaml_file(spec) == {"when": dt.date(2026, 11, 1)}
    assert not any(path.is_file() for path in (tmp_path / "cache").rglob("*"))


def test_a_spec_kept_resolved_is_the_spec_resolved_with_one_object_per_reference(tmp_path: Path):
    """`ApiSpec.load` with a cache keeps the parsed and resolved document: what comes back is equal to a
    fresh load, and a schema reached by two references is still one object (callers key caches on it)."""
    path = tmp_path / "spec.yaml"
    path.write_text(
        "openapi: 3.0.3\npaths:\n  /a:\n    post:\n      requestBody:\n        content:\n          application/json:\n"
        "            schema: {$ref: '#/components/schemas/Pair'}\n      responses: {200: {description: ok}}\n"
        "components:\n  schemas:\n    Pair:\n      type: object\n      properties:\n"
        "        left: {$ref: '#/components/schemas/Side'}\n        right: {$ref: '#/components/schemas/Side'}\n"
        "    Side: {type: string, maxLength: 3}\n"
    )
    fresh = SpecView.load(path)
    first, again = (SpecView.load(path, cache_dir=tmp_path / "cache") for _ in range(2))
    for spec in (fresh, first, again):
        assert spec.raw == fresh.raw and spec.resolved == fresh.resolved
        pair = spec.schema("Pair")
        assert pair["properties"]["left"] is pair["properties"]["right"] is spec.schema("Side")
        assert spec.operations[0].request_schema("application/json") is pair
        assert 200 in spec.raw["paths"]["/a"]["post"]["responses"]
    assert again.raw is not first.raw and again.resolved is not first.resolved  # each load has its own data
    assert len([entry for entry in (tmp_path / "cache" / "spec").iterdir()]) == 1


def test_a_changed_spec_is_resolved_again_and_a_broken_one_refused_every_time(tmp_path: Path):
    path, cache = tmp_path / "spec.yaml", tmp_path / "cache"
    path.write_text("openapi: 3.0.3\ncomponents: {schemas: {A: {type: string, maxLength: 1}}}\n")
    assert SpecView.load(path, cache_dir=cache).schema("A")["maxLength"] == 1
    path.write_text("openapi: 3.0.3\ncomponents: {schemas: {A: {type: string, maxLength: 2}}}\n")
    assert SpecView.load(path, cache_dir=cache).schema("A")["maxLength"] == 2
    path.write_text("openapi: 3.0.3\ncomponents: {schemas: {A: {$ref: '#/components/schemas/Nope'}}}\n")
    for _ in range(2):
        with pytest.raises(SpecError, match="unresolvable reference"):
            SpecView.load(path, cache_dir=cache)
    path.write_text("- not a mapping\n")
    with pytest.raises(SpecError, match="not an OpenAPI document"):
        SpecView.load(path, cache_dir=cache)
    assert len(list((cache / "spec").iterdir())) == 2  # the two valid versions only


def test_a_spec_is_resolved_again_when_the_resolver_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The cache key holds the resolver's own code: a changed resolver never reads what the old one kept."""
    path, cache = tmp_path / "spec.yaml", tmp_path / "cache"
    path.write_text("openapi: 3.0.3\ncomponents: {schemas: {A: {type: string}}}\n")
    SpecView.load(path, cache_dir=cache)
    resolve = document._resolve_references

    def marking(raw, source):  # another resolver: its code differs
        resolved = resolve(raw, source)
        resolved["x-marked"] = True
        return resolved

    monkeypatch.setattr(document, "_resolve_references", marking)
    document._resolver_identity.cache_clear()
    try:
        assert SpecView.load(path, cache_dir=cache).resolved.get("x-marked") is True
    finally:
        monkeypatch.undo()
        document._resolver_identity.cache_clear()
    assert "x-marked" not in SpecView.load(path, cache_dir=cache).resolved
