"""The kit as partners get it: the wheel built from this tree, installed into a fresh venv outside the
checkout, then `contract-mock serve`, `conformance run` and the `contract_mock` fixture used from there.

Alone: `.venv/bin/python -m pytest -p no:xdist -m wheel` (about a minute; pip's cache makes it offline-fast).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from launcher.servers import free_port
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.wheel

INSTALL_TIMEOUT = 240
RUN_TIMEOUT = 120
START_TIMEOUT = 30.0
ENV = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
# The dependencies' wheels, kept between runs outside the checkout (the kit's own wheel is always rebuilt).
WHEELHOUSE = Path(tempfile.gettempdir()) / "contract-mock-kit-wheelhouse"

USER_TESTS = """
import httpx
import pytest


def test_sync(contract_mock):
    response = contract_mock.client("elevate").get("/customer-contracts/1")
    assert response.status_code == 200


@pytest.mark.anyio
async def test_async(contract_mock):
    transport = contract_mock.async_transport("elevate")
    async with httpx.AsyncClient(transport=transport, headers=contract_mock.headers("elevate")) as client:
        assert (await client.get("/customer-contracts/1")).json()["id"] == 1
"""


@dataclass(frozen=True)
class Installed:
    bin: Path
    work: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]], cwd=cwd or self.work, env=self.env,
            capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = _run([*PIP, "wheel", "--no-deps", "-w", str(dist), str(REPO_ROOT)])
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("contract_mock_kit-*.whl")
    return found


def _venv(work: Path, *wanted: str) -> Installed:
    """A venv of its own (no system site-packages), filled by this pip: no ensurepip, much faster."""
    assert not work.is_relative_to(REPO_ROOT)
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = [*PIP, "--python", str(venv / "bin" / "python"), "install", "--no-compile", "--no-index"]
    if _run([*install, "--find-links", str(WHEELHOUSE), *wanted]).returncode != 0:
        # First run, or the dependencies changed: fetch them (pip's cache makes this quick) and try again.
        fetched = _run([*PIP, "wheel", "-w", str(WHEELHOUSE), *wanted])
        assert fetched.returncode == 0, fetched.stderr
        for own in WHEELHOUSE.glob("contract_mock_kit-*"):  # only dependencies are kept
            own.unlink()
        installed = _run([*install, "--find-links", str(WHEELHOUSE), *wanted])
        assert installed.returncode == 0, installed.stderr
    return Installed(venv / "bin", work, ENV)


def _run(command: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=ENV, timeout=INSTALL_TIMEOUT, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return _venv(tmp_path_factory.mktemp("kit"), f"{wheel}[conformance]", "pytest")


def test_the_installed_package_is_not_the_checkout(installed: Installed) -> None:
    found = installed.run("python", "-c", "import mock_server, vendor_facts; print(vendor_facts.__file__)")
    assert Path(found.stdout.strip()).is_relative_to(installed.work / "venv"), found.stdout + found.stderr
    assert installed.run("contract-mock", "--version").stdout.startswith("contract-mock ")


@pytest.fixture
def served(installed: Installed) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    command = [str(installed.bin / "contract-mock"), "serve", "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(command, cwd=installed.work, env=installed.env, stderr=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_with_the_bundled_seed(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = served
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            response = httpx.get(
                f"{url}/elevate/customer-contracts/1", headers={"Authorization": "Bearer dev-token"}, timeout=5
            )
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "contract-mock serve did not start"
            time.sleep(0.2)
    assert response.status_code == 200
    assert response.json()["id"] == 1


def test_conformance_run_against_the_bundled_mock(installed: Installed) -> None:
    result = installed.run("conformance", "run", "--api", "elevate", "--suite", "scenarios", "--html", "r.html")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Conforms: nothing flagged" in result.stdout
    assert "[1/1] scenarios elevate" in result.stdout  # progress, one line per stage in a log
    assert (installed.work / "r.html").is_file()


def test_the_contract_mock_fixture_in_a_users_project(installed: Installed, tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    result = installed.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout
    assert "StarletteDeprecationWarning" not in result.stdout


def test_the_mock_alone_installs_and_runs_without_the_harness(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`pip install contract-mock-kit`: no Schemathesis, no Hypothesis; the fixture works in pytest."""
    mock_only = _venv(tmp_path_factory.mktemp("mock-only"), str(wheel), "pytest")
    absent = mock_only.run(
        "python", "-c", "import importlib.util as u; print(u.find_spec('schemathesis'), u.find_spec('hypothesis'))"
    )
    assert absent.stdout.strip() == "None None"
    project = mock_only.work / "project"
    project.mkdir()
    (project / "test_user.py").write_text(USER_TESTS.split("@pytest.mark.anyio")[0])
    result = mock_only.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout
