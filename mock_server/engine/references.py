"""References between records (`Vendor.references`), checked for fixtures and for requests alike."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mock_server.engine.errors import FieldError

Exists = Callable[[str, object], bool]  # (collection, id) -> does it exist?
Location = tuple[str | int, ...]
# A dotted path split once: each step a member name, and whether it fans out over a list (`[]`).
Steps = tuple[tuple[str, bool], ...]


@functools.lru_cache(maxsize=256)  # a handful of distinct paths, each checked on every write
def _steps(dotted: str) -> Steps:
    return tuple((part[:-2], True) if part.endswith("[]") else (part, False) for part in dotted.split("."))


def values_at(record: Any, dotted: str) -> Iterator[tuple[Location, Any]]:
    """Every (location, value) at a dotted path; a `[]` suffix fans out over list elements."""
    return _values(record, _steps(dotted), 0, ())


def _values(node: Any, steps: Steps, index: int, location: Location) -> Iterator[tuple[Location, Any]]:
    # Plain members are followed in a loop; only a fan-out recurses, once per list element.
    while index < len(steps):
        name, each = steps[index]
        if not isinstance(node, dict):
            return
        child = node.get(name)
        if child is None:
            return
        location = (*location, name)
        index += 1
        if each:
            if isinstance(child, list):
                for position, item in enumerate(child):
                    yield from _values(item, steps, index, (*location, position))
            return
        node = child
    yield location, node


def dangling(fields: Mapping[str, str], record: Mapping[str, Any], exists: Exists) -> list[FieldError]:
    """A `FieldError` for each reference in `record` whose target record does not exist."""
    errors = []
    for dotted, collection in fields.items():
        steps = _steps(dotted)
        if len(steps) == 1 and not steps[0][1]:  # a top-level member: the common case, without a generator
            value = record.get(steps[0][0])
            if value is not None and not exists(collection, value):
                errors.append(FieldError((steps[0][0],), f"No {collection} record with id {value}"))
            continue
        for location, value in _values(record, steps, 0, ()):
            if value is not None and not exists(collection, value):
                errors.append(FieldError(location, f"No {collection} record with id {value}"))
    return errors
