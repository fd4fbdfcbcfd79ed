"""Every check is classed by what it rests on, read from the spec's marks: documented, inferred or HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from openapi_schema_validator import OAS30WriteValidator

from conformance.apis import discover
from conformance.evidence import error_basis, fuzz_basis
from conformance.http import Client
from conformance.results import Evidence, Outcome
from conformance.scenarios.loader import load_file
from conformance.scenarios.runner import ScenarioSession, run_scenario
from conformance.target import Redactor, resolve_target
from launcher.servers import bundled_mock

APIS = discover()


ELEVATE_READ = "/customer-contracts/1"
JSON = "application/json"


def operation(api: str, method: str, path: str):  # type: ignore[no-untyped-def]
    found = APIS[api].operation_for(method, path)
    assert found is not None
    return found


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_response_shape_the_documents_do_not_show_is_an_inference() -> None:
    # Elevate's list envelope is x-likely; DRF-style decimal strings break Revnue's x-likely Contract.
    listing = operation("elevate", "GET", "/customer-contracts")
    page = fuzz_basis(APIS["elevate"], "response_schema_conformance", listing, status=200,
                      response_body=body({"content": []}), response_media_type=JSON)  # fmt: skip
    assert page.evidence == Evidence.INFERRED and "shape is not documented" in page.source


def test_a_broken_documented_member_of_a_documented_response_is_a_violation() -> None:
    contract = {"id": "x", "customerId": 1, "contractProfileId": 1, "startDate": "2025-01-01"}
    read = operation("elevate", "GET", ELEVATE_READ)
    basis = fuzz_basis(APIS["elevate"], "response_schema_conformance", read, status=200,
                       response_body=body(contract), response_media_type=JSON)  # fmt: skip
    assert basis.evidence == Evidence.DOCUMENTED


def test_null_in_a_member_the_documents_list_as_optional_is_an_inference() -> None:
    contract = {"id": 1, "customerId": 1, "contractProfileId": 1, "startDate": "2025-01-01", "renewalAlertDays": None}
    read = operation("elevate", "GET", ELEVATE_READ)
    basis = fuzz_basis(APIS["elevate"], "response_schema_conformance", read, status=200,
                       response_body=body(contract), response_media_type=JSON)  # fmt: skip
    assert basis.evidence == Evidence.INFERRED and "optional" in basis.source


def test_an_invalid_from_on_a_replace_is_no_documented_rule() -> None:
    """RFC 6902 §4: members not defined for an operation are ignored (`x-likely-keywords: [pattern]` on `from`)."""
    patch = [{"op": "replace", "path": "/renewalAlertDays", "value": 3, "from": "\u0084"}]
    bad_op = [{"op": "frobnicate", "path": "/renewalAlertDays"}]
    elevate_patch = operation("elevate", "PATCH", "/customer-contracts/1")
    media = "application/json-patch+json"

    ignored = fuzz_basis(APIS["elevate"], "negative_data_rejection", elevate_patch, request_body=body(patch),
                         request_media_type=media)  # fmt: skip
    broken = fuzz_basis(APIS["elevate"], "negative_data_rejection", elevate_patch, request_body=body(bad_op),
                        request_media_type=media)  # fmt: skip

    assert ignored.evidence == Evidence.INFERRED and "RFC 6902" in ignored.source
    assert broken.evidence == Evidence.DOCUMENTED


def test_a_status_next_to_an_inferred_one_and_a_405_without_allow_are_not_documented() -> None:
    create = operation("abillity", "POST", "/api/contract")

    assert fuzz_basis(APIS["abillity"], "status_code_conformance", create, status=201).evidence == Evidence.INFERRED
    assert fuzz_basis(APIS["abillity"], "allow_header_conformance", create, status=405).evidence == Evidence.HTTP


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with bundled_mock() as url:
        yield url


def test_a_refused_write_that_would_change_nothing_is_not_run_not_failed(mock_url: str) -> None:
    """The target file says contract_billing's customer is the one to change it to: the data does not fit."""
    api = APIS["elevate"]
    target = resolve_target(api, base_url=f"{mock_url}/elevate", bundled=True, tenant=uuid.uuid4().hex[:8])
    contract_billing_customer = 1002  # fixtures/elevate/seed.yaml
    target = replace(
        target, variables={**target.variables, "customer_of_contract_not_billing": contract_billing_customer}
    )
    scenario = load_file(api.scenarios_dir / "billing-lock-rejects-customer.yaml", api.name)

    client = Client(target.base_url, redactor=Redactor(frozenset()))
    try:
        result = run_scenario(scenario, ScenarioSession(target, client, writes_allowed=True))
    finally:
        client.close()

    assert result.outcome == Outcome.NOT_RUN, result.violations
    assert "already holds customerId=1002" in result.detail and "target file" in result.detail


def negative_basis(api: str, path: str, document: object):  # type: ignore[no-untyped-def]
    """The basis of a refused PATCH of `document` that a target accepted (`negative_data_rejection`)."""
    return fuzz_basis(APIS[api], "negative_data_rejection", operation(api, "PATCH", path), request_body=body(document),
                      request_media_type=JSON)  # fmt: skip


@pytest.mark.parametrize(
    ("api", "path", "member"),
    [("abillity", "/api/contract/1", "CompanyID"), ("revnue", "/api/v2/contract/1/", "mrc")],
)
def test_an_any_of_refuses_a_value_of_no_branch_type_as_documented_and_one_only_an_inferred_branch_refuses_as_inferred(
    api: str, path: str, member: str
) -> None:
    # Both are a documented number or an inferred string form (aBILLity: digits, listed last; Revnue: DRF's
    # decimal string, listed first): the branches' order does not change the verdict.
    assert negative_basis(api, path, {member: True}).evidence == Evidence.DOCUMENTED
    assert negative_basis(api, path, {member: []}).evidence == Evidence.DOCUMENTED
    refused_by_the_inference = negative_basis(api, path, {member: "1e2"})  # DRF reads it as 100
    assert refused_by_the_inference.evidence == Evidence.INFERRED


def test_null_refused_by_every_branch_of_an_optional_member_is_an_inference() -> None:
    basis = negative_basis("revnue", "/api/v2/contract/1/", {"total_contract_spend_value": None})
    assert basis.evidence == Evidence.INFERRED and "optional" in basis.source


@pytest.mark.parametrize("order", [1, -1])
def test_the_order_of_an_any_of_s_branches_does_not_change_what_a_refusal_rests_on(order: int) -> None:
    branches = [
        {"type": "integer"},
        {"type": "string", "pattern": "^[0-9]{1,10}$", "x-likely": True, "x-likely-source": "digits, likely"},
    ][::order]
    schema = {"type": "object", "properties": {"n": {"anyOf": branches}}}
    validator = OAS30WriteValidator(schema)

    def basis_of(value: object) -> Evidence:
        (error,) = validator.iter_errors({"n": value})
        return error_basis(schema, error).evidence

    assert basis_of(True) == Evidence.DOCUMENTED
    assert basis_of({}) == Evidence.DOCUMENTED
    assert basis_of("abc") == Evidence.INFERRED
    assert basis_of("12345678901") == Evidence.INFERRED
