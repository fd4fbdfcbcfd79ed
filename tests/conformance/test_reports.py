from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from conformance.reporting import html, json_report, junit
from conformance.reporting.console import print_report
from conformance.results import (
    Basis,
    CaseResult,
    Evidence,
    Exchange,
    ExitCode,
    Outcome,
    RunResult,
    Suite,
    Unrestored,
    Violation,
)

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
    assert document["summary"] == {"passed": 1, "failed": 1, "differs": 0, "error": 1, "skipped": 1, "not run": 0}
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

    assert "revnue.patch-keeps-untouched-fields — 1 violation(s) of a documented rule" in text
    assert "[elevate] engine: boom" in text
    assert "1 violation(s) of 1 documented rule(s) (seed 42" in text


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


INFERENCE = Basis(Evidence.INFERRED, "vendors.md: 'PATCH response not documented: 200 with the ContractView (likely)'")


def a_run_differing_only_from_inferences(*, strict: bool = False) -> RunResult:
    case = CaseResult(
        api="abillity",
        suite=Suite.FUZZ,
        name="POST /api/contract · status_code_conformance",
        title="Every status code is one the spec documents for the operation.",
        outcome=Outcome.FAILED,
        violations=[
            Violation(rule="status_code_conformance", message="201 is not declared (declared: 200)", basis=INFERENCE),
            Violation(rule="allow_header_conformance", message="a 405 without Allow", basis=Basis(Evidence.HTTP)),
        ],
    )
    case.settle()
    return RunResult(cases=[case], duration=1.0, targets={"abillity": "http://127.0.0.1:1/abillity"}, strict=strict)


def test_a_difference_from_an_inference_is_reported_apart_and_fails_only_strict(tmp_path: Path) -> None:
    lenient, strict = a_run_differing_only_from_inferences(), a_run_differing_only_from_inferences(strict=True)
    console = Console(record=True, width=200)

    print_report(lenient, console)
    text = console.export_text()

    assert lenient.cases[0].outcome == Outcome.DIFFERS
    assert lenient.exit_code == ExitCode.CONFORMS and strict.exit_code == ExitCode.VIOLATIONS
    assert "differs from our inference: 201 is not declared (declared: 200) because vendors.md" in text
    assert "[http] differs from HTTP hygiene: a 405 without Allow" in text
    assert "Conforms: no documented rule broken; 1 check(s) differ" in text
    document = json.loads(json_report.render(lenient))
    assert document["summary"]["differs"] == 1 and document["by_evidence"] == {
        "documented": 0,
        "inferred": 1,
        "http": 1,
    }
    assert document["cases"][0]["violations"][0]["evidence"] == "inferred"
    lenient_xml, strict_xml = ET.fromstring(junit.render(lenient)), ET.fromstring(junit.render(strict))
    assert lenient_xml.get("failures") == "0" and strict_xml.get("failures") == "1"
    assert lenient_xml.find(".//property[@name='evidence']").get("value") == "inferred"  # type: ignore[union-attr]
    html.write(lenient, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "Differences from our inferences and HTTP hygiene" in page and "inferred" in page


def test_data_left_changed_exits_2_and_names_record_members_and_request(tmp_path: Path) -> None:
    run = a_run()
    run.unrestored = [
        Unrestored(
            api="revnue",
            path="/api/v2/contract/1/",
            members={"first_offer_value": ("150000.00", "0.01")},
            request="PATCH http://t/api/v2/contract/1/\nContent-Type: application/json\n\n"
            '{"first_offer_value": "150000.00"}',
        )
    ]
    console = Console(record=True, width=200)

    print_report(run, console)
    text = console.export_text()

    assert run.exit_code == ExitCode.COULD_NOT_RUN
    assert "DATA LEFT CHANGED" in text and 'first_offer_value: was "150000.00", now "0.01"' in text
    assert '{"first_offer_value": "150000.00"}' in text and "restored" not in text
    assert json.loads(json_report.render(run))["unrestored"][0]["path"] == "/api/v2/contract/1/"
