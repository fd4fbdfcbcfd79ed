"""The request budget, the plan and the pre-flight, against the mock as a process on a loopback port, counted
by the recording proxy in front of it (what the target received, not what the harness believes it sent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from conformance.apis import discover
from conformance.budget import NOT_RUN_BUDGET
from conformance.cli import main as conformance_main
from conformance.limits import RateLimitError, parse_rate
from conformance.planning import limits_for
from conformance.results import ExitCode
from conformance.target import resolve_target
from launcher.servers import bundled_mock, serving
from tests.support.departures import Rewrite, proxying
from tests.support.departures import mock as departures_mock

REVNUE = discover()["revnue"]


@pytest.fixture(scope="module")
def mock_root() -> Iterator[str]:
    with bundled_mock("--today", "system") as root:
        yield root


def received(har_path: Path) -> int:
    return len(json.loads(har_path.read_text(encoding="utf-8"))["log"]["entries"])


def revnue_target_file(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(REVNUE.default_target_file.read_text(encoding="utf-8"))
    document.update({"record_ids": [1], **changes})
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def run(base_url: str, *arguments: str) -> int:
    return conformance_main(
        ["run", "--api", REVNUE.name, "--base-url", base_url, "--token", "dev-token", "--allow-writes", *arguments]
    )


@pytest.mark.parametrize("budget", [60, 400])
def test_the_target_never_receives_more_than_the_budget(
    budget: int, mock_root: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har_path = tmp_path / "sent.har"
    report = tmp_path / "report.json"
    target_file = revnue_target_file(tmp_path)
    with proxying(f"{mock_root}/revnue", REVNUE, record=har_path) as (proxy, _):
        code = run(proxy, "--budget", str(budget), "--rate-limit", "none", "--target-file", str(target_file),
                   "--json", str(report))  # fmt: skip

    out = " ".join(capsys.readouterr().out.split())
    assert received(har_path) <= budget
    assert NOT_RUN_BUDGET in out, "what did not fit is listed"
    assert code == ExitCode.CONFORMS, "the exit code speaks of what ran: the mock conforms"
    cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
    assert any(case["outcome"] == "not run" and NOT_RUN_BUDGET in case["detail"] for case in cases)


def test_every_documented_rule_of_revnue_is_exercised_within_1000_requests(mock_root: str, tmp_path: Path) -> None:
    har_path = tmp_path / "sent.har"
    report = tmp_path / "report.json"
    target_file = revnue_target_file(tmp_path)
    with proxying(f"{mock_root}/revnue", REVNUE, record=har_path) as (proxy, _):
        code = run(proxy, "--budget", "1000", "--rate-limit", "none", "--target-file", str(target_file),
                   "--json", str(report))  # fmt: skip

    rules = json.loads(report.read_text(encoding="utf-8"))["rules"][REVNUE.name]
    assert code == ExitCode.CONFORMS
    assert received(har_path) <= 1000
    assert rules and [rule["id"] for rule in rules if rule["result"] != "passed"] == []


def test_dry_run_prints_the_plan_and_sends_nothing(
    mock_root: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har_path = tmp_path / "sent.har"
    with proxying(f"{mock_root}/revnue", REVNUE, record=har_path) as (proxy, _):
        code = run(proxy, "--budget", "100", "--dry-run", "--target-file", str(revnue_target_file(tmp_path)))

    out = " ".join(capsys.readouterr().out.split())
    assert code == ExitCode.CONFORMS and received(har_path) == 0
    assert "Plan for revnue: 100 requests (--budget), 100/m (the vendor's documented rate limit)" in out
    assert "pre-flight" in out and "boundaries" in out and NOT_RUN_BUDGET in out


def test_the_documented_limits_are_the_default_off_the_bundled_mock(tmp_path: Path) -> None:
    real = resolve_target(REVNUE, base_url="https://vendor.test", bundled=False, token="t")
    mock = resolve_target(REVNUE, base_url="http://127.0.0.1:1/revnue", bundled=True)
    staging = resolve_target(REVNUE, base_url="https://vendor.test", bundled=False, token="t", rate_limit="none")
    zoho = resolve_target(discover()["zoho-desk"], base_url="https://vendor.test", bundled=False, token="t", org_id="1")

    assert limits_for(real, None).rate == "100/m"
    assert limits_for(mock, None).rate is None and limits_for(mock, None).budget is None
    assert limits_for(staging, None).rate is None, "--rate-limit none switches the documented limit off"
    assert limits_for(zoho, None).budget == 5000, "Zoho's smallest documented daily allowance"
    assert limits_for(zoho, 300).budget == 300


@pytest.mark.parametrize(
    "text, rate", [("100/min", "100/m"), ("100/m", "100/m"), ("5/s", "5/s"), ("2 / hour", "2/h"), ("none", None)]
)
def test_rate_limits_read(text: str, rate: str | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["100", "0/m", "fast", "100/week"])
def test_unreadable_rate_limits_are_refused(text: str) -> None:
    with pytest.raises(RateLimitError):
        parse_rate(text)


# --- pre-flight ----------------------------------------------------------------------------------------


def catch_all() -> Starlette:
    """An upstream that answers every path it does not know with an HTML page: not the API."""

    async def anything(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><body>Not Found</body></html>", status_code=404)

    return Starlette(routes=[Route("/{path:path}", anything)])


@pytest.mark.parametrize(
    "base, arguments, says",
    [
        ("{root}", [], "check the base URL"),
        ("{root}/revnue", ["--token", "not-a-token"], "refuses the credentials"),
        ("{root}/revnue", ["--target-file", "{record_424242}"], "record_ids names a record"),
        ("{catch_all}", [], "does not answer as the API"),
    ],
    ids=["no API prefix", "token refused", "record not there", "not the API"],
)
def test_preflight_exits_2_with_what_to_fix(
    base: str,
    arguments: list[str],
    says: str,
    mock_root: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    values = {"root": mock_root, "record_424242": str(revnue_target_file(tmp_path, record_ids=[424242]))}
    with serving(catch_all()) as other:
        values["catch_all"] = other
        code = run(base.format(**values), "--rate-limit", "none", *[a.format(**values) for a in arguments])

    out = " ".join(capsys.readouterr().out.split())
    assert code == ExitCode.COULD_NOT_RUN
    assert says in out
    assert "violation" not in out


def test_preflight_lets_an_error_body_that_departs_from_our_inference_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DRF's `{"detail": "Not found."}` is our inference (x-likely): a target answering an unknown id with 404 and
    another JSON body is still the API. The pre-flight lets it run; the suites report the difference."""

    def other_not_found(method: str, sent: Any, status: int, answered: Any) -> tuple[int, Any]:
        return (404, {"message": "No Contract matches the given query."}) if status == 404 else (status, answered)

    document = yaml.safe_load(REVNUE.default_target_file.read_text(encoding="utf-8"))
    document.pop("record_ids", None)  # no record to read back: the unknown one's answer is all it has
    target_file = tmp_path / "target.yaml"
    target_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    with serving(Rewrite(departures_mock(REVNUE), other_not_found)) as root:
        # the pre-flight, then nothing more: what it lets through is all this test is about
        code = run(f"{root}/revnue", "--budget", "3", "--rate-limit", "none", "--target-file", str(target_file))

    out = " ".join(capsys.readouterr().out.split())
    assert code != ExitCode.COULD_NOT_RUN, out
    assert "does not answer as the API" not in out
