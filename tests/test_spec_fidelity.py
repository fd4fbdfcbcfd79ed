"""Spec fidelity (issue 21): every member, limit and status the vendors' documents state is in the
spec and enforced by the mock; every other response an update operation declares is marked x-likely.

The tables below are the documents (the seeds and `vendors.md`), quoted row by row. A row's probe
sends the value at the limit (accepted) and one past it (refused, naming the member) to the running
mock; what the spec says is read from the spec, so a spec that drifts from a document fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from conformance.apis import discover
from conformance.boundaries import limit_basis
from conformance.invariants import UpdateModel
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.engine.spec import SpecView
from openapi_model.evidence import status_basis


@dataclass(frozen=True)
class Limit:
    api: str
    schema: str  # the component schema of the update body
    member: str
    keyword: str  # maxLength | minLength | minimum | maximum
    value: int
    source: str


LIMITS = [
    Limit("elevate", "CustomerContract", "renewalAlertDays", "minimum", 0, "vendors.md: renewalAlertDays 0–28"),
    Limit("elevate", "CustomerContract", "renewalAlertDays", "maximum", 28, "vendors.md: renewalAlertDays 0–28"),
    Limit("elevate", "CustomerContract", "noticePeriodDays", "minimum", 0, "vendors.md: noticePeriodDays 0–2147483647"),
    Limit("elevate", "CustomerContract", "noticePeriodDays", "maximum", 2147483647, "vendors.md: 0–2147483647"),
    Limit("elevate", "CustomerContract", "name", "maxLength", 100, "vendors.md: optional name 1–100 chars"),
    Limit("abillity", "ContractModify", "DisplayName", "maxLength", 100, "seed: inclusive between 0 and 100"),
    Limit("abillity", "ContractModify", "ContractFilename", "maxLength", 255, "seed: inclusive between 0 and 255"),
    Limit("abillity", "ContractModify", "Notes", "maxLength", 2000, "seed: inclusive between 0 and 2000"),
    Limit("zoho-desk", "ContractUpdate", "contractNumber", "maxLength", 50, "seed: <string> max chars : 50"),
    Limit("zoho-desk", "ContractUpdate", "contractName", "maxLength", 80, "seed: <string> max chars : 80"),
    Limit("zoho-desk", "ContractUpdate", "description", "maxLength", 65535, "seed: <string> max chars : 65535"),
    Limit("revnue", "ContractWritable", "name", "maxLength", 50, "seed: Max characters =50"),
    Limit("revnue", "ContractWritable", "number", "maxLength", 50, "seed: Max characters =50"),
    Limit("revnue", "ContractWritable", "description", "maxLength", 1000, "seed: Max characters =1000"),
    Limit("revnue", "ContractWritable", "timeline_notes", "maxLength", 1000, "seed: Max characters =1000"),
    Limit("revnue", "ContractWritable", "financial_notes", "maxLength", 1000, "seed: Max characters =1000"),
    Limit("revnue", "ContractWritable", "mrc", "minimum", 0, "seed: Min value =0.00"),
    Limit("revnue", "ContractWritable", "mrc", "maximum", 999999999999999, "seed: Max value =999999999999999.00"),
    Limit("revnue", "ContractWritable", "first_offer_value", "maximum", 999999999999999, "seed: Max value"),
    Limit("revnue", "ContractWritable", "cost_avoidance_value", "maximum", 999999999999999, "seed: Max value"),
    Limit("revnue", "ContractWritable", "contract_risk_value", "maximum", 999999999999999, "seed: Max value"),
]

# (api, method, path template) -> statuses the documents state for that operation
DOCUMENTED_STATUSES = {
    ("elevate", "PATCH", "/customer-contracts/{customer_contract_id}"): {200, 400, 401, 403, 404},
    ("abillity", "GET", "/api/contract/{id}"): {401, 404},
    ("zoho-desk", "PATCH", "/api/v1/contracts/{contract_id}"): {401, 422},
    ("revnue", "PUT", "/api/v2/contract/{id}"): {429},
    ("revnue", "PATCH", "/api/v2/contract/{id}"): {429},
}

# Statuses every API answers by the HTTP protocol or the mock's own guards, not a vendor's choice.
PROTOCOL_STATUSES = {405, 413, 415, 500}


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(Settings(validate_responses=True))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


def spec_of(app: Any, api: str) -> SpecView:
    spec: SpecView = app.state.specs[api]
    return spec


@pytest.mark.parametrize("limit", LIMITS, ids=lambda lim: f"{lim.api}:{lim.member}:{lim.keyword}")
def test_every_documented_limit_is_in_the_spec(app: Any, limit: Limit) -> None:
    assert spec_of(app, limit.api).property(limit.schema, limit.member).get(limit.keyword) == limit.value


@pytest.mark.parametrize("limit", LIMITS, ids=lambda lim: f"{lim.api}:{lim.member}:{lim.keyword}")
def test_every_documented_limit_is_judged_documented(limit: Limit) -> None:
    """A target that breaks a documented limit is a violation, not a difference from our inferences: the
    harness's one reading of a limit's class (boundary findings, the rule matrix) says documented, on every
    update that takes the member (the seeds are the update pages)."""
    api = discover()[limit.api]
    model = UpdateModel(api)
    judged = [
        limit_basis(model, operation, media_type, limit.member, limit.keyword)
        for operation in api.operations()
        if model.checked(operation) and operation.method in ("PUT", "PATCH")
        for media_type in operation.definition.get("requestBody", {}).get("content", {})
        if limit.member in (model.record_members(operation) if model.semantics(operation) == "json-patch"
                            else model.request_members(operation, media_type))
    ]  # fmt: skip
    assert judged, "no write takes the member"
    assert [basis for basis in judged if not basis.documented] == []


# --- the probes: one update of one member, as each vendor takes it ---------------------------------

Send = Callable[[TestClient, str, Any], Any]


def _token() -> str:
    return f"dev-token.{uuid.uuid4().hex[:12]}"


def _elevate(client: TestClient, member: str, value: Any) -> Any:
    headers = {"Authorization": f"Bearer {_token()}", "Content-Type": "application/json-patch+json"}
    body = [{"op": "replace", "path": f"/{member}", "value": value}]
    return client.patch("/elevate/customer-contracts/1", headers=headers, json=body)


def _abillity(client: TestClient, member: str, value: Any) -> Any:
    return client.patch(
        "/abillity/api/contract/1", headers={"Authorization": f"Bearer {_token()}"}, json={member: value}
    )


def _zoho(client: TestClient, member: str, value: Any) -> Any:
    headers = {"Authorization": f"Zoho-oauthtoken {_token()}", "orgId": "60000000001"}
    return client.patch("/zoho-desk/api/v1/contracts/10000000000001", headers=headers, json={member: value})


def _revnue(client: TestClient, member: str, value: Any) -> Any:
    return client.patch(
        "/revnue/api/v2/contract/1", headers={"Authorization": f"Bearer {_token()}"}, json={member: value}
    )


SENDERS: dict[str, Callable[[TestClient, str, Any], Any]] = {
    "elevate": _elevate,
    "abillity": _abillity,
    "zoho-desk": _zoho,
    "revnue": _revnue,
}


def _values(limit: Limit) -> tuple[Any, Any]:
    """(the value at the limit, the value just past it)."""
    match limit.keyword:
        case "maxLength":
            return "x" * limit.value, "x" * (limit.value + 1)
        case "minLength":
            return "x" * limit.value, "x" * (limit.value - 1)
        case "maximum":
            return limit.value, limit.value + 1
        case _:
            return limit.value, limit.value - 1


@pytest.mark.parametrize("limit", LIMITS, ids=lambda lim: f"{lim.api}:{lim.member}:{lim.keyword}")
def test_every_documented_limit_is_enforced_by_the_mock(client: TestClient, limit: Limit) -> None:
    at_limit, past_limit = _values(limit)
    send = SENDERS[limit.api]
    accepted = send(client, limit.member, at_limit)
    assert accepted.status_code == 200, accepted.text[:300]
    refused = send(client, limit.member, past_limit)
    assert refused.status_code in (400, 422), refused.text[:300]
    assert limit.member in refused.text


@pytest.mark.parametrize(("operation", "statuses"), DOCUMENTED_STATUSES.items(), ids=lambda v: str(v))
def test_every_documented_status_is_declared(app: Any, operation: tuple[str, str, str], statuses: set[int]) -> None:
    api, method, template = operation
    found = next(op for op in spec_of(app, api).operations if (op.method, op.path) == (method, template))
    declared = {int(code) for code in found.definition["responses"] if str(code).isdigit()}
    assert statuses <= declared


@pytest.mark.parametrize(("operation", "statuses"), DOCUMENTED_STATUSES.items(), ids=lambda v: str(v))
def test_every_documented_status_is_judged_documented(
    app: Any, operation: tuple[str, str, str], statuses: set[int]
) -> None:
    """A documented status is the harness's to require: what the response's body looks like may be our inference,
    answering another status is not (`x-likely` on the body's schema, not on the response)."""
    api, method, template = operation
    found = next(op for op in spec_of(app, api).operations if (op.method, op.path) == (method, template))
    judged = {status: status_basis(found.definition, status) for status in statuses}
    assert {status: basis.source for status, basis in judged.items() if not basis.documented} == {}


@pytest.mark.parametrize(("operation", "statuses"), DOCUMENTED_STATUSES.items(), ids=lambda v: str(v))
def test_every_other_declared_status_is_marked_likely(
    app: Any, operation: tuple[str, str, str], statuses: set[int]
) -> None:
    """What a document does not state is an inference: the response (or what it refers to) says so."""
    api, method, template = operation
    spec = spec_of(app, api)
    raw_operation = spec.raw["paths"][template][method.lower()]
    unmarked = []
    for code, response in raw_operation["responses"].items():
        if not str(code).isdigit() or int(code) in statuses | PROTOCOL_STATUSES or 200 <= int(code) < 300:
            continue
        target = _target(spec.raw, response)
        if target.get("x-likely") is not True and "likely" not in str(target.get("description", "")).lower():
            unmarked.append(code)
    assert unmarked == [], f"{api} {method} {template}: unmarked {unmarked}"


def _target(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        found: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


# (api, schema) -> the members the document lists for that body or record
DOCUMENTED_MEMBERS = {
    ("elevate", "CustomerContract"): (
        "id name customerId siteId contractProfileId startDate endDate createdDate rolloverContractProfileId "
        "renewalAlertDays noticePeriodDays previousCustomerContractId renewedCustomerContractId"
    ),  # seed: Response 200 fields
    ("abillity", "ContractModify"): (
        "DisplayName CompanyID StartDate ContractTerm AccountManagerID AgentCompanyID AgentContactID Cancelled "
        "CancelledDate TerminationDate ContractFilename EstimatedUsage EstimatedUsageMargin TechFundBalance Notes "
        "MaxCLIs NetworkProviderID"
    ),  # seed: Body Parameters, ContractModify
    ("zoho-desk", "ContractUpdate"): (
        "associatedSLAId accountId departmentId productId contractNumber notificationAgentIds notifyBefore "
        "startDate endDate ownerId contractName description customFields cf sla account product"
    ),  # seed: Attributes
    ("revnue", "ContractWritable"): (
        "company name number parent_contract first_offer_value cost_avoidance_value contract_risk_value customer "
        "supplier country status category description business_unit contract_start_date contract_end_date "
        "notice_period service_start_date end_of_term_clause end_of_term_action timeline_notes "
        "total_contract_spend_value mrc nrc expenditure_type payment_terms financing financial_notes template"
    ),  # seed: Request Syntax
}

# (api, schema) -> the members the document marks required
DOCUMENTED_REQUIRED = {
    ("revnue", "ContractReplace"): (
        "company name number country status contract_start_date contract_end_date total_contract_spend_value"
    ),  # seed: [REQUIRED]
    ("elevate", "CustomerContractCreate"): "customerId contractProfileId startDate",  # vendors.md
}


@pytest.mark.parametrize(("where", "members"), DOCUMENTED_MEMBERS.items(), ids=lambda v: str(v)[:40])
def test_every_documented_member_is_in_the_spec(app: Any, where: tuple[str, str], members: str) -> None:
    api, schema = where
    assert set(members.split()) <= set(spec_of(app, api).property_names(schema))


@pytest.mark.parametrize(("where", "members"), DOCUMENTED_REQUIRED.items(), ids=lambda v: str(v)[:40])
def test_every_documented_required_member_is_required_in_the_spec(
    app: Any, where: tuple[str, str], members: str
) -> None:
    api, schema = where
    resolved = spec_of(app, api).schema(schema)
    required = set(resolved.get("required", []))
    for part in resolved.get("allOf", []):
        required |= set(part.get("required", []))
    assert set(members.split()) <= required
