"""The one way to start a server on a free loopback port.

- A process: the mock through `contract-mock serve` (`bundled_mock`, `start_server`). The harness, the
  test suite and the bench start the mock this way, so each judges or measures the stack
  `contract-mock serve` runs (its uvicorn configuration, its protocol, its workers). A separate
  process keeps the server on the other core while the harness generates requests.
- A thread: an ASGI app object of this process, served by uvicorn (`ThreadServer`, `serving`), for
  tests that must reach into the app and for `mock_server.testing`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import uvicorn

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
    with httpx.Client(timeout=1.0) as client:  # one client for every poll: each new one loads TLS settings
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                stderr = log.read().decode(errors="replace")
                raise MockStartError(f"the mock exited with status {process.returncode}:\n{stderr[-2000:]}")
            try:
                client.get(f"{url}/__admin")
                return
            except httpx.TransportError:
                time.sleep(POLL_INTERVAL)
    raise MockStartError(f"the mock did not answer within {STARTUP_TIMEOUT:.0f}s")


class ThreadServer:
    """An ASGI app served by uvicorn in a daemon thread, on a loopback port bound at once (no race for it):
    the port is known before the app is built, and the app is given to `start`.
    """

    def __init__(self, startup_timeout: float = STARTUP_TIMEOUT, **options: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((HOST, 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}"
        self.startup_timeout = startup_timeout
        self.options = options
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: Any) -> ThreadServer:
        import uvicorn  # here: the harness's process launcher never needs it

        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, **self.options)
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(target=server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()


@contextmanager
def serving(app: Any, startup_timeout: float = 10.0, **options: Any) -> Iterator[str]:
    """Serve `app` in a thread while the context is open; `options` go to `uvicorn.Config` (e.g. `http=`)."""
    server = ThreadServer(startup_timeout, **options).start(app)
    try:
        yield server.url
    finally:
        server.stop()
