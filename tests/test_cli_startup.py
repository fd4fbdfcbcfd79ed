"""A quiet, honest command line: `--version`, start-up failures as one line and exit 2, no warnings of ours."""

from __future__ import annotations

import socket
import subprocess
import sys
from importlib.metadata import version

import pytest

from launcher.servers import free_port

VERSION = version("contract-mock-kit")


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("module", "prog"), [("mock_server.cli", "contract-mock"), ("conformance", "conformance")])
def test_version(module: str, prog: str) -> None:
    result = run(module, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{prog} {VERSION}"
    assert result.stderr == ""


def test_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run("mock_server.cli", "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"contract-mock: cannot start: 127.0.0.1:{port}: Address already in use"]


def test_unreachable_store_is_one_line_with_its_reason_and_exit_2() -> None:
    nothing_listens = free_port()
    where = f"127.0.0.1:{nothing_listens}/0"
    result = run(
        "mock_server.cli", "serve", "--port", str(free_port()), "--store", f"redis://127.0.0.1:{nothing_listens}/0"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"contract-mock: cannot start: cannot reach the Redis store at {where}: Connection refused"
    ]


def test_importing_the_mock_warns_about_nothing() -> None:
    """Python's default warning filters, as a user's command has them (pytest's are in tests/test_wheel.py)."""
    result = subprocess.run(
        [sys.executable, "-c", "import mock_server.app, mock_server.cli, mock_server.testing"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_mock_imports_without_the_harness_dependencies() -> None:
    """`pip install contract-mock-kit` (no [conformance] extra) has no Schemathesis nor Hypothesis."""
    blocker = (
        "import sys\n"
        "class NotInstalled:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('schemathesis', 'hypothesis'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, NotInstalled())\n"
        "import mock_server.app, mock_server.cli, mock_server.testing, mock_server.pytest_plugin\n"
        "from mock_server.app import create_app\n"
        "create_app()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('schemathesis', 'hypothesis'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
