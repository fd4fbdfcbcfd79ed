from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from conformance.reporting import html, json_report, junit
from conformance.reporting.console import print_report
from conformance.results import CaseResult, Exchange, ExitCode, Outcome, RunResult, Suite, Violation

EXCHANGE = Exchange(
    method="PATCH",
    url="http://127.0.0.1:8080/revnue/api/v2/contract/1",
    request_headers={"authorization": "***", "content-type": "application/json"},
    request_body='{"name": "Renamed"}',
    status=200,
    response_headers={"content-type": "application/json"},
    response_body='{"name": "Renamed", "description": null}',
)


def a_run() -> RunResult:
    return RunResult(
        cases=[
            CaseResult(
                api="revnue",
                suite=Suite.SCENARIOS,
                name="revnue.patch-keeps-untouched-fields",
                title="PATCH changes only the fields sent",
                outcome=Outcome.FAILED,
                duration=0.2,
                source="seeds/revnue-update-contract.txt",
                violations=[
                    Violation(
                        rule="revnue.patch-keeps-untouched-fields",
                        message="revnue.patch-keeps-untouched-fields: step 3 (read back): body at /description: "
                        'expected "<script>", got null',
                        expected='{"status": 200}',
                        exchange=EXCHANGE,
                    )
                ],
            ),
            CaseResult(api="revnue", suite=Suite.FUZZ, name="GET /x · ignored_auth", title="t", outcome=Outcome.PASSED),
            CaseResult(
                api="revnue",
                suite=Suite.SCENARIOS,
                name="revnue.x",
                title="x",
                outcome=Outcome.SKIPPED,
                detail="needs y",
            ),
            CaseResult(api="elevate", suite=Suite.FUZZ, name="engine", title="e", outcome=Outcome.ERROR, detail="boom"),
        ],
        duration=1.5,
        targets={"revnue": "http://127.0.0.1:8080/revnue", "elevate": "http://127.0.0.1:8080/elevate"},
        seed=42,
    )


def test_exit_code_prefers_violations_then_could_not_run() -> None:
    run = a_run()
    assert run.exit_code == ExitCode.VIOLATIONS
    run.cases[0].outcome = Outcome.PASSED
    assert run.exit_code == ExitCode.COULD_NOT_RUN
    run.cases[3].outcome = Outcome.PASSED
    assert run.exit_code == ExitCode.CONFORMS


def test_junit_has_one_testcase_per_case_with_failure_error_and_skip() -> None:
    root = ET.fromstring(junit.render(a_run()))

    assert root.get("tests") == "4" and root.get("failures") == "1" and root.get("errors") == "1"
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"elevate.fuzz", "revnue.fuzz", "revnue.scenarios"}
    failure = root.find(".//testcase[@name='revnue.patch-keeps-untouched-fields']/failure")
    assert failure is not None and failure.get("type") == "revnue.patch-keeps-untouched-fields"
    assert "Request: PATCH http://127.0.0.1:8080/revnue/api/v2/contract/1" in (failure.text or "")
    assert root.find(".//testcase[@name='revnue.x']/skipped").get("message") == "needs y"  # type: ignore[union-attr]
    assert root.find(".//testcase[@name='engine']/error") is not None


def test_json_report_round_trips_the_run() -> None:
    document = json.loads(json_report.render(a_run()))

    assert document["exit_code"] == 1
    assert document["summary"] == {"passed": 1, "failed": 1, "error": 1, "skipped": 1, "not run": 0}
    assert document["cases"][0]["violations"][0]["exchange"]["status"] == 200


def test_html_groups_violations_by_rule_with_request_expected_and_actual(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    html.write(a_run(), path)
    page = path.read_text(encoding="utf-8")

    assert page.count('<section class="rule">') == 1
    assert "<code>revnue.patch-keeps-untouched-fields</code> — PATCH changes only the fields sent" in page
    assert "<h4>Request</h4>" in page and "<h4>Expected</h4>" in page and "<h4>Actual response</h4>" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "&#34;description&#34;: null" in page


def test_console_summary_names_rules_and_verdict() -> None:
    console = Console(record=True, width=200)

    print_report(a_run(), console)
    text = console.export_text()

    assert "revnue.patch-keeps-untouched-fields — 1 violation(s)" in text
    assert "[elevate] engine: boom" in text
    assert "1 violation(s) of 1 rule(s) (seed 42" in text


def test_reports_carry_case_counts_and_the_rule_matrix(tmp_path: Path) -> None:
    run = a_run()
    run.cases[0].cases, run.cases[0].positive, run.cases[0].negative = 7, 3, 4
    page = html.render(run)
    document = json.loads(json_report.render(run))

    assert "7 (3 / 4)" in page
    assert "Rules of revnue" in page and "unchecked" in page
    rules = document["rules"]["revnue"]
    assert rules and {"id", "sentence", "checked_by", "result"} <= set(rules[0])
    results = [rule["result"] for rule in rules]
    assert results == sorted(results, key=lambda result: result != "unchecked"), "unchecked rules come first"
