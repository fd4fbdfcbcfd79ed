"""README's `contract_mock` examples, run as a user's own pytest project: the test blocks as one test
file, the `contract_mock_settings` block as its conftest.py. Imports are the ones printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.docs.markdown import blocks
from tests.support.paths import REPO_ROOT

README_PYTHON = [block for block in blocks(REPO_ROOT / "README.md") if block.language == "python"]
TESTS = [block for block in README_PYTHON if "def test_" in block.text]
(SETTINGS,) = [block for block in README_PYTHON if "def contract_mock_settings" in block.text]


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-W", "default"],
        cwd=project, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_the_readme_tests_pass_as_printed(tmp_path: Path) -> None:
    for index, block in enumerate(TESTS):
        (tmp_path / f"test_readme_{index}.py").write_text(block.text)
    result = run_pytest(tmp_path)
    count = sum(block.text.count("\ndef test_") + block.text.count("\nasync def test_") for block in TESTS)
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"{count} passed" in result.stdout
    assert "StarletteDeprecationWarning" not in result.stdout


def test_the_settings_override_serves_only_the_apis_it_names(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(SETTINGS.text)
    (tmp_path / "test_apis.py").write_text(
        "def test_apis(contract_mock):\n    assert contract_mock.apis == ['zoho-desk']\n"
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "1 passed" in result.stdout
