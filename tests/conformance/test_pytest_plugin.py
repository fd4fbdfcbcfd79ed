from __future__ import annotations

import uuid

# Imported here, outside the in-process runs: pytester drops the modules first imported inside a run, and
# httpx maps the exceptions of the httpcore it first met (a re-imported httpcore's ConnectError would leak).
import httpcore  # noqa: F401
import pytest

from conformance.apis import discover
from conformance.mock import bundled_mock
from conformance.scenarios.loader import scenario_files

pytest_plugins = ["pytester"]


def test_plugin_is_inert_without_conformance_api(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_own(): pass")

    result = pytester.runpytest_inprocess("-q")

    result.assert_outcomes(passed=1)


def test_scenarios_are_collected_as_items(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--conformance-api=elevate", "--collect-only", "-q")

    collected = [line for line in result.outlines if "::conformance[elevate]::" in line]
    assert len(collected) == len(scenario_files(discover()["elevate"].scenarios_dir))
    assert any(line.endswith("::elevate.op-test-fails-atomically") for line in collected)


def test_scenarios_run_against_the_bundled_mock(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--conformance-api=zoho-desk", "-k", "no-credentials-401 or org-mismatch")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["collected * items / * deselected / 2 selected"])


def test_a_broken_target_fails_the_item_naming_the_rule(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with bundled_mock("--variant", "404 returned as 200", module="tests.conformance.variant_server") as url:
        result = pytester.runpytest_inprocess(
            "--conformance-api=abillity",
            f"--conformance-base-url={url}/abillity",
            f"--conformance-token=dev-token.{uuid.uuid4().hex[:8]}",
            "--conformance-allow-writes",
            "-k",
            "unknown-contract-404",
        )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*abillity.unknown-contract-404*expected status 404, got 200*"])
