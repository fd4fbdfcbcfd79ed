"""A partner's data after a run: every record written is read again; what cannot be put back is named,
with the request that would put it back, and the run exits 2; creates the API cannot undo need consent."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.results import ExitCode
from launcher.servers import serving
from tests.conformance import variants
from tests.conformance.test_broken_variants import SEED
from vendor_facts import resources


def target_file(tmp_path: Path, api: str, extra: str = "") -> Path:
    path = tmp_path / "target.yaml"
    path.write_text((resources.fixture_dir(api) / "target.yaml").read_text() + extra)
    return path


def test_a_record_that_cannot_be_put_back_is_named_with_its_request_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Accepts every valid renewalAlertDays but its seeded 14: the boundary run changes it and cannot write it back.
    refuse = variants.sets("renewalAlertDays", lambda value: value == 14)
    app = variants.RefuseWrites(variants.mock("elevate"), refuse, body={"error": "Bad Request", "message": "no"})
    token = f"dev-token.{uuid.uuid4().hex[:8]}"
    report, targets = tmp_path / "report.json", target_file(tmp_path, "elevate", "record_ids: [1]\n")

    with serving(app) as url:
        before = variants.get_json(f"{url}/elevate/customer-contracts/1", token)
        code = main(["run", "--api", "elevate", "--base-url", f"{url}/elevate", "--token", token,
                     "--suite", "boundaries", "--target-file", str(targets), "--allow-writes",
                     "--json", str(report)])  # fmt: skip
        after = variants.get_json(f"{url}/elevate/customer-contracts/1", token)

    out = capsys.readouterr().out
    assert before["renewalAlertDays"] == 14 and after["renewalAlertDays"] != 14
    assert code == ExitCode.COULD_NOT_RUN
    assert "DATA LEFT CHANGED" in out and "/customer-contracts/1" in out
    assert "renewalAlertDays: was 14, now" in out
    assert "PATCH" in out and '"value": 14' in out  # the request that would put it back
    assert "restored" not in out
    (record,) = json.loads(report.read_text())["unrestored"]
    assert record["path"] == "/customer-contracts/1" and "renewalAlertDays" in record["members"]


def test_an_empty_member_the_api_cannot_clear_again_is_never_written(tmp_path: Path) -> None:
    """aBILLity: null means "not sent", so an empty CancelledDate once written stays written: fuzzing leaves it."""
    app = variants.RecordRequests(variants.mock("abillity"))
    token = f"dev-token.{uuid.uuid4().hex[:8]}"

    with serving(app) as url:
        before = variants.get_json(f"{url}/abillity/api/contract/1", token)
        code = main(["run", "--api", "abillity", "--base-url", f"{url}/abillity", "--token", token,
                     "--suite", "fuzz", "--target-file", str(target_file(tmp_path, "abillity", "record_ids: [1]\n")),
                     "--allow-writes", "--seed", str(SEED), "--max-examples", "5"])  # fmt: skip
        after = variants.get_json(f"{url}/abillity/api/contract/1", token)

    assert before["CancelledDate"] is None and before["TerminationDate"] is None
    assert code == ExitCode.CONFORMS
    assert {name: value for name, value in after.items() if name != "LastUpdated"} == {
        name: value for name, value in before.items() if name != "LastUpdated"
    }


def test_a_create_the_api_cannot_undo_needs_allow_creates_and_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = f"dev-token.{uuid.uuid4().hex[:8]}"
    arguments = ["run", "--api", "zoho-desk", "--suite", "scenarios", "--token", token, "--allow-writes",
                 "--target-file", str(target_file(tmp_path, "zoho-desk"))]  # fmt: skip

    with serving(variants.mock("zoho-desk")) as url:
        arguments += ["--base-url", f"{url}/zoho-desk"]
        without = main(arguments)
        out_without = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
        first, second = main([*arguments, "--allow-creates"]), main([*arguments, "--allow-creates"])
        out_with = " ".join(capsys.readouterr().out.split())

    assert without == ExitCode.CONFORMS
    assert "zoho-desk.resource-create-then-read: creates a record at /api/v1/contracts" in out_without
    assert "run with --allow-creates" in out_without and "created and left in place" not in out_without
    assert (first, second) == (ExitCode.CONFORMS, ExitCode.CONFORMS)  # a second run never collides with the first
    assert out_with.count("records this run created and left in place") == 2
    assert "zoho-desk: /api/v1/contracts/" in out_with
