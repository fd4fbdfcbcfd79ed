"""Reports that say what ran: titles name suite, target and recording; counts agree with the cases;
markdown in rule sentences rendered (never raw HTML); the member a violation is about marked."""

from __future__ import annotations

import re

from rich.console import Console

from conformance.reporting import html
from conformance.reporting.console import print_report
from conformance.results import CaseResult, Exchange, Outcome, RunResult, Suite, Violation

URL = "http://127.0.0.1:8080/zoho-desk"
EXCHANGE = Exchange(
    method="PATCH", url=f"{URL}/api/v1/contracts/1", request_headers={}, request_body='{"notifyBefore": 10}',
    status=200, response_headers={"content-type": "application/json"},
    response_body='{"contractName": "Gold", "notifyBefore": 3}',
)  # fmt: skip


def drift_run() -> RunResult:
    violation = Violation(
        rule="drift:body", message="the mock answers `notifyBefore` 10", subject="notifyBefore", exchange=EXCHANGE
    )
    case = CaseResult(
        api="zoho-desk", suite=Suite.DRIFT, name="entry 1", title="PATCH replayed", outcome=Outcome.FAILED,
        violations=[violation],
    )  # fmt: skip
    return RunResult(cases=[case], duration=1.0, targets={"zoho-desk": URL}, recording="zoho.har")


def scenarios_run() -> RunResult:
    cases = [
        CaseResult(api="zoho-desk", suite=Suite.SCENARIOS, name=f"s{n}", title="`orgId` <b>is</b> required",
                   outcome=Outcome.PASSED)
        for n in range(3)
    ]  # fmt: skip
    return RunResult(cases=cases, duration=1.0, targets={"zoho-desk": URL})


def test_a_drift_report_is_titled_with_its_target_and_recording() -> None:
    page = html.render(drift_run())
    expected = f"Drift report · zoho-desk at {URL} · recording zoho.har"
    assert f"<title>{expected}</title>" in page and f"<h1>{expected}</h1>" in page
    console = Console(record=True, width=200)
    print_report(drift_run(), console)
    assert expected in console.export_text()


def test_a_drift_report_lists_no_rules_it_did_not_judge() -> None:
    page = html.render(drift_run())
    assert "Rules of" not in page
    assert "All 1 cases" in page


def test_a_run_report_names_its_suites() -> None:
    assert f"<h1>Conformance report (scenarios) · zoho-desk at {URL}</h1>" in html.render(scenarios_run())


def test_counts_agree_a_suite_without_generated_cases_shows_none_not_zero() -> None:
    page = html.render(scenarios_run())
    row = re.search(r"<tr><td>zoho-desk</td><td>scenarios</td>(.*?)</tr>", page)
    assert row is not None
    assert '<td class="passed">3</td>' in row.group(1)
    assert row.group(1).endswith("<td>—</td>")


def test_markdown_in_titles_is_rendered_and_html_in_them_is_not() -> None:
    page = html.render(scenarios_run())
    assert "<code>orgId</code> &lt;b&gt;is&lt;/b&gt; required" in page
    assert "`orgId`" not in page and "<b>is</b>" not in page


def test_the_member_a_violation_is_about_is_marked_in_the_actual_body() -> None:
    page = html.render(drift_run())
    assert "<mark>  &#34;notifyBefore&#34;: 3</mark>" in page
    assert "<mark>  &#34;contractName&#34;" not in page
    assert "the mock answers <code>notifyBefore</code> 10" in page
