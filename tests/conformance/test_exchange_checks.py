"""The exchange checks on exchanges built from each API's spec: each rule fires on its departure only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.apis import Api
from conformance.exchange_checks import CHECKS, Exchange, judge
from conformance.exchange_spec import contract_for
from tests.support import departures

JSON = {"content-type": "application/json"}


def _write(api: Api) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path, request headers, body) of the spec's example write to the API's first resource."""
    vendor = contract_for(api).vendor
    assert vendor is not None
    template = next(iter(vendor.resources))
    write = departures.example_write(api, template)
    assert write is not None
    method, media_type, body = write
    (parameter,) = [part[1:-1] for part in template.split("/") if part.startswith("{")]
    return method, template.replace(f"{{{parameter}}}", "1"), {"content-type": media_type}, body


def _rules(api: Api, **changes: Any) -> set[str]:
    method, path, headers, body = _write(api)
    exchange = Exchange(
        method=changes.get("method", method),
        path=changes.get("path", path),
        request_headers=changes.get("request_headers", headers),
        request_body=changes.get("request_body", body),
        status=changes.get("status", 404),
        response_headers=changes.get("response_headers", JSON),
        response_body=changes.get("response_body", b"{}"),
    )
    return {finding.rule for finding in judge(contract_for(api), exchange).findings}


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_each_check_fires_on_its_departure(api: Api) -> None:
    assert _rules(api, path="/no/such/operation") == {"operation_in_spec"}
    assert "status_code_conformance" in _rules(api, status=418)
    assert "content_type_conformance" in _rules(api, response_headers={"content-type": "text/html"})
    assert "response_schema_conformance" in _rules(api, response_body=b"[1, 2]")
    assert "invalid_request_accepted" in _rules(
        api, status=200, request_headers={"content-type": "application/xml"}, request_body=b"<a/>"
    )
    *_, body = _write(api)
    wrong_types = json.dumps(_wrongly_typed(json.loads(body))).encode()
    assert "invalid_request_accepted" in _rules(api, status=200, request_body=wrong_types)
    assert "invalid_request_accepted" not in _rules(api, status=400, request_body=wrong_types), "rejected: fine"


def _wrongly_typed(body: Any) -> Any:
    """The example body with every scalar replaced by a list, which no member of any spec accepts."""
    if isinstance(body, dict):
        return {name: _wrongly_typed(value) for name, value in body.items()}
    if isinstance(body, list):
        return [_wrongly_typed(item) for item in body]
    return [[body]]


def test_checks_are_registered_by_rule() -> None:
    assert {"status_code_conformance", "response_schema_conformance", "derived_members"} <= set(CHECKS)


@pytest.mark.parametrize(
    "path, evidence",
    [("/customer-contracts/1", "documented"), ("/contract-profiles/1", "inferred")],  # the latter is `x-likely`
)
def test_a_finding_is_classed_by_the_spec_node_it_breaks(path: str, evidence: str) -> None:
    api = next(api for api in departures.APIS if api.name == "elevate")
    answer = Exchange("GET", path, {}, b"", 200, JSON, b'{"id": "not a number"}')
    findings = judge(contract_for(api), answer).findings
    assert findings and {finding.rule for finding in findings} == {"response_schema_conformance"}
    assert {finding.as_dict()["evidence"] for finding in findings} == {evidence}
