"""Start the project's own mock on a free loopback port, in a process of its own.

The socket is bound here and handed to uvicorn (`--fd`), so no other process can take the port
between choosing it and serving on it. A separate process keeps the mock on the other core while
the harness generates requests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx

from conformance.apis import PROJECT_ROOT

STARTUP_TIMEOUT = 60.0
POLL_INTERVAL = 0.1


class MockStartError(Exception):
    pass


@contextmanager
def bundled_mock() -> Iterator[str]:
    """The mock's root URL (`http://127.0.0.1:<port>`) while the context is open."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # uvicorn takes an inherited socket for a Unix one and leaves Nagle on: a 40 ms stall per keep-alive request.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    command = [
        sys.executable, "-m", "uvicorn", "mock_server.asgi:app",
        "--fd", str(listener.fileno()), "--lifespan", "on", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    # A file, not a pipe: a pipe nobody reads would block the mock once it fills up.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, pass_fds=[listener.fileno()], stdout=subprocess.DEVNULL, stderr=log
    )
    listener.close()
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process, killing it if it has not exited within ten seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            stderr = log.read().decode(errors="replace")
            raise MockStartError(f"the bundled mock exited with status {process.returncode}:\n{stderr[-2000:]}")
        try:
            httpx.get(f"{url}/__admin", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(POLL_INTERVAL)
    raise MockStartError(f"the bundled mock did not answer within {STARTUP_TIMEOUT:.0f}s")
