"""docs/CI.md's GitHub Actions workflow: valid against GitHub's workflow schema, installs the kit,
keeps secrets in the environment, runs a `conformance run` line our parser accepts, uploads both reports."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conformance.cli import build_parser
from tests.docs.markdown import blocks
from tests.support.paths import REPO_ROOT

(WORKFLOW_BLOCK,) = [block for block in blocks(REPO_ROOT / "docs" / "CI.md") if block.language == "yaml"]
WORKFLOW: dict[Any, Any] = yaml.safe_load(WORKFLOW_BLOCK.text)
STEPS: list[dict[str, Any]] = WORKFLOW["jobs"]["conformance"]["steps"]


def test_the_workflow_is_valid_against_githubs_schema(tmp_path: Path) -> None:
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert checker is not None, "check-jsonschema is missing: it is in the [test] extra"
    workflow = tmp_path / "contract-conformance.yml"
    workflow.write_text(WORKFLOW_BLOCK.text)
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_installs_the_kit_with_the_harness() -> None:
    installs = [step["run"] for step in STEPS if "pip install" in step.get("run", "")]
    assert installs and "contract-mock-kit[conformance]" in installs[0]


def test_the_run_line_parses_and_secrets_stay_in_the_environment() -> None:
    (step,) = [step for step in STEPS if step.get("run", "").startswith("conformance run")]
    assert "secrets." not in step["run"]  # a secret on the command line would show in the job's log
    assert {"CONFORMANCE_TOKEN", "CONFORMANCE_ORG_ID"} <= set(step["env"])
    assert all(re.fullmatch(r"\$\{\{ secrets\.\w+ \}\}", step["env"][name]) for name in ("CONFORMANCE_TOKEN",))
    args = build_parser().parse_args(shlex.split(step["run"])[1:])
    assert args.junit == Path("reports/conformance-junit.xml") and args.html == Path("reports/conformance.html")


def test_both_reports_are_uploaded_even_when_the_run_fails() -> None:
    (upload,) = [step for step in STEPS if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["if"] == "${{ !cancelled() }}"
    assert upload["with"]["path"] == "reports/"
