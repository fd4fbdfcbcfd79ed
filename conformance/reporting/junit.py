"""JUnit XML: one test suite per API and suite, one test case per scenario and per fuzzed operation/check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path

from conformance.results import CaseResult, Outcome, RunResult, Violation


def render(result: RunResult) -> str:
    root = ET.Element(
        "testsuites",
        name="conformance",
        tests=str(len(result.cases)),
        failures=str(result.count(Outcome.FAILED) + (result.count(Outcome.DIFFERS) if result.strict else 0)),
        errors=str(result.count(Outcome.ERROR) + (1 if result.fatal else 0) + (1 if result.unrestored else 0)),
        skipped=str(result.count(Outcome.SKIPPED) + result.count(Outcome.NOT_RUN)),
        time=f"{result.duration:.3f}",
    )
    ordered = sorted(result.cases, key=lambda case: (case.api, case.suite.value))
    for (api, suite), group in groupby(ordered, key=lambda case: (case.api, case.suite.value)):
        cases = list(group)
        element = ET.SubElement(
            root,
            "testsuite",
            name=f"{api}.{suite}",
            tests=str(len(cases)),
            failures=str(
                result.count(Outcome.FAILED, cases) + (result.count(Outcome.DIFFERS, cases) if result.strict else 0)
            ),
            errors=str(result.count(Outcome.ERROR, cases)),
            skipped=str(result.count(Outcome.SKIPPED, cases) + result.count(Outcome.NOT_RUN, cases)),
            time=f"{sum(case.duration for case in cases):.3f}",
        )
        properties = ET.SubElement(element, "properties")
        ET.SubElement(properties, "property", name="base_url", value=result.targets.get(api, ""))
        if result.seed is not None:
            ET.SubElement(properties, "property", name="seed", value=str(result.seed))
        for case in cases:
            _testcase(element, case, result.strict)
    if result.fatal:
        element = ET.SubElement(root, "testsuite", name="run", tests="1", failures="0", errors="1", skipped="0")
        testcase = ET.SubElement(element, "testcase", classname="run", name="could not run")
        ET.SubElement(testcase, "error", message=result.fatal).text = result.fatal
    if result.unrestored:
        element = ET.SubElement(root, "testsuite", name="data left changed", tests="1", failures="0", errors="1")
        testcase = ET.SubElement(element, "testcase", classname="run", name="records not put back")
        text = "\n\n".join(f"{record.api} {record.path}\n{record.request}" for record in result.unrestored)
        ET.SubElement(testcase, "error", message=f"{len(result.unrestored)} record(s) left changed").text = text
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(parent: ET.Element, case: CaseResult, strict: bool = False) -> None:
    element = ET.SubElement(
        parent, "testcase", classname=f"{case.api}.{case.suite.value}", name=case.name, time=f"{case.duration:.3f}"
    )
    properties = ET.SubElement(element, "properties")
    ET.SubElement(properties, "property", name="evidence", value=case.evidence.value)
    if case.outcome == Outcome.DIFFERS:
        # Differs from our inference or HTTP hygiene: a failure only under --strict, else said in the output.
        text = "\n\n".join(_violation_text(violation) for violation in case.violations)
        if strict:
            first = case.violations[0]
            ET.SubElement(element, "failure", message=first.explanation.splitlines()[0], type=first.rule).text = text
        else:
            ET.SubElement(element, "system-out").text = text
    elif case.outcome == Outcome.FAILED:
        first = case.violations[0] if case.violations else Violation(rule=case.name, message=case.title)
        failure = ET.SubElement(element, "failure", message=first.message.splitlines()[0], type=first.rule)
        failure.text = "\n\n".join(_violation_text(violation) for violation in case.violations)
    elif case.outcome == Outcome.ERROR:
        first_line = case.detail.splitlines()[0] if case.detail else "error"
        ET.SubElement(element, "error", message=first_line).text = case.detail
    elif case.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN):
        ET.SubElement(element, "skipped", message=case.detail)


def _violation_text(violation: Violation) -> str:
    parts = [f"[{violation.evidence.value}] {violation.explanation}"]
    if violation.expected:
        parts.append(f"Expected:\n{violation.expected}")
    exchange = violation.exchange
    if exchange is not None:
        parts.append(f"Request: {exchange.method} {exchange.url}")
        if exchange.request_body:
            parts.append(exchange.request_body)
        parts.append(f"Response: {exchange.status}")
        if exchange.response_body:
            parts.append(exchange.response_body)
    return "\n".join(parts)


def write(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
