"""`conformance run` end to end: the bundled mock conforms; the exit codes; safety against real targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conformance.apis import discover
from conformance.cli import main
from conformance.results import ExitCode, Suite
from conformance.rules import rule_matrix
from launcher.servers import bundled_mock, serving
from tests.conformance import variants
from tests.conformance.test_broken_variants import MAX_EXAMPLES, SEED
from tests.support.paths import REPO_ROOT
from vendor_facts import resources

# The budget for `conformance run --api all` at its default depth is 60 s on an idle machine;
# this one is shared, so the test allows twice that.
TIME_BUDGET = 120.0
# The control allows nothing: a finding in the bundled mock is a defect of the mock, fixed there.
KNOWN_MOCK_DEFECTS: list[tuple[str, str, str]] = []  # (api, rule, text in the message) the mock is known to get wrong


def test_bundled_mock_conforms(tmp_path: Path) -> None:
    """The control for every broken variant: same seed, same depth, nothing flagged."""
    reports = {kind: tmp_path / f"report.{kind}" for kind in ("junit", "json", "html")}
    started = time.monotonic()

    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--api", "all", "--seed", str(SEED),
         "--max-examples", str(MAX_EXAMPLES), *(f"--{kind}={path}" for kind, path in reports.items())],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip

    elapsed = time.monotonic() - started
    document = json.loads(reports["json"].read_text())
    flagged = [
        (case["api"], violation["rule"], violation["message"])
        for case in document["cases"]
        for violation in case["violations"]
    ]
    unknown = [item for item in flagged if not any(_is(item, defect) for defect in KNOWN_MOCK_DEFECTS)]
    assert not unknown, completed.stdout[-5000:] + completed.stderr[-3000:]
    assert completed.returncode == (ExitCode.VIOLATIONS if flagged else ExitCode.CONFORMS)
    assert document["summary"]["error"] == 0
    assert set(document["targets"]) == set(discover())
    assert {case["suite"] for case in document["cases"]} == {s.value for s in Suite if s is not Suite.DRIFT}
    assert "<testsuites" in reports["junit"].read_text() and "Rules of" in reports["html"].read_text()
    assert not any(case["outcome"] == "passed" and case["cases"] == 0 for case in document["cases"])
    assert elapsed < TIME_BUDGET


def _is(flagged: tuple[str, str, str], defect: tuple[str, str, str]) -> bool:
    return flagged[0] == defect[0] and flagged[1] == defect[1] and defect[2] in flagged[2]


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "--api", "salesforce"],
        ["run", "--api", "all", "--target-file", str(resources.fixture_dir("elevate") / "target.yaml")],
        ["run", "--api", "elevate", "--base-url", "http://127.0.0.1:9", "--token", "t"],
    ],
    ids=["unknown API", "one target file for several APIs", "unreachable target"],
)
def test_could_not_run(arguments: list[str]) -> None:
    assert main(arguments) == ExitCode.COULD_NOT_RUN


def test_credentials_refused_everywhere_is_could_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    with bundled_mock() as url:
        code = main(["run", "--api", "elevate", "--base-url", f"{url}/elevate", "--token", "not-a-token"])

    assert code == ExitCode.COULD_NOT_RUN
    output = capsys.readouterr().out
    assert "refuses the credentials" in output and "not-a-token" not in output


def test_real_target_without_allow_writes_is_only_read(capsys: pytest.CaptureFixture[str]) -> None:
    app = variants.RecordRequests(variants.mock("elevate"))
    token = f"dev-token.{uuid.uuid4().hex[:8]}"

    with serving(app) as url:
        code = main(["run", "--api", "elevate", "--base-url", f"{url}/elevate", "--token", token,
                     "--seed", str(SEED), "--max-examples", "3"])  # fmt: skip

    assert code == ExitCode.CONFORMS, capsys.readouterr().out
    assert {method for method, _ in app.seen} <= {"GET", "HEAD", "OPTIONS", "TRACE"}
    assert "changes state: run with --allow-writes" in capsys.readouterr().out


def test_real_target_with_allow_writes_writes_only_allowed_records_and_restores_them(tmp_path: Path) -> None:
    target_file = tmp_path / "target.yaml"
    mock_target = (resources.fixture_dir("elevate") / "target.yaml").read_text()
    target_file.write_text(mock_target + "record_ids: [1]\n")
    app = variants.RecordRequests(variants.mock("elevate"))
    token = f"dev-token.{uuid.uuid4().hex[:8]}"

    with serving(app) as url:
        read = lambda: variants.get_json(f"{url}/elevate/customer-contracts/1", token)  # noqa: E731
        before = read()
        code = main(["run", "--api", "elevate", "--base-url", f"{url}/elevate", "--token", token, "--suite", "fuzz",
                     "--target-file", str(target_file), "--allow-writes", "--seed", str(SEED),
                     "--max-examples", "3"])  # fmt: skip
        after = read()

    assert code == ExitCode.CONFORMS
    writes = {path for method, path in app.seen if method not in ("GET", "HEAD", "OPTIONS", "TRACE")}
    assert writes == {"/elevate/customer-contracts/1"}
    assert after == before


def test_rules_lists_every_apis_rules_unchecked_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--api", "all"]) == 0

    out = capsys.readouterr().out
    for name in discover():
        assert f"Rules of {name}:" in out
    for api in discover().values():
        results = [rule.result for rule in rule_matrix(api)]
        assert results == sorted(results, key=lambda result: result != "unchecked")
        assert "checked" in results


def test_rules_as_json_and_markdown_carry_class_and_source_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--api", "all", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert main(["rules", "--api", "abillity", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out

    rules = [rule for api_rules in document.values() for rule in api_rules]
    assert {rule["evidence"] for rule in rules} == {"documented", "inferred"}
    assert not [rule["id"] for rule in rules if rule["result"] == "unchecked"], "no rule is checked by nothing"
    assert not [rule["sentence"] for rule in rules if "{'rule'" in rule["sentence"]], "rules print as text"
    likely = next(rule for rule in document["abillity"] if rule["sentence"].startswith("The response is 200"))
    assert likely["evidence"] == "inferred" and likely["source"].startswith("vendors.md")
    assert "| abillity.updateContract.rule-3 | Amounts must be finite numbers. | documented |" in markdown
