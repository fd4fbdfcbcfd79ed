"""The one way to start a server process: the mock through `contract-mock serve`, on a free loopback port.

The harness, the test suite and the bench all start servers here, so each judges or measures the
stack `contract-mock serve` runs (its uvicorn configuration, its protocol, its workers). A separate
process keeps the server on the other core while the harness generates requests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0
POLL_INTERVAL = 0.05
# A port chosen free can be taken by another process before the server binds it: try again on another.
START_ATTEMPTS = 3


class MockStartError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def serve_command(port: int, *options: str, module: str = "mock_server.cli") -> list[str]:
    """`contract-mock serve` on `port` of the loopback address, quiet; `options` are more `serve` flags.

    The vendors' limits are off unless `options` say `--limits on`: a harness run or a benchmark sends
    thousands of requests with one token, far past Revnue's 100 a minute. `tests/test_limits.py`
    shows the harness honouring `Retry-After` against the mock with limits on.
    """
    return [
        sys.executable, "-m", module, "serve", "--host", HOST, "--port", str(port),
        "--no-access-log", "--log-level", "warning", "--limits", "off", *options,
    ]  # fmt: skip


def start_server(
    command: Sequence[str], log: IO[bytes] | int = subprocess.DEVNULL, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server process (in `cwd`, default this one's); its stderr goes to `log`."""
    return subprocess.Popen(list(command), cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)


@contextmanager
def bundled_mock(*options: str, module: str = "mock_server.cli", cwd: Path | None = None) -> Iterator[str]:
    """The mock's root URL (`http://127.0.0.1:<port>`) while the context is open.

    `module` is a module with the same `serve` command line (a test's variant of the mock), importable
    from `cwd`.
    """
    for attempt in range(START_ATTEMPTS):
        port = free_port()
        url = f"http://{HOST}:{port}"
        # A file, not a pipe: a pipe nobody reads would block the mock once it fills up.
        with tempfile.TemporaryFile() as log:
            process = start_server(serve_command(port, *options, module=module), log, cwd)
            try:
                _wait_until_serving(url, process, log)
            except MockStartError:
                stop_process(process)
                if attempt + 1 < START_ATTEMPTS and process.returncode is not None:
                    continue  # it exited: most likely the port was taken in between
                raise
            try:
                yield url
            finally:
                stop_process(process)
            return


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
            raise MockStartError(f"the mock exited with status {process.returncode}:\n{stderr[-2000:]}")
        try:
            httpx.get(f"{url}/__admin", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(POLL_INTERVAL)
    raise MockStartError(f"the mock did not answer within {STARTUP_TIMEOUT:.0f}s")
