"""Start a faithful implementation or the pass-through proxy as its own process; bounded start-up wait."""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher.servers import stop_process

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0


class StartError(Exception):
    pass


@contextmanager
def running(name: str, *options: str) -> Iterator[str]:
    """`http://127.0.0.1:<port>` of `python -m tests.faithful.serve NAME OPTIONS` while the context is open."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.faithful.serve", name, *options],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{_read_port(process)}"
    finally:
        stop_process(process)


def _read_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if selector.select(timeout=left):
                line = process.stdout.readline().decode()
                if line.startswith("PORT "):
                    return int(line.split()[1])
                if not line:
                    break
    raise StartError(f"server did not start within {STARTUP_TIMEOUT:.0f}s (exit status {process.poll()})")
