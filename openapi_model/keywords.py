"""The project's `x-` keywords, read in one place for the mock, the harness, the proxy and drift.

- `x-update` on a write operation: `partial`, `replace` or `json-patch`.
- `x-null-means-unsent: true` on a write operation: a member sent as `null` is kept, and so cannot be
  cleared through the operation.
- `x-empty-means-null: true` on a request schema (a form's): an empty value binds as `null`
  (ASP.NET's `ConvertEmptyStringToNull`), and so, with `x-null-means-unsent`, as "not sent".
- `x-read-form: name` on a response member: it reads back as the name of the record sent by id.
- `x-immutable: true` on a request member: set once, when the record is created.
- `x-derived-from: [member, ...]` on a response member: computed by the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def update_semantics(definition: Mapping[str, Any]) -> str | None:
    value = definition.get("x-update")
    return str(value) if value is not None else None


def null_means_unsent(definition: Mapping[str, Any]) -> bool:
    return bool(definition.get("x-null-means-unsent"))


def empty_means_null(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("x-empty-means-null"))


def binds_as_null(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether a value as sent in a body of `schema` reaches the service as `null`."""
    return value is None or (value == "" and empty_means_null(schema))


def unsent(value: Any, definition: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    """Whether a member sent with `value` counts as not sent at all (and so leaves the stored value)."""
    return null_means_unsent(definition) and binds_as_null(value, schema)


def clearable(definition: Mapping[str, Any]) -> bool:
    """Whether the operation can set a member back to null (or empty) once it holds a value."""
    return not null_means_unsent(definition)


def read_form(member: Mapping[str, Any]) -> str | None:
    value = member.get("x-read-form")
    return str(value) if value is not None else None


def immutable(member: Mapping[str, Any]) -> bool:
    return bool(member.get("x-immutable"))


def derived_from(member: Mapping[str, Any]) -> list[str] | None:
    value = member.get("x-derived-from")
    return [str(name) for name in value] if value is not None else None
