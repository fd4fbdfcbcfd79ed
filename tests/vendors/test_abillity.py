"""Union Street aBILLity mock: every documented rule, with its status, its body and the state after."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from openapi_schema_validator import OAS30Validator
from starlette.testclient import TestClient

from mock_server.app import create_app, mock_state
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, Settings
from mock_server.engine.spec import SpecView
from mock_server.state.fixtures import dangling_references, load_seed
from mock_server.vendors.abillity import VENDOR, dotnet_date_time, dotnet_timestamp

SPEC_PATH = DEFAULT_SPEC_DIR / "abillity.yaml"
SEED_PATH = DEFAULT_FIXTURES_DIR / "abillity" / "seed.yaml"
CONTRACT = "/abillity/api/contract/1"
MISSING = "/abillity/api/contract/999999"
INVALID = "The request is invalid."
DENIED = {"Message": "Authorization has been denied for this request."}
NO_PERMISSION = {"Message": "Invalid company permissions"}


@pytest.fixture(scope="module")
def app(app_store):
    return create_app(Settings(apis=("abillity",), validate_responses=True), store=app_store)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


def tenant_of(token: str) -> str:
    """A derived token: the grants of `token`, and a tenant of its own for this test."""
    return f"{token}.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant_of('dev-token')}"}


def get(client: TestClient, auth: dict[str, str], path: str = CONTRACT) -> dict[str, Any]:
    response = client.get(path, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def patch_json(client: TestClient, auth: dict[str, str], body: Any, path: str = CONTRACT):
    return client.patch(path, headers=auth, json=body)


def model_state_error(**state: list[str]) -> dict[str, Any]:
    return {"Message": INVALID, "ModelState": state}


def assert_rejected_unchanged(client, auth, response, status: int, body: dict[str, Any], before: dict[str, Any]):
    assert (response.status_code, response.json()) == (status, body)
    assert get(client, auth) == before


# --- fixtures --------------------------------------------------------------------------------


def test_seed_contracts_are_contract_views_with_existing_references():
    seed = load_seed(SEED_PATH)
    view = OAS30Validator(SpecView.load(SPEC_PATH).schema("ContractView"))
    assert "1" in seed["contracts"] and "999999" not in seed["contracts"]
    for key, contract in seed["contracts"].items():
        assert contract["ContractID"] == int(key)
        assert not [e.message for e in view.iter_errors(contract)], key
        for member in ("StartDate", "CancelledDate", "TerminationDate", "LastUpdated"):
            if contract[member] is not None:
                assert dotnet_date_time(contract[member]) == contract[member]
    assert dangling_references(VENDOR, seed) == []


def test_seed_agent_contacts_belong_to_the_contracts_agent_company():
    seed = load_seed(SEED_PATH)
    for contract in seed["contracts"].values():
        if contract["AgentContactID"] is not None:
            contact = seed["agent_contacts"][str(contract["AgentContactID"])]
            assert contact["AgentCompanyID"] == contract["AgentCompanyID"]


# --- reading and updating ----------------------------------------------------------------------


def test_get_returns_the_seeded_contract_view(client, auth):
    contract = get(client, auth)
    seeded = load_seed(SEED_PATH)["contracts"]["1"]
    assert contract == seeded


def test_patch_returns_the_contract_and_get_reads_it_back(client, auth):
    response = patch_json(client, auth, {"DisplayName": "Acme — renamed", "ContractTerm": 24})
    assert response.status_code == 200
    assert response.json()["DisplayName"] == "Acme — renamed"
    assert response.json()["ContractTerm"] == 24
    assert get(client, auth) == response.json()


def test_fields_not_sent_stay_unchanged(client, auth):
    before = get(client, auth)
    after = patch_json(client, auth, {"Notes": "Only the notes change"}).json()
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"Notes", "LastUpdated"}


def test_null_members_count_as_not_sent(client, auth):
    before = get(client, auth)
    after = patch_json(client, auth, {"DisplayName": None, "AgentContactID": None, "MaxCLIs": 41}).json()
    assert after == {**before, "MaxCLIs": 41, "LastUpdated": after["LastUpdated"]}


def test_unknown_members_are_ignored(client, auth):
    before = get(client, auth)
    after = patch_json(client, auth, {"ContractID": 77, "Colour": "blue", "MaxCLIs": 3}).json()
    assert after == {**before, "MaxCLIs": 3, "LastUpdated": after["LastUpdated"]}


def test_last_updated_is_the_mocks_current_time(app, client, auth):
    after = patch_json(client, auth, {"MaxCLIs": 5}).json()
    assert after["LastUpdated"].startswith(mock_state(app).clock.today().isoformat() + "T")
    assert dotnet_date_time(after["LastUpdated"]) == after["LastUpdated"]


UPDATE = {
    "DisplayName": "Acme — all sites",
    "CompanyID": 2,
    "StartDate": "2026-01-05",
    "ContractTerm": 48,
    "AccountManagerID": 3,
    "AgentCompanyID": 2,
    "AgentContactID": 3,
    "Cancelled": True,
    "CancelledDate": "2026-10-31T15:04:05.1230000",
    "TerminationDate": "2030-01-04T23:59",
    "ContractFilename": "acme-all-sites.pdf",
    "EstimatedUsage": 99.5,
    "EstimatedUsageMargin": 12.25,
    "TechFundBalance": 750,
    "Notes": "Moved to Brightside's agent",
    "MaxCLIs": 64,
    "NetworkProviderID": 4,
}
STORED = {
    **UPDATE,
    "StartDate": "2026-01-05T00:00:00",
    "CancelledDate": "2026-10-31T15:04:05.123",
    "TerminationDate": "2030-01-04T23:59:00",
}


def _form(body: dict[str, Any]) -> dict[str, str]:
    return {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in body.items()}


@pytest.mark.parametrize(
    "content_type, encode",
    [
        ("application/json", lambda body: json.dumps(body).encode()),
        ("text/json", lambda body: json.dumps(body).encode()),
        ("application/x-www-form-urlencoded", lambda body: urlencode(_form(body)).encode()),
    ],
)
def test_every_member_can_be_updated_in_each_content_type(client, auth, content_type, encode):
    headers = {**auth, "Content-Type": content_type}
    response = client.patch(CONTRACT, headers=headers, content=encode(UPDATE))
    assert response.status_code == 200, response.text
    expected = {"ContractID": 1, **STORED, "LastUpdated": response.json()["LastUpdated"]}
    assert response.json() == expected
    assert get(client, auth) == expected


# --- validation (400, ModelState) --------------------------------------------------------------


@pytest.mark.parametrize("member, limit", [("DisplayName", 100), ("ContractFilename", 255), ("Notes", 2000)])
def test_string_lengths(client, auth, member, limit):
    assert patch_json(client, auth, {member: "x" * limit}).json()[member] == "x" * limit
    before = get(client, auth)
    response = patch_json(client, auth, {member: "y" * (limit + 1)})
    message = f"The field {member} must be a string with a maximum length of {limit}."
    assert_rejected_unchanged(client, auth, response, 400, model_state_error(**{f"model.{member}": [message]}), before)


def test_every_invalid_member_is_named(client, auth):
    before = get(client, auth)
    response = patch_json(client, auth, {"DisplayName": "z" * 101, "CompanyID": "two", "Cancelled": "yes"})
    expected = model_state_error(
        **{
            "model.Cancelled": ["The value is not valid for Cancelled."],
            "model.CompanyID": ["The value is not valid for CompanyID."],
            "model.DisplayName": ["The field DisplayName must be a string with a maximum length of 100."],
        }
    )
    assert_rejected_unchanged(client, auth, response, 400, expected, before)


@pytest.mark.parametrize(
    "member, value",
    [("StartDate", "2026-02-30"), ("CancelledDate", "02/11/2025"), ("TerminationDate", "2025-11-02T24:00:00")],
)
def test_dates_must_be_real_dotnet_dates(client, auth, member, value):
    before = get(client, auth)
    response = patch_json(client, auth, {member: value})
    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == [f"model.{member}"]
    assert get(client, auth) == before


@pytest.mark.parametrize(
    "member, value", [("MaxCLIs", 2**31), ("ContractTerm", -(2**31) - 1), ("EstimatedUsage", 1e29)]
)
def test_numbers_must_fit_dotnet_types(client, auth, member, value):
    before = get(client, auth)
    response = patch_json(client, auth, {member: value})
    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == [f"model.{member}"]
    assert get(client, auth) == before


@pytest.mark.parametrize("content_type", ["application/json", "text/json"])
def test_amounts_must_be_finite(client, auth, content_type):
    before = get(client, auth)
    body = b'{"TechFundBalance": NaN}'
    response = client.patch(CONTRACT, headers={**auth, "Content-Type": content_type}, content=body)
    expected = model_state_error(model=["Malformed JSON: NaN is not valid JSON"])
    assert_rejected_unchanged(client, auth, response, 400, expected, before)


@pytest.mark.parametrize(
    "member, noun",
    [
        ("CompanyID", "companies"),
        ("AccountManagerID", "account managers"),
        ("AgentCompanyID", "agent companies"),
        ("AgentContactID", "agent contacts"),
        ("NetworkProviderID", "network providers"),
    ],
)
def test_referenced_records_must_exist(client, auth, member, noun):
    before = get(client, auth)
    response = patch_json(client, auth, {member: 999999, "Notes": "not saved"})
    expected = model_state_error(**{f"model.{member}": [f"No {noun} found with ID 999999"]})
    assert_rejected_unchanged(client, auth, response, 400, expected, before)


def test_agent_contact_must_belong_to_the_agent_company(client, auth):
    before = get(client, auth)
    response = patch_json(client, auth, {"AgentContactID": 3})
    expected = model_state_error(**{"model.AgentContactID": ["Agent contact 3 does not belong to agent company 1"]})
    assert_rejected_unchanged(client, auth, response, 400, expected, before)

    response = patch_json(client, auth, {"AgentCompanyID": 2})
    expected = model_state_error(**{"model.AgentCompanyID": ["Agent contact 1 does not belong to agent company 2"]})
    assert_rejected_unchanged(client, auth, response, 400, expected, before)

    moved = patch_json(client, auth, {"AgentCompanyID": 2, "AgentContactID": 3}).json()
    assert (moved["AgentCompanyID"], moved["AgentContactID"]) == (2, 3)


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"DisplayName": '),
        ("text/json", b"{not json}"),
        ("application/json", b""),
        ("application/json", b"[1, 2]"),
        ("application/json", b'"a string"'),
    ],
)
def test_unreadable_bodies_are_400(client, auth, content_type, body):
    before = get(client, auth)
    response = client.patch(CONTRACT, headers={**auth, "Content-Type": content_type}, content=body)
    assert response.status_code == 400
    assert response.json()["Message"] == INVALID
    assert list(response.json()["ModelState"]) == ["model"]
    assert get(client, auth) == before


def test_form_values_are_typed(client, auth):
    before = get(client, auth)
    response = client.patch(CONTRACT, headers=auth, data={"MaxCLIs": "many"})
    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == ["model.MaxCLIs"]
    assert get(client, auth) == before


def test_other_content_types_are_415(client, auth):
    before = get(client, auth)
    response = client.patch(CONTRACT, headers={**auth, "Content-Type": "application/xml"}, content=b"<ContractModify/>")
    expected = {"Message": "The request entity's media type 'application/xml' is not supported for this resource."}
    assert_rejected_unchanged(client, auth, response, 415, expected, before)


def test_bodies_over_one_mebibyte_are_413(client, auth):
    before = get(client, auth)
    response = patch_json(client, auth, {"Notes": "x" * (1 << 20)})
    assert_rejected_unchanged(client, auth, response, 413, {"Message": "The request entity is too large."}, before)


# --- not found, auth, permissions, tenants -----------------------------------------------------


def test_unknown_contract_is_404(client, auth):
    expected = {"Message": "No contracts found with ID 999999"}
    response = client.get(MISSING, headers=auth)
    assert (response.status_code, response.json()) == (404, expected)
    response = patch_json(client, auth, {"Notes": "x"}, path=MISSING)
    assert (response.status_code, response.json()) == (404, expected)


def test_ids_outside_int32_are_400(client, auth):
    response = client.get("/abillity/api/contract/2147483648", headers=auth)
    expected = model_state_error(id=["The value '2147483648' is not valid for id."])
    assert (response.status_code, response.json()) == (400, expected)


def test_unsupported_method_is_405(client, auth):
    response = client.put(CONTRACT, headers=auth, json={})
    assert response.status_code == 405
    assert response.json() == {"Message": "The requested resource does not support this http method."}
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic ZGV2OmRldg=="}]
)
def test_missing_or_unknown_credentials_are_401(client, headers):
    before = get(client, {"Authorization": "Bearer dev-token"})
    for response in (client.get(CONTRACT, headers=headers), patch_json(client, headers, {"Notes": "x"})):
        assert (response.status_code, response.json()) == (401, DENIED)
    assert get(client, {"Authorization": "Bearer dev-token"}) == before


def test_read_only_token_can_read_but_not_update(client):
    auth = {"Authorization": f"Bearer {tenant_of('readonly-token')}"}
    before = get(client, auth)
    response = patch_json(client, auth, {"Notes": "x"})
    assert_rejected_unchanged(client, auth, response, 401, NO_PERMISSION, before)


def test_contracts_of_companies_without_permission_are_401(client):
    auth = {"Authorization": f"Bearer {tenant_of('branch-token')}"}
    path = "/abillity/api/contract/4"
    for response in (client.get(path, headers=auth), patch_json(client, auth, {"Notes": "x"}, path=path)):
        assert (response.status_code, response.json()) == (401, NO_PERMISSION)


def test_moving_a_contract_to_a_company_without_permission_is_401(client):
    auth = {"Authorization": f"Bearer {tenant_of('branch-token')}"}
    before = get(client, auth)
    response = patch_json(client, auth, {"CompanyID": 4})
    assert_rejected_unchanged(client, auth, response, 401, NO_PERMISSION, before)
    assert patch_json(client, auth, {"CompanyID": 2}).json()["CompanyID"] == 2


def test_tenants_do_not_see_each_others_writes(client):
    first = {"Authorization": f"Bearer {tenant_of('dev-token')}"}
    second = {"Authorization": f"Bearer {tenant_of('dev-token')}"}
    seeded = get(client, second)
    patch_json(client, first, {"DisplayName": "Only for the first tenant"})
    assert get(client, first)["DisplayName"] == "Only for the first tenant"
    assert get(client, second) == seeded


# --- .NET date helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("2025-11-02", "2025-11-02T00:00:00"),
        ("2025-11-02T02:15", "2025-11-02T02:15:00"),
        ("2025-11-02T02:15:07.595", "2025-11-02T02:15:07.595"),
        ("2025-11-02T02:15:07.5950000", "2025-11-02T02:15:07.595"),
        ("2025-11-02T02:15:07.000", "2025-11-02T02:15:07"),
        ("2024-02-29", "2024-02-29T00:00:00"),
        ("2025-02-29", None),
        ("0000-01-01", None),
        ("2025-11-02T02:15:07Z", "2025-11-02T02:15:07"),
        ("2025-11-02T02:15:07.50+01:00", "2025-11-02T01:15:07.5"),
        ("0001-01-01T00:00:00+01:00", None),
    ],
)
def test_dotnet_date_time(text, stored):
    assert dotnet_date_time(text) == stored


def test_dotnet_timestamp_drops_the_zone_and_trailing_zeros():
    moment = dt.datetime(2026, 11, 1, 9, 30, 5, 120000, tzinfo=dt.UTC)
    assert dotnet_timestamp(moment) == "2026-11-01T09:30:05.12"
    assert dotnet_timestamp(moment.replace(microsecond=0)) == "2026-11-01T09:30:05"


# --- what ASP.NET's model binding accepts (issue 9) -----------------------------------------------


def test_unknown_form_members_are_ignored_like_json_ones(client, auth):
    headers = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
    response = client.patch(CONTRACT, headers=headers, content=b"NotAMember=1&DisplayName=Form+with+extras")
    assert response.status_code == 200, response.text
    assert get(client, auth)["DisplayName"] == "Form with extras"
    assert "NotAMember" not in response.json()


@pytest.mark.parametrize(
    "sent, stored",
    [
        ("2025-11-02T02:15:07Z", "2025-11-02T02:15:07"),
        ("2025-11-02T02:15:07.595+01:00", "2025-11-02T01:15:07.595"),
        ("2025-11-02T02:15-05:00", "2025-11-02T07:15:00"),
    ],
)
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_date_times_with_a_zone_are_stored_in_utc(client, auth, sent, stored, content_type):
    body = {"StartDate": sent}
    content = json.dumps(body).encode() if content_type.endswith("json") else urlencode(body).encode()
    response = client.patch(CONTRACT, headers={**auth, "Content-Type": content_type}, content=content)
    assert response.status_code == 200, response.text
    assert get(client, auth)["StartDate"] == stored


@pytest.mark.parametrize("content_type", ["application/json", "text/json"])
def test_integers_sent_as_strings_are_bound(client, auth, content_type):
    body = json.dumps({"ContractTerm": "48", "MaxCLIs": "+7"}).encode()
    response = client.patch(CONTRACT, headers={**auth, "Content-Type": content_type}, content=body)
    assert response.status_code == 200, response.text
    assert (get(client, auth)["ContractTerm"], get(client, auth)["MaxCLIs"]) == (48, 7)


@pytest.mark.parametrize("value", ["two", "2147483648", "1.5"])
def test_integer_strings_must_be_int32(client, auth, value):
    before = get(client, auth)
    response = patch_json(client, auth, {"ContractTerm": value})
    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == ["model.ContractTerm"]
    assert get(client, auth) == before


def test_an_empty_body_is_still_refused(client, auth):
    before = get(client, auth)
    for content_type in ("application/json", "application/x-www-form-urlencoded"):
        response = client.patch(CONTRACT, headers={**auth, "Content-Type": content_type}, content=b"")
        assert response.status_code == 400, (content_type, response.text)
        assert response.json()["Message"] == INVALID
    assert get(client, auth) == before
