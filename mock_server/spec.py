"""The vendor specs, loaded once, and the lookups rules modules need from them.

Rules modules read lengths, enums and required fields from here instead of restating them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from connexion.json_schema import Draft4RequestValidator
from connexion.spec import Specification
from jsonschema import Draft4Validator

from mock_server.errors import FieldError
from mock_server.validation import FORMAT_CHECKER

# libyaml's loader where PyYAML was built with it: parsing the specs is most of the start-up time
FAST_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(Exception):
    """A spec that cannot be served: missing, unreadable or invalid."""


def load_specification(path: Path) -> Specification:
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=FAST_YAML_LOADER)
        return Specification.from_dict(document, base_uri=path.resolve().as_uri())
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: no such spec") from exc
    except Exception as exc:  # yaml errors, jsonschema errors, bad $refs: all mean "fix the spec"
        raise SpecError(f"{path}: invalid OpenAPI document: {exc}") from exc


class SpecView:
    def __init__(self, specification: Specification) -> None:
        self.raw: dict[str, Any] = specification.raw
        self.resolved: dict[str, Any] = specification.spec

    @classmethod
    def load(cls, path: Path) -> SpecView:
        return cls(load_specification(path))

    def schema(self, name: str) -> dict[str, Any]:
        """A component schema, with every `$ref` resolved."""
        try:
            return self.resolved["components"]["schemas"][name]
        except KeyError as exc:
            raise KeyError(f"no schema {name!r} in components.schemas") from exc

    def property(self, schema_name: str, dotted: str) -> dict[str, Any]:
        """The schema of a (possibly nested, dotted) property of a component schema."""
        node = self.schema(schema_name)
        for part in dotted.split("."):
            node = _properties(node)[part]
        return node

    def max_length(self, schema_name: str, dotted: str) -> int | None:
        return self.property(schema_name, dotted).get("maxLength")

    def enum(self, schema_name: str, dotted: str) -> list[Any]:
        return list(self.property(schema_name, dotted).get("enum", []))

    def required(self, schema_name: str) -> list[str]:
        return list(_merged(self.schema(schema_name)).get("required", []))

    def property_names(self, schema_name: str) -> list[str]:
        return list(_properties(self.schema(schema_name)))

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(path, method, operation) for every operation."""
        for path, item in self.resolved.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    yield path, method, item[method]

    def methods_for(self, path: str) -> list[str]:
        item = self.resolved.get("paths", {}).get(path, {})
        return [m.upper() for m in HTTP_METHODS if m in item]

    def validate(self, schema_name: str, instance: Any) -> list[FieldError]:
        """Every violation of a component schema, each with the path to its field."""
        return [
            FieldError(
                tuple(error.absolute_path), error.message, code=str(error.validator), limit=error.validator_value
            )
            for error in sorted(self._validator(schema_name).iter_errors(instance), key=_error_order)
        ]

    @functools.cache
    def _validator(self, schema_name: str) -> Draft4Validator:
        return Draft4RequestValidator(self.schema(schema_name), format_checker=FORMAT_CHECKER)


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `allOf` parts folded in (properties and required lists combined)."""
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {"properties": {}, "required": []}
    own = {key: value for key, value in schema.items() if key != "allOf"}
    for part in [own, *schema["allOf"]]:
        part = _merged(part)
        merged["properties"].update(part.get("properties", {}))
        merged["required"].extend(part.get("required", []))
    return merged


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    return _merged(schema).get("properties", {})


def _error_order(error: Any) -> tuple[str, str]:
    return (".".join(map(str, error.absolute_path)), error.message)
