"""Every schema of a spec, and instances and scalar probes generated from it, for tests that compare a
validator's report with jsonschema's own (`tests/test_serve_internals.py`, `tests/test_quick_check.py`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.state.fixtures import load_fixtures
from mock_server.vendors import discover
from openapi_model import ApiSpec, violations


def schemas(spec: ApiSpec) -> list[dict[str, Any]]:
    schemas = [spec.schema(name) for name in spec.raw.get("components", {}).get("schemas", {})]
    for operation in spec.operations:
        for content in operation.request_body.get("content", {}).values():
            if "schema" in content:
                schemas.append(content["schema"])
    return schemas


def instances(spec: ApiSpec, seed: Any) -> list[Any]:
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from mix import with_wrong_types  # bench/mix.py: every scalar of another JSON type

    examples: list[Any] = []
    for operation in spec.operations:
        for content in operation.request_body.get("content", {}).values():
            examples += [content["example"]] if "example" in content else []
            examples += [e["value"] for e in content.get("examples", {}).values() if "value" in e]
    records = [record for rows in seed.values() for record in list(rows.values())[:3]]
    found = [*examples, *records]
    return [*found, *(with_wrong_types(value) for value in found), {}, [], None, "text", 7, {"id": None}]


def report(validator: Any, instance: Any) -> list[tuple[Any, ...]]:
    return [
        (v.location, v.keyword, v.message, repr(v.limit), repr(v.value))
        for v in violations(validator.iter_errors(instance))
    ]


SUBSCHEMA_KEYWORDS = ("allOf", "anyOf", "oneOf", "items", "additionalItems", "additionalProperties", "not")
EVERY_TYPE = (True, False, 0, 1, -1, 2**31, 2**63, 2**64, 0.0, -0.0, 0.5, 1.5, -1e300, "", " ", "1", "text", None)


def subschemas(schema: Any, found: dict[int, dict[str, Any]]) -> None:
    """Every schema below `schema` (itself included) a validator descends into."""
    if isinstance(schema, list):
        for item in schema:
            subschemas(item, found)
    if not isinstance(schema, dict) or id(schema) in found:
        return
    found[id(schema)] = schema
    for keyword, value in schema.items():
        if keyword in ("properties", "patternProperties", "definitions", "dependencies") and isinstance(value, dict):
            subschemas(list(value.values()), found)
        elif keyword in SUBSCHEMA_KEYWORDS:
            subschemas(value, found)


def probes(schema: dict[str, Any]) -> list[Any]:
    """Scalars on both sides of each limit the spec gives `schema`: lengths, bounds, steps, enums, examples."""
    probes: list[Any] = [*schema.get("enum", []), *[schema[k] for k in ("example", "default") if k in schema]]
    for keyword in ("minLength", "maxLength"):
        if isinstance(schema.get(keyword), int):
            probes += ["x" * max(0, schema[keyword] + step) for step in (-1, 0, 1)]
    for keyword in ("minimum", "maximum", "multipleOf"):
        if isinstance(schema.get(keyword), (int, float)) and not isinstance(schema[keyword], bool):
            limit = schema[keyword]
            probes += [limit, limit - 1, limit + 1, limit * 3, limit + 0.5, float(limit), str(limit)]
    if "enum" in schema:
        probes += [str(choice).upper() for choice in schema["enum"]]
    return probes


def scalars(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [scalar for item in value.values() for scalar in scalars(item)]
    if isinstance(value, list):
        return [scalar for item in value for scalar in scalars(item)]
    return [value]


def probe_pool(spec: ApiSpec, seed: Any, subschemas: list[dict[str, Any]]) -> list[Any]:
    """Every probe of every subschema of the spec, every scalar of its examples and seed, and one of each JSON type
    (so a value valid against one member meets every other member's schema too)."""
    pool = [*EVERY_TYPE, *(probe for schema in subschemas for probe in probes(schema))]
    pool += scalars(instances(spec, seed))
    unique: dict[tuple[Any, ...], Any] = {}
    for value in pool:
        unique.setdefault((type(value), repr(value)), value)
    return list(unique.values())


def spec_cases(api: str) -> tuple[ApiSpec, Any, list[dict[str, Any]]]:
    spec = ApiSpec.load(DEFAULT_SPEC_DIR / f"{api}.yaml")
    seed = load_fixtures(discover()[api], DEFAULT_FIXTURES_DIR).seed
    found: dict[int, dict[str, Any]] = {}
    subschemas(schemas(spec), found)
    for operation in spec.operations:
        subschemas([parameter.get("schema", {}) for parameter in operation.parameters], found)
    return spec, seed, list(found.values())
