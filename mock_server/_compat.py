"""The one internal of a library the mock relies on, with the versions it was checked against.

ASGI has no message for "close the connection without answering", yet the `reset` and `empty`
faults need exactly that (and `truncated` needs to close after part of a body without uvicorn
logging an error). uvicorn's `receive` callable is a bound method of its request-response cycle,
whose `transport` is the connection's asyncio transport. `tests/test_faults.py` checks that the
transport is found and that the client sees a reset and an empty reply.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import socket
import struct
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

CHECKED_UVICORN = ((0, 30), (1, 0))  # [from, to)


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in text.split("."))
    return major, minor


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


# -- One write per response --------------------------------------------------------------------------------
# uvicorn's httptools protocol writes a response's head and its body with two `transport.write` calls: two
# system calls and two TCP segments on every response, about a fifth of the server's CPU on loopback
# (bench/README.md, "Throughput"). `CoalescingHttpToolsProtocol` is uvicorn's protocol, handed a transport
# that holds writes until the response is complete (`on_response_complete`, an internal hook) or, for any
# other write (a streamed body, a 100-continue), until the event loop's next turn. The bytes sent are the
# same. `http_protocol()` returns it only for the checked uvicorn versions (else uvicorn's own choice):
# `tests/test_http_protocol.py` checks one write per response and every path that closes a connection.


class CoalescingTransport:
    """An asyncio transport that joins the writes of one turn of the event loop into one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._flush_scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending.append(bytes(data))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self.transport.is_closing():
            self.transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._pending)

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._pending.clear()  # an abort sends nothing more
        self.transport.abort()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, is_closing, pause_reading, set_protocol…
        return getattr(self.transport, name)


def _uvicorn_checked() -> bool:
    low, high = CHECKED_UVICORN
    return low <= _version(uvicorn.__version__) < high


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing each response in one system call."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast("asyncio.Transport", CoalescingTransport(transport, self.loop)))

    def on_response_complete(self) -> None:
        if isinstance(self.transport, CoalescingTransport):
            self.transport.flush()
        super().on_response_complete()


def http_protocol() -> type[asyncio.Protocol] | str:
    """The `http` option of `uvicorn.Config` the mock serves with."""
    return CoalescingHttpToolsProtocol if _uvicorn_checked() else "auto"


# -- Validators built once per subschema --------------------------------------------------------------------
# jsonschema's `descend` (every property, item and anyOf branch of every request) builds a new validator
# with `evolve(schema=…, _resolver=…)`: an attrs object, a resolver and the keyword list, about half of the
# CPU a request body's validation takes. For a schema from which no `$ref` can be reached the
# resolver is never asked for anything, so the validator of each subschema can be kept and handed out again.
# `evolve` is internal; `tests/test_compat.py` checks that validators of this class still report what the
# library's own do.
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

    kept_class.evolve = evolve
    return kept_class
