"""References between records (`Vendor.references`), checked for fixtures and for requests alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mock_server.engine.errors import FieldError

Exists = Callable[[str, object], bool]  # (collection, id) -> does it exist?


def values_at(record: Any, dotted: str) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (location, value) at a dotted path; a `[]` suffix fans out over list elements."""
    return _walk(record, dotted.split("."), ())


def _walk(node: Any, parts: list[str], location: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    # A module-level function: a nested one that calls itself is a reference cycle per call.
    if not parts:
        yield location, node
        return
    head, rest = parts[0], parts[1:]
    each = head.endswith("[]")
    name = head[:-2] if each else head
    if not isinstance(node, dict) or node.get(name) is None:
        return
    child = node[name]
    if each:
        if isinstance(child, list):
            for index, item in enumerate(child):
                yield from _walk(item, rest, (*location, name, index))
    else:
        yield from _walk(child, rest, (*location, name))


def dangling(fields: Mapping[str, str], record: Mapping[str, Any], exists: Exists) -> list[FieldError]:
    """A `FieldError` for each reference in `record` whose target record does not exist."""
    errors = []
    for dotted, collection in fields.items():
        for location, value in values_at(record, dotted):
            if value is not None and not exists(collection, value):
                errors.append(FieldError(location, f"No {collection} record with id {value}"))
    return errors
