"""The one internal of a library the mock relies on, with the versions it was checked against.

ASGI has no message for "close the connection without answering", yet the `reset` and `empty`
faults need exactly that (and `truncated` needs to close after part of a body without uvicorn
logging an error). uvicorn's `receive` callable is a bound method of its request-response cycle,
whose `transport` is the connection's asyncio transport. `tests/test_faults.py` checks that the
transport is found and that the client sees a reset and an empty reply.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import uvicorn

CHECKED_UVICORN = ((0, 30), (1, 0))  # [from, to)


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in text.split("."))
    return major, minor


def connection_transport(server_receive: Any) -> Any | None:
    """The asyncio transport behind uvicorn's `receive`, or None under another server or version."""
    low, high = CHECKED_UVICORN
    if not low <= _version(uvicorn.__version__) < high:
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
