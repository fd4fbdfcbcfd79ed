"""The internals of libraries the mock relies on, with the versions they were checked against.

uvicorn's connection transport (below) and jsonschema's `evolve` (further below, kept per subschema).

ASGI has no message for "close the connection without answering", yet the `reset` and `empty`
faults need exactly that (and `truncated` needs to close after part of a body without uvicorn
logging an error). uvicorn's `receive` callable is a bound method of its request-response cycle,
whose `transport` is the connection's asyncio transport. `tests/test_faults.py` checks that the
transport is found and that the client sees a reset and an empty reply.
"""

from __future__ import annotations

import importlib.metadata
import socket
import struct
from typing import Any

import uvicorn

CHECKED_UVICORN = ((0, 30), (1, 0))  # [from, to)


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in text.split("."))
    return major, minor


def _uvicorn_checked() -> bool:
    low, high = CHECKED_UVICORN
    return low <= _version(uvicorn.__version__) < high


def connection_transport(server_receive: Any) -> Any | None:
    """The asyncio transport behind uvicorn's `receive`, or None under another server or version."""
    if not _uvicorn_checked():
        return None
    transport = getattr(getattr(server_receive, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "abort", None)):
        return None
    return transport


def reset(transport: Any) -> None:
    """Close with a TCP RST: SO_LINGER with a zero timeout, then abort (nothing buffered is sent)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


# -- Validators built once per subschema --------------------------------------------------------------------
# jsonschema's `descend` (every property, item and anyOf branch of every request) builds a new validator
# with `evolve(schema=…, _resolver=…)`: an attrs object, a resolver and the keyword list, on every request
# (bench/README.md, "Throughput": 5–26 % of the instructions of an update). For a schema from which no `$ref`
# can be reached the resolver is never asked for anything, so the validator of each subschema can be kept
# and handed out again, and `descend` need not build the subschema's resolver first (it passes the parent's
# `_resolver` on). `evolve` and `_resolver` are internal; `tests/test_serve_internals.py` checks that
# validators of this class report exactly what the library's own do, on every schema of every spec.
CHECKED_JSONSCHEMA = ((4, 18), (5, 0))  # [from, to)
MAX_KEPT_VALIDATORS = 50_000  # the four specs have a few thousand subschemas
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})  # name -> schema
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SUBSCHEMA = frozenset({"items", "additionalItems", "additionalProperties", "not"})  # a schema (or a list: items)


def _jsonschema_checked() -> bool:
    low, high = CHECKED_JSONSCHEMA
    return low <= _version(importlib.metadata.version("jsonschema")) < high


def references_nothing(schema: Any) -> bool:
    """Whether validating against `schema` can never follow a `$ref` (no `$ref` where a keyword can be;
    what only a `$ref` could reach, such as the `components` Connexion adds, does not count)."""
    if isinstance(schema, list):
        return all(references_nothing(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if "$ref" in schema:
        return False
    for keyword, value in schema.items():
        if keyword in _SCHEMA_MAPS and isinstance(value, dict):
            subschemas: Any = list(value.values())
        elif keyword in _SCHEMA_LISTS or keyword in _SUBSCHEMA:
            subschemas = value
        else:
            continue
        if not references_nothing(subschemas):
            return False
    return True


def with_kept_subschema_validators(validator_class: Any) -> Any:
    """`validator_class` (made by `jsonschema.validators.extend` for us) keeping the validator of each
    subschema; only for schemas that `references_nothing`. Unchanged outside the checked versions."""
    if not _jsonschema_checked():
        return validator_class
    from jsonschema.validators import extend

    kept_class: Any = extend(validator_class, {})
    build = kept_class.evolve
    kept: dict[tuple[int, int], tuple[Any, Any]] = {}

    def evolve(self: Any, **changes: Any) -> Any:
        schema = changes.get("schema")
        if not isinstance(schema, dict) or not changes.keys() <= {"schema", "_resolver"}:
            return build(self, **changes)
        key = (id(schema), id(self.format_checker))
        entry = kept.get(key)
        if entry is None or entry[0] is not schema:  # the entry keeps its schema alive: ids are not reused
            if len(kept) >= MAX_KEPT_VALIDATORS:  # bounded, should a caller make schemas per request
                kept.clear()
            entry = kept[key] = (schema, build(self, **changes))
        return entry[1]

    descend_with = kept_class.descend

    def descend(
        self: Any, instance: Any, schema: Any, path: Any = None, schema_path: Any = None, resolver: Any = None
    ) -> Any:
        # Without a resolver, `descend` builds one for the subschema (a resource, a scope) that the kept
        # validator never takes and that a schema reaching no `$ref` never uses: the parent's is handed on.
        return descend_with(self, instance, schema, path, schema_path, self._resolver if resolver is None else resolver)

    kept_class.evolve = evolve
    kept_class.descend = descend
    return kept_class
