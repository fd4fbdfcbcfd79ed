"""A faithful vendor raises no alarm: every scenario of the project runs through the recording proxy in front of
the mock (a process on a loopback port); the proxy flags nothing, and drift replays the recording without drift."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.apis import Api
from conformance.cli import main as conformance_main
from conformance.drift import DriftOptions, run_drift
from conformance.results import ExitCode, Outcome
from launcher.servers import bundled_mock, serving
from mock_server.app import create_app
from mock_server.config import Settings
from tests.support import departures
from tests.support.departures import proxying


@pytest.fixture(scope="module")
def upstream_root() -> Iterator[str]:
    with bundled_mock("--today", "system") as root:
        yield root


@pytest.fixture(scope="module")
def drift_root() -> Iterator[str]:
    with serving(create_app(Settings(today=None))) as url:
        yield url


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_the_scenarios_through_the_recording_proxy_raise_no_alarm(
    api: Api, upstream_root: str, drift_root: str, tmp_path: Path
) -> None:
    har_path = tmp_path / f"{api.name}.har"
    org = ["--org-id", api.org_header_example() or ""] if api.org_header else []
    with proxying(f"{upstream_root}/{api.name}", api, record=har_path) as (proxy, printed):
        code = conformance_main(
            ["run", "--api", api.name, "--base-url", proxy, "--suite", "scenarios", "--allow-writes",
             "--token", "dev-token", "--rate-limit", "none", *org]
        )  # fmt: skip

    assert code == ExitCode.CONFORMS
    assert "violation" not in printed.getvalue(), printed.getvalue()
    result = run_drift(DriftOptions(api=api, har_path=har_path, base_url=drift_root))
    outcomes = {case.outcome for case in result.cases}
    assert outcomes == {Outcome.PASSED}, [
        (case.name, case.source, case.detail, [v.message for v in case.violations])
        for case in result.cases
        if case.outcome != Outcome.PASSED
    ]
    refused = [case for case in result.cases if "credentials refused" in case.source or "absent" in case.source]
    assert refused, "the recording holds refused exchanges, replayed with credentials of their class"
