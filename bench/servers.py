"""Starting, probing and stopping the servers under test: the mock and Prism, on loopback only."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from launcher.servers import HOST, free_port, serve_command, start_server

__all__ = ["HOST", "free_port"]

PRISM_PACKAGE = "@stoplight/prism-cli@5"
STARTUP_TIMEOUT_S = 60.0
PROBE_INTERVAL_S = 0.005


class ServerError(Exception):
    """A server did not start, or Prism could not be installed."""


def start_mock(port: int, workers: int) -> subprocess.Popen[bytes]:
    """`contract-mock serve`, started the way the harness starts it (`launcher.servers`)."""
    return start_server(serve_command(port, "--workers", str(workers)))


def start_prism(prism: Path, spec: Path, port: int) -> subprocess.Popen[bytes]:
    # Prism logs every request at its default level "info"; "error" is its fastest configuration.
    command = [str(prism), "mock", "-h", HOST, "-p", str(port), "-v", "error", str(spec)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prism_version(prism: Path) -> str:
    return subprocess.run([str(prism), "--version"], capture_output=True, text=True, check=False).stdout.strip()


def ensure_prism(install_dir: Path) -> Path:
    """Prism's executable, installed from the npm registry into `install_dir` if it is not there yet."""
    executable = install_dir / "node_modules" / ".bin" / "prism"
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None:
        raise ServerError("npm not found: install Node.js (>= 18) to compare with Prism, or pass --no-prism")
    install_dir.mkdir(parents=True, exist_ok=True)
    print(f"installing {PRISM_PACKAGE} into {install_dir} ...", file=sys.stderr)
    subprocess.run(
        [npm, "install", "--prefix", str(install_dir), "--no-audit", "--no-fund", "--loglevel=error", PRISM_PACKAGE],
        check=True,
    )
    if not executable.exists():
        raise ServerError(f"npm installed {PRISM_PACKAGE} but {executable} is missing")
    return executable


def seconds_to_first_success(process: subprocess.Popen[bytes], started: float, port: int, probe: bytes) -> float:
    """Seconds from `started` (taken just before the process was spawned) to its first 2xx to `probe`."""
    deadline = started + STARTUP_TIMEOUT_S
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{process.args[0]} exited with status {process.returncode} before answering")
        if _status_of(port, probe) // 100 == 2:
            return time.perf_counter() - started
        time.sleep(PROBE_INTERVAL_S)
    raise ServerError(f"no successful response on port {port} within {STARTUP_TIMEOUT_S:.0f} s")


def _status_of(port: int, request: bytes) -> int:
    try:
        with socket.create_connection((HOST, port), timeout=5) as connection:
            connection.sendall(request)
            status_line = connection.recv(64)
            return int(status_line[9:12])
    except (OSError, ValueError):
        return 0
