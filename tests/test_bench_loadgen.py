"""bench/loadgen.py, the benches' load generator, run as they run it: a plan on stdin, a summary on stdout.

What it counts as an error decides the benches' error rates: a failed answer is one, a kept-alive
connection that the server closed while it waited for its turn is not (any HTTP client sends again).
Servers take turns, and one's turn begins only once the other has answered all it was sent.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.paths import REPO_ROOT

LOADGEN = REPO_ROOT / "bench" / "loadgen.py"
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@contextmanager
def http_server(
    *, idle_close_s: float, answer: bool = True, delay_s: float = 0.0, served: list[tuple[float, float]] | None = None
) -> Iterator[int]:
    """A keep-alive HTTP/1.1 server on loopback that answers 200 after `delay_s` and closes a connection idle for
    `idle_close_s`; with `answer` false it closes a connection as soon as a request arrives. Each request's
    arrival and answer times go to `served`. Yields its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), idle_close_s)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                if not answer:
                    return
                arrived = time.monotonic()
                await asyncio.sleep(delay_s)
                if served is not None:  # done before the client can have the answer
                    served.append((arrived, time.monotonic()))
                writer.write(OK)
                await writer.drain()
        finally:
            writer.close()

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        server.close()
        loop.close()


def run_loadgen(*ports: int, connections: int = 3) -> dict[str, Any]:
    """A target per port (two on one port if one is given) taking turns: 0.4 s of warmup each, then 0.1 s
    slices up to 0.5 s measured each."""
    plan = {
        "warmup_s": 0.4,
        "slice_s": 0.1,
        "duration_s": 0.5,
        "max_requests": 1_000_000,
        "targets": [
            {
                "name": f"t{n}",
                "host": "127.0.0.1",
                "port": port,
                "connections": [[{"kind": "read", "raw": REQUEST, "expect": 2}]] * connections,
            }
            for n, port in enumerate(ports * 2 if len(ports) == 1 else ports)
        ],
    }
    done = subprocess.run(
        [sys.executable, str(LOADGEN)], input=json.dumps(plan), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    summaries: dict[str, Any] = json.loads(done.stdout)
    return summaries


def test_a_connection_closed_while_it_waited_for_its_turn_is_not_an_error() -> None:
    # The first target's connections idle through the second's warmup (0.4 s), past the server's 0.2 s.
    with http_server(idle_close_s=0.2) as port:
        summaries = run_loadgen(port)
    for summary in summaries.values():
        assert summary["errors"] == 0, summary
        assert summary["statuses"] == {"read": {"200": summary["requests"]}}
        assert summary["requests"] > 0


def test_a_server_that_closes_instead_of_answering_is_all_errors() -> None:
    with http_server(idle_close_s=5.0, answer=False) as port:
        summaries = run_loadgen(port)
    for summary in summaries.values():
        assert summary["requests"] > 0
        assert summary["errors"] == summary["transport_errors"] == summary["requests"], summary


def test_a_turn_begins_once_the_previous_server_has_answered_all_it_was_sent() -> None:
    slow: list[tuple[float, float]] = []
    fast: list[tuple[float, float]] = []
    with (
        http_server(idle_close_s=5.0, delay_s=0.03, served=slow) as slow_port,
        http_server(idle_close_s=5.0, served=fast) as fast_port,
    ):
        summaries = run_loadgen(slow_port, fast_port)
    assert all(summary["errors"] == 0 and summary["requests"] > 0 for summary in summaries.values())
    assert slow and fast
    overlapping = [
        (one, other) for one in slow for other in fast if one[0] < other[1] and other[0] < one[1]
    ]  # one server at work while the other was
    assert not overlapping, overlapping[:3]
