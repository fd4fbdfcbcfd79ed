"""Every shell block of README.md and docs/*.md that a reader is told to paste runs here, as pasted
(ports substituted), and prints what the text around it says. A block either runs or is listed in
`NOT_RUN` with the reason and the test that covers it instead; a new block fails until it is one or
the other. The commands come from this environment's bin directory, as after `pip install`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launcher.servers import free_port
from tests.docs.markdown import Block, shell_blocks
from tests.support.paths import REPO_ROOT

# The commands as the docs name them: a renamed command is a change here and in the docs only.
SERVE = "contract-mock serve"
PROXY = "conformance proxy"
RUN = "conformance run"

BIN = Path(sys.executable).parent
DOCS_PORT = "8080"
BLOCK_TIMEOUT = 120
START_TIMEOUT = 30.0

NOT_RUN = {
    "pip install contract-mock-kit": "installs from PyPI; tests/test_wheel.py installs the built wheel the same way",
    "make run": "needs a checkout and serves until stopped; these tests start `contract-mock serve` themselves",
    f"{SERVE} --workers 2 --store redis://127.0.0.1:6379/0": "needs Redis on 6379: tests/test_redis_cli.py",
    f"{RUN} --api all                       #": "the full run (a minute): tests/conformance/test_cli.py",
    f"{RUN} --api all\n": "the full run (a minute): tests/conformance/test_cli.py::test_bundled_mock_conforms",
    f"{RUN} --api all --base-url http://127.0.0.1:8080": "a full run with writes: tests/conformance/test_cli.py",
    "export CONFORMANCE_TOKEN=": "a vendor's credentials and endpoint",
    "pytest --conformance-api=zoho-desk": "a vendor's endpoint: tests/conformance/test_pytest_plugin.py",
    f"{PROXY} --api zoho-desk --upstream https://desk.zoho.com": "a vendor's endpoint: the worked example above runs",
}

# Blocks sent to a mock on a free port (in place of 8080), and what their text says they print.
AGAINST_THE_MOCK = {
    "curl -s -X POST http://127.0.0.1:8080/zoho-desk/oauth/v2/token": [
        '"token_type":"Zoho-oauthtoken"', '"expires_in":3600',
    ],
    "curl -s -X POST http://127.0.0.1:8080/elevate/authenticate": [
        '"token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.', '"expiresIn":900',
    ],
    "curl -s -X PATCH http://127.0.0.1:8080/elevate/customer-contracts/1": [
        '"renewalAlertDays":14', "/startDate", '"DisplayName":"Head office lines"', '"MaxCLIs":48',
        '"StartDate":"2025-12-01T00:00:00"', '"contractName":"Premium support 2027"', '"name":"Fibre WAN renewal"',
    ],
    "curl -s -X POST http://127.0.0.1:8080/__admin/reset": [
        '"today":"2026-12-01"', '"today":"2027-01-01"', '"created":false', '"name":"Seeded"',
    ],
    "curl -s http://127.0.0.1:8080/__admin/limits": ['"edition":"free"', '"enabled":false'],
    "curl -s -X POST http://127.0.0.1:8080/__admin/faults": ["HTTP/1.1 429", '"scope":"*"', '"removed":'],
    "curl -s -X PUT http://127.0.0.1:8080/__admin/records/zoho-desk": ['"contractName":"Seeded by the admin API"'],
}  # fmt: skip

# Blocks that start their own servers (and wait for them, in the text): their ports, and what they print.
SELF_CONTAINED = {
    'cd "$(mktemp -d)"': (
        ("18080", "18081"),
        ["HTTP/1.1 200", "Conforms: nothing flagged", "kept.yaml"],
        ["/api/v1/contracts/10000000000001 → 200", "✓ conforms"],
    ),
}


def _named(block: Block, table: dict[str, object]) -> str | None:
    text = block.first_command + "\n"
    return next((key for key in table if text.startswith(key)), None)


BLOCKS = shell_blocks()


def test_every_shell_block_is_run_or_says_why_not() -> None:
    tables: dict[str, dict[str, object]] = {"not run": dict(NOT_RUN), "mock": dict(AGAINST_THE_MOCK)}
    tables["self-contained"] = dict(SELF_CONTAINED)
    unclassified = [str(block) for block in BLOCKS if not any(_named(block, table) for table in tables.values())]
    assert unclassified == [], "a shell block in the docs is neither run nor listed in NOT_RUN"
    used = {_named(block, table) for block in BLOCKS for table in tables.values()}
    stale = [key for table in tables.values() for key in table if key not in used]
    assert stale == [], "an entry names no block of the docs any more"


def _run(block: Block, substitutions: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    text = block.text
    for docs_value, value in substitutions.items():
        text = text.replace(docs_value, value)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    process = subprocess.Popen(
        ["bash", "-o", "pipefail", "-c", text], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=BLOCK_TIMEOUT)
    finally:
        with _ignoring(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # whatever the block left running
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


class _ignoring:
    def __init__(self, *kinds: type[BaseException]) -> None:
        self.kinds = kinds

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, self.kinds)


@pytest.fixture
def mock_url() -> Iterator[str]:
    """A fresh `contract-mock serve` for each block, as the reader's would be."""
    port = free_port()
    command = [str(BIN / "contract-mock"), "serve", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                httpx.get(url + "/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "the mock did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _blocks_of(table: dict[str, object]) -> list[object]:
    return [pytest.param(block, id=str(block)) for block in BLOCKS if _named(block, table)]


@pytest.mark.parametrize("block", _blocks_of(dict(AGAINST_THE_MOCK)))
def test_block_against_the_mock(block: Block, mock_url: str, tmp_path: Path) -> None:
    expected = AGAINST_THE_MOCK[str(_named(block, dict(AGAINST_THE_MOCK)))]
    result = _run(block, {f"http://127.0.0.1:{DOCS_PORT}": mock_url}, tmp_path)
    assert result.returncode == 0, result.stderr
    missing = [text for text in expected if text not in result.stdout]
    assert missing == [], result.stdout[-4000:]


@pytest.mark.parametrize("block", _blocks_of(dict(SELF_CONTAINED)))
def test_self_contained_block(block: Block, tmp_path: Path) -> None:
    ports, in_stdout, in_stderr = SELF_CONTAINED[str(_named(block, dict(SELF_CONTAINED)))]
    before = _untracked()
    result = _run(block, {port: str(free_port()) for port in ports}, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    missing = [text for text in in_stdout if text not in result.stdout]
    missing += [text for text in in_stderr if text not in result.stderr]
    assert missing == [], result.stdout[-3000:] + result.stderr[-3000:]
    assert _untracked() == before  # work files went to the block's own folder


def _untracked() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout
