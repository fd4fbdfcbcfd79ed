"""A quick first verdict on an instance: jsonschema-rs, asked only what it answers as jsonschema does.

Most requests are valid, and for a valid instance jsonschema's work is all overhead (a generator per
keyword, a validator per subschema). jsonschema-rs answers "valid or not" in a fraction of the time.
It must never call valid what the mock's jsonschema validator refuses, so it is given a copy of the
schema that keeps only the keywords it evaluates exactly as Draft 4 does (types, lengths, bounds,
`required`, `properties`, `items`, `allOf`, `anyOf`), with Connexion's `nullable` written out as
Draft 4 (`null` added to `type` and `enum`). Every other keyword jsonschema knows (`pattern`, a
`format` its format checker checks, `multipleOf`, `uniqueItems`, `patternProperties`, `not`,
`oneOf`…) stays jsonschema's: jsonschema-rs calls
back the mock's own keyword functions for it (a custom keyword), so the regex dialect, the formats
and the decimal `multipleOf` are the very ones of the full validation. Keywords jsonschema does not
know (`readOnly`, `example`, `x-…`) are left out, as jsonschema ignores them.

As in jsonschema's own validators (`mock_server._compat.ValidScalars`), a scalar these keywords found
valid is remembered, so a JSON Pointer or an e-mail address met again is not matched again.

Only a "valid" is trusted: anything else (invalid, an instance jsonschema-rs cannot take, a schema it
cannot build) goes to jsonschema, whose errors are reported as always. `tests/test_quick_check.py`
checks the verdict against jsonschema's on every subschema of every spec, with values on both sides
of each of the spec's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mock_server._compat import ValidScalars

# Draft 4 keywords jsonschema-rs evaluates as jsonschema does, taken as written (subschemas transformed). Only
# keywords where a stricter subschema can only make the whole stricter: `not` and `oneOf` (where a branch
# refused by mistake could let the whole pass) are jsonschema's, and so is `additionalProperties` beside
# `patternProperties` (which jsonschema-rs is not given).
NATIVE = frozenset(
    {
        "type", "enum", "required", "properties", "additionalProperties", "items", "allOf", "anyOf",
        "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minItems", "maxItems", "minProperties", "maxProperties",
    }
)  # fmt: skip
PYTHON_KEYWORDS = "x-mock-python-keywords"  # the custom keyword that hands the others back to jsonschema
Check = Callable[[Any], bool]
# A scalar the keywords left to jsonschema passed once passes again (a JSON Pointer, an e-mail address): one
# store for every schema (keyed by subschema), so its bound is the memory's bound.
remembered = ValidScalars()


class Unsupported(Exception):
    """A schema this module does not hand to jsonschema-rs."""


def quick_check(validator: Any) -> Check | None:
    """A function that says True only of instances `validator` (a jsonschema validator of the mock's,
    for a schema that reaches no `$ref`) finds no error in; None when the schema cannot have one."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a runtime dependency
        return None
    delegated: list[tuple[Any, Mapping[str, Any], list[tuple[str, Any]]]] = []
    try:
        translated = _translated(validator.schema, validator, delegated)
    except Unsupported:
        return None

    class PythonKeywords:
        """The keywords left to jsonschema, run by the mock's own jsonschema validator of the subschema."""

        def __init__(self, parent_schema: Any, value: int, schema_path: Any) -> None:
            self._validator, self._schema, self._keywords = delegated[value]

        def validate(self, instance: Any) -> None:
            key = remembered.key(self._schema, self._validator, instance)
            if key is not None and remembered.holds(key, self._schema):
                return
            for keyword, limit in self._keywords:
                for error in self._validator.VALIDATORS[keyword](self._validator, limit, instance, self._schema) or ():
                    raise ValueError(keyword) from error
            if key is not None:
                remembered.remember(key, self._schema)

    try:
        checker = jsonschema_rs.Draft4Validator(
            translated, validate_formats=False, keywords={PYTHON_KEYWORDS: PythonKeywords}
        )
    except Exception:  # a schema jsonschema-rs refuses: jsonschema alone, as before
        return None

    def is_valid(instance: Any) -> bool:
        try:
            return bool(checker.is_valid(instance))
        except Exception:  # a value jsonschema-rs cannot take (a lone surrogate, a set…): jsonschema decides
            return False

    return is_valid


def _translated(schema: Any, validator: Any, delegated: list[Any]) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise Unsupported(schema)  # boolean schemas: not Draft 4
    known = validator.VALIDATORS
    nullable = schema.get("x-nullable") is True or bool(schema.get("nullable"))
    translated: dict[str, Any] = {}
    left: list[tuple[str, Any]] = []
    for keyword, value in schema.items():
        if keyword == "format" and not _checked_format(validator, value):
            continue  # jsonschema's `format` passes every value of a format its checker has no check for
        if keyword not in NATIVE or (keyword == "additionalProperties" and "patternProperties" in schema):
            if keyword in known:
                left.append((keyword, value))
            continue
        translated[keyword] = _native(keyword, value, nullable, validator, delegated)
    if left:
        delegated.append((validator, schema, left))
        translated[PYTHON_KEYWORDS] = len(delegated) - 1
    return translated


def _native(keyword: str, value: Any, nullable: bool, validator: Any, delegated: list[Any]) -> Any:
    def sub(subschema: Any) -> dict[str, Any]:
        if not isinstance(subschema, dict):
            raise Unsupported(subschema)  # `items` as a list of schemas (tuples), a boolean schema
        return _translated(subschema, validator.evolve(schema=subschema), delegated)

    if keyword == "properties":
        if not isinstance(value, dict):
            raise Unsupported(keyword)
        return {name: sub(subschema) for name, subschema in value.items()}
    if keyword in ("allOf", "anyOf"):
        if not isinstance(value, list):
            raise Unsupported(keyword)
        return [sub(subschema) for subschema in value]
    if keyword == "items" or (keyword == "additionalProperties" and not isinstance(value, bool)):
        return sub(value)
    if keyword in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
        raise Unsupported(keyword)  # Draft 4 writes them as booleans
    if keyword == "type" and nullable:
        types = [value] if isinstance(value, str) else list(value)
        return types if "null" in types else [*types, "null"]
    if keyword == "enum" and nullable and isinstance(value, list):
        return value if None in value else [*value, None]
    return value


def _checked_format(validator: Any, name: Any) -> bool:
    checker = validator.format_checker
    return checker is not None and isinstance(name, str) and name in checker.checkers
