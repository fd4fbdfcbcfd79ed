"""`conformance drift` and `conformance scenario` on recordings the proxy made of real loopback upstreams."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from conformance.apis import Api
from conformance.cli import main as conformance_main
from conformance.drift import DriftOptions, run_drift
from conformance.exchange_spec import contract_for
from conformance.reporting import html, json_report, junit
from conformance.reporting.console import print_report
from conformance.results import Evidence, ExitCode, Outcome
from conformance.run import RunOptions, SuiteChoice
from conformance.scenario_export import export
from conformance.scenarios.runner import ScenarioSession, run_scenario
from conformance.target import resolve_target
from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import Settings
from tests.support import departures
from tests.support.departures import proxying


@pytest.fixture(scope="module")
def mock_root() -> Iterator[str]:
    """The mock drift replays against: every API, on the system clock like the upstreams."""
    with serving(create_app(Settings(today=None))) as url:
        yield url


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_a_recording_of_the_mock_replays_without_drift(
    api: Api, recordings: departures.Recordings, mock_root: str
) -> None:
    recorded = recordings.record(api)
    result = run_drift(DriftOptions(api=api, har_path=recorded.har, base_url=mock_root))

    writes = [r for r in recorded.responses if r.request.method not in ("GET", "HEAD")]
    assert [case.outcome for case in result.cases] == [Outcome.PASSED] * len(writes), [
        (case.name, case.detail, [v.message for v in case.violations]) for case in result.cases
    ]
    assert result.exit_code == ExitCode.CONFORMS


@pytest.mark.parametrize("departure, api", departures.CASES, ids=departures.CASE_IDS)
def test_each_departure_is_reported(
    departure: departures.Departure, api: Api, recordings: departures.Recordings, mock_root: str
) -> None:
    recorded = recordings.record(api, departure.slug)
    result = run_drift(DriftOptions(api=api, har_path=recorded.har, base_url=mock_root))

    reported = {violation.rule for violation in result.violations}
    assert departure.drift_rules <= reported, f"reported: {sorted(reported)}"
    documented = any(violation.basis.documented for violation in result.violations)
    assert result.exit_code == (ExitCode.VIOLATIONS if documented else ExitCode.CONFORMS)
    assert Outcome.FAILED in {case.outcome for case in result.cases} or not documented
    errors = [(case.name, case.detail) for case in result.cases if case.outcome == Outcome.ERROR]
    assert not errors, "a departing vendor is reported, never a reason to stop the replay"
    violation = next(v for v in result.violations if v.rule in departure.drift_rules)
    assert violation.expected.startswith("the vendor answered"), "the vendor's answer is in the finding"
    assert violation.exchange is not None and violation.exchange.status is not None, "and the mock's"


def test_drift_on_a_member_the_spec_only_infers_differs_and_fails_only_strict(
    recordings: departures.Recordings, mock_root: str, tmp_path: Path
) -> None:
    departure, api = departures.INFERRED_CASE
    har_path = recordings.record(api, departure.slug).har
    result = run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root))

    types = [violation for violation in result.violations if violation.rule == "drift.types"]
    assert types and {violation.evidence for violation in result.violations} == {Evidence.INFERRED}
    assert types[0].basis.source, "the report says what the inference rests on"
    assert Outcome.DIFFERS in {case.outcome for case in result.cases}
    assert Outcome.FAILED not in {case.outcome for case in result.cases}
    assert result.exit_code == ExitCode.CONFORMS

    report = tmp_path / "drift.json"
    command = ["drift", "--api", api.name, "--har", str(har_path), "--base-url", mock_root, "--json", str(report)]
    assert conformance_main(command) == ExitCode.CONFORMS
    written = json.loads(report.read_text())
    assert written["summary"]["differs"] >= 1 and written["by_evidence"]["inferred"] >= 1
    assert {v["evidence"] for case in written["cases"] for v in case["violations"]} == {"inferred"}
    assert conformance_main([*command, "--strict"]) == ExitCode.VIOLATIONS


def test_drift_on_a_documented_member_still_fails(recordings: departures.Recordings, mock_root: str) -> None:
    departure, api = departures.DOCUMENTED_CASE
    result = run_drift(DriftOptions(api=api, har_path=recordings.record(api, departure.slug).har, base_url=mock_root))

    types = [violation for violation in result.violations if violation.rule == "drift.types"]
    assert types and all(violation.evidence == Evidence.DOCUMENTED for violation in types)
    assert result.exit_code == ExitCode.VIOLATIONS


def test_drift_sets_the_mock_clock_to_the_recordings_date(
    recordings: departures.Recordings, mock_root: str, tmp_path: Path
) -> None:
    api = departures.APIS[0]
    document = json.loads(recordings.record(api).har.read_text(encoding="utf-8"))
    for entry in document["log"]["entries"]:
        entry["response"]["headers"].append({"name": "Date", "value": "Wed, 03 Mar 2027 10:00:00 GMT"})
        entry["response"]["headers"] = [h for h in entry["response"]["headers"] if h["name"] != "date"]
    har_path = tmp_path / "dated.har"
    har_path.write_text(json.dumps(document), encoding="utf-8")
    try:
        run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root))
        assert httpx.get(f"{mock_root}/__admin/clock").json()["today"] == "2027-03-03"
    finally:
        httpx.post(f"{mock_root}/__admin/clock", json={"today": dt.datetime.now(dt.UTC).date().isoformat()})


def test_drift_starts_the_bundled_mock_by_default(
    recordings: departures.Recordings, capsys: pytest.CaptureFixture[str]
) -> None:
    api = departures.APIS[0]
    code = conformance_main(["drift", "--api", api.name, "--har", str(recordings.record(api).har)])
    assert code == ExitCode.CONFORMS
    assert "Conforms: nothing flagged" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, reason",
    [
        ("not json", "cannot read the recording"),
        ('{"log": {}}', "not a HAR file"),
        ('{"log": {"entries": [{"request": {}}]}}', "entry 0 is not a HAR entry"),
        ('{"log": {"entries": []}}', "holds no write"),
    ],
)
def test_a_recording_that_cannot_be_used_exits_2(
    content: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har_path = tmp_path / "bad.har"
    har_path.write_text(content, encoding="utf-8")
    code = conformance_main(["drift", "--api", departures.APIS[0].name, "--har", str(har_path), "--base-url", "x"])
    assert code == ExitCode.COULD_NOT_RUN
    assert reason in " ".join(capsys.readouterr().out.split())


def test_drift_command_writes_the_run_reports(
    recordings: departures.Recordings, mock_root: str, tmp_path: Path
) -> None:
    departure, api = departures.DOCUMENTED_CASE
    har_path = recordings.record(api, departure.slug).har
    reports = {name: tmp_path / f"drift.{name}" for name in ("xml", "json", "html")}
    code = conformance_main(
        ["drift", "--api", api.name, "--har", str(har_path), "--base-url", mock_root,
         "--junit", str(reports["xml"]), "--json", str(reports["json"]), "--html", str(reports["html"])]
    )  # fmt: skip
    assert code == ExitCode.VIOLATIONS
    assert json.loads(reports["json"].read_text())["exit_code"] == 1
    assert "<failure" in reports["xml"].read_text()
    assert "drift.types" in reports["html"].read_text()


# --- keeping a recorded behaviour as a scenario ------------------------------------------------------


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_a_recorded_write_becomes_a_scenario_that_passes_on_the_mock(
    api: Api, recordings: departures.Recordings, mock_root: str, tmp_path: Path
) -> None:
    recorded = recordings.record(api)
    index = next(i for i, r in enumerate(recorded.responses) if r.request.method != "GET" and r.status_code == 200)
    exported = export(recorded.har, index, departures.APIS, scenario_id=f"{api.name}.kept", output=tmp_path / "s.yaml")

    scenario = exported.scenario
    assert scenario.id == f"{api.name}.kept" and scenario.api == api.name
    assert [step.name for step in scenario.steps] == ["the recorded request", "read it back"]
    target = resolve_target(api, base_url=f"{mock_root}/{api.name}", bundled=True, tenant="kept-scenario")
    from conformance.http import Client
    from conformance.target import Redactor

    client = Client(target.base_url, redactor=Redactor(frozenset()))
    try:
        result = run_scenario(scenario, ScenarioSession(target, client, writes_allowed=True))
    finally:
        client.close()
    assert result.outcome == Outcome.PASSED, [v.message for v in result.violations]
    assert RunOptions(apis=[api], suite=SuiteChoice.SCENARIOS)  # the scenario is an ordinary one


def test_scenario_command_writes_a_file_and_refuses_to_overwrite(
    recordings: departures.Recordings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har_path = str(recordings.record(departures.APIS[0]).har)
    output = tmp_path / "kept.yaml"
    arguments = ["scenario", "--from-har", har_path, "--entry", "1", "--id", "x.kept", "--output", str(output)]
    assert conformance_main(arguments) == ExitCode.CONFORMS
    assert output.is_file()
    assert conformance_main(arguments) == ExitCode.COULD_NOT_RUN
    assert conformance_main([*arguments[:3], "--entry", "99", "--output", str(tmp_path / "o.yaml")]) == 2
    assert "no entry 99" in " ".join(capsys.readouterr().out.split())


# --- no credential anywhere -----------------------------------------------------------------------------


def test_no_token_reaches_a_recording_a_report_or_a_log_line(mock_root: str, tmp_path: Path) -> None:
    departure, api = next((d, a) for d, a in departures.CASES if a.org_header)
    contract = contract_for(api)
    view_schema = contract.resource_schema(next(iter(contract.vendor.resources.values())))  # type: ignore[union-attr]
    redacted = next(n for n, m in view_schema["properties"].items() if m.get("type") == "string" and n != "id")
    token = "dev-token.very-secret-2ea9f1"
    har_path = tmp_path / "secret.har"
    with (
        serving(departures.Departing(api)) as upstream,
        proxying(f"{upstream}/{departure.slug}/{api.name}", api, record=har_path, redact=(redacted,)) as (
            proxy,
            printed,
        ),
    ):
        responses = list(departures.calls(api, proxy, token))
        cookie = {**responses[0].request.headers, "Cookie": f"session={token}", "X-Echo": token}
        assert httpx.get(str(responses[0].request.url), headers=cookie).status_code == 200
        journal = httpx.get(f"{proxy}/__admin/requests", params={"format": "har"}).text
        mock_journal = httpx.get(f"{upstream}/__admin/requests", params={"format": "har"}).text

    result = run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root))
    console_output = io.StringIO()
    print_report(result, Console(file=console_output, width=200))
    recording = har_path.read_text(encoding="utf-8")
    texts = {
        "recording": recording,
        "proxy console": printed.getvalue(),
        "proxy journal": journal,
        "mock journal": mock_journal,
        "drift console": console_output.getvalue(),
        "drift json": json_report.render(result),
        "drift junit": junit.render(result),
        "drift html": html.render(result),
    }
    leaked = [name for name, text in texts.items() if "very-secret" in text]
    assert not leaked, f"the token is in: {leaked}"
    assert result.violations and "mock journal" in texts, "the reports did show exchanges"
    entries = json.loads(recording)["log"]["entries"]
    assert len(entries) == len(responses) + 1
    for entry in entries:
        headers = {h["name"].lower(): h["value"] for h in entry["request"]["headers"]}
        assert headers["authorization"] == "***" and headers[str(api.org_header).lower()] == "***"
        assert headers.get("cookie", "***") == "***" and headers.get("x-echo", "***") == "***"
        body = json.loads(entry["response"]["content"]["text"] or "null")
        if isinstance(body, dict) and redacted in body:
            assert body[redacted] == "***"
    assert any(
        isinstance(json.loads(e["response"]["content"]["text"]), dict)
        and redacted in json.loads(e["response"]["content"]["text"])
        for e in entries
    ), "the redacted member was recorded"
