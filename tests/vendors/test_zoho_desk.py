"""Zoho Desk mock: every documented rule, with its status, its body and the state after."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from mock_server.app import create_app, mock_state
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, Settings
from mock_server.engine.spec import SpecView
from mock_server.state.fixtures import dangling_references, load_seed
from mock_server.vendors.zoho_desk import VENDOR

SPEC_PATH = DEFAULT_SPEC_DIR / "zoho-desk.yaml"
SEED_PATH = DEFAULT_FIXTURES_DIR / "zoho-desk" / "seed.yaml"
ORG = "60000000001"
OTHER_ORG = "60000000002"
BASE = "/zoho-desk/api/v1/contracts"
RUNNING = "10000000000001"  # Gold SLA, 2026-01-01..2026-12-31, notifyBefore 30
EXPIRED = "10000000000002"  # Zylker Corp + Silver SLA, 2024
OPEN_ENDED = "10000000000003"  # no endDate, no notifyBefore
FUTURE = "10000000000004"  # Zylker Corp + Silver SLA, 2027
PRINCIPAL = "10000000012816"  # dev-token's agent
MISSING = "999999"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
INVALID_DATA = "The data is invalid due to validation restrictions"
# What a successful PATCH changes besides the attributes sent.
BOOKKEEPING = {"modifiedTime", "modifiedBy"}


@pytest.fixture(scope="module")
def app(app_store):
    return create_app(Settings(apis=("zoho-desk",), validate_responses=True), store=app_store)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


def derived(token: str) -> str:
    """A token with the grants of `token` and a tenant of its own for this test."""
    return f"{token}.{uuid.uuid4().hex[:12]}"


def headers_for(token: str, org: str = ORG) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}", "orgId": org}


@pytest.fixture
def auth() -> dict[str, str]:
    return headers_for(derived("dev-token"))


def url(contract_id: str = RUNNING) -> str:
    return f"{BASE}/{contract_id}"


def get(client: TestClient, auth: dict[str, str], contract_id: str = RUNNING) -> dict[str, Any]:
    response = client.get(url(contract_id), headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def patch(client: TestClient, auth: dict[str, str], body: Any, contract_id: str = RUNNING):
    return client.patch(url(contract_id), headers=auth, json=body)


def invalid_data(*problems: tuple[str, str]) -> dict[str, Any]:
    """The expected 422 body, given (fieldName, errorType) pairs; messages are checked separately."""
    return {
        "errorCode": "INVALID_DATA",
        "errors": sorted(({"fieldName": f, "errorType": t} for f, t in problems), key=str),
    }


def without_messages(body: dict[str, Any]) -> dict[str, Any]:
    """The body without its free-text messages, with `errors` in a stable order."""
    stripped = {key: value for key, value in body.items() if key != "message"}
    if "errors" in body:
        stripped["errors"] = sorted(
            ({k: v for k, v in e.items() if k != "errorMessage"} for e in body["errors"]), key=str
        )
    return stripped


def assert_invalid(client, auth, body: Any, *problems: tuple[str, str], contract_id: str = RUNNING) -> list[dict]:
    """The PATCH is refused with INVALID_DATA naming exactly these fields, and nothing changes."""
    before = get(client, auth, contract_id)
    response = patch(client, auth, body, contract_id)
    assert response.status_code == 422, response.text
    assert response.json()["message"] == INVALID_DATA
    assert without_messages(response.json()) == invalid_data(*problems)
    assert get(client, auth, contract_id) == before
    return response.json()["errors"]


def assert_refused(client, auth, response, status: int, body: dict[str, Any], before: dict[str, Any]) -> None:
    assert (response.status_code, response.json()) == (status, body), response.text
    assert get(client, auth) == before


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


# --- spec and fixtures -------------------------------------------------------------------------


def test_spec_declares_every_attribute_of_the_seed_with_its_constraints():
    spec = SpecView.load(SPEC_PATH)
    assert spec.raw["openapi"] == "3.0.3"
    assert set(spec.property_names("ContractUpdate")) == {
        "associatedSLAId", "accountId", "departmentId", "productId", "contractNumber",
        "notificationAgentIds", "notifyBefore", "startDate", "endDate", "ownerId", "contractName",
        "description", "customFields", "cf", "sla", "account", "product",
    }  # fmt: skip
    assert spec.max_length("ContractUpdate", "contractName") == 80
    assert spec.max_length("ContractUpdate", "contractNumber") == 50
    assert spec.max_length("ContractUpdate", "description") == 65535
    example = spec.resolved["components"]["examples"]["Contract"]["value"]
    assert set(example) <= set(spec.property_names("Contract"))
    assert set(spec.required("Contract")) == set(example)


def test_spec_security_is_zoho_oauth_with_the_documented_scopes():
    spec = SpecView.load(SPEC_PATH)
    operations = {op.operation_id: op.definition for op in spec.operations}
    assert operations["updateContract"]["security"] == [{"zohoOAuth": ["Desk.settings.UPDATE"]}]
    assert operations["getContract"]["security"] == [{"zohoOAuth": ["Desk.settings.READ"]}]
    org_header = spec.resolved["paths"]["/api/v1/contracts/{contract_id}"]["parameters"][1]
    assert (org_header["name"], org_header["in"], org_header["required"]) == ("orgId", "header", True)
    assert list(operations["updateContract"]["requestBody"]["content"]) == ["application/json"]
    assert spec.auth_prefix == "Zoho-oauthtoken"


def test_seed_has_the_records_docs_and_checks_rely_on():
    seed = load_seed(SEED_PATH)
    assert ORG in seed["organizations"]
    assert RUNNING in seed["contracts"]
    assert all(MISSING not in rows for rows in seed.values())
    assert dangling_references(VENDOR, seed) == []


def test_tokens_fixture_grants_dev_token_everything_and_readonly_token_read_only():
    tokens = {t["token"]: t for t in yaml.safe_load((SEED_PATH.parent / "auth.yaml").read_text())["tokens"]}
    assert set(tokens["dev-token"]["scopes"]) == {"Desk.settings.READ", "Desk.settings.CREATE", "Desk.settings.UPDATE"}
    assert tokens["readonly-token"]["scopes"] == ["Desk.settings.READ"]
    assert tokens["dev-token"]["orgs"] == tokens["readonly-token"]["orgs"] == [ORG]


# --- reading -----------------------------------------------------------------------------------


def test_get_renders_string_ids_expanded_relations_and_computed_notify_on(client, auth):
    contract = get(client, auth)
    assert contract["id"] == RUNNING
    assert contract["notifyBefore"] == "30"
    assert (contract["endDate"], contract["notifyOn"]) == ("2026-12-31", "2026-12-01")
    assert contract["sla"] == {"id": "10000000062047", "name": "Gold SLAs"}
    assert contract["account"] == {
        "id": "10000000013001",
        "accountName": "Zylker Corp",
        "website": "https://www.zylker.com",
    }
    assert contract["product"] == {"id": "500000001290", "productName": "Desk"}
    assert contract["notificationAgentIds"] == [PRINCIPAL, "10000000012832"]


def test_get_of_an_open_ended_contract_has_no_notification_date(client, auth):
    contract = get(client, auth, OPEN_ENDED)
    assert (contract["endDate"], contract["notifyBefore"], contract["notifyOn"], contract["product"]) == (
        None, None, None, None,
    )  # fmt: skip


def test_get_lists_every_custom_field_of_the_organisation(client, auth):
    assert get(client, auth, "10000000082016")["cf"] == {
        "cf_mycustomfield1": "Some Update Value",
        "cf_seats": None,
        "cf_signed_on": None,
        "cf_auto_renew": None,
        "cf_tier": None,
    }


def test_readonly_token_may_read(client):
    assert get(client, headers_for("readonly-token"))["id"] == RUNNING


# --- updating ----------------------------------------------------------------------------------


def test_patch_changes_only_the_attributes_sent_and_reads_back(client, auth):
    before = get(client, auth)
    response = patch(
        client, auth, {"contractName": "Zylker Corp — Gold 2026 (amended)", "contractNumber": "ZC-2026-001A"}
    )
    assert response.status_code == 200, response.text
    after = get(client, auth)
    assert response.json() == after
    assert (after["contractName"], after["contractNumber"]) == ("Zylker Corp — Gold 2026 (amended)", "ZC-2026-001A")
    assert changed_keys(before, after) - BOOKKEEPING == {"contractName", "contractNumber"}


def test_patch_records_who_and_when(app, client, auth):
    before = get(client, auth, EXPIRED)
    after = patch(client, auth, {"description": "Archived"}, EXPIRED).json()
    assert before["modifiedBy"] != PRINCIPAL
    assert after["modifiedBy"] == PRINCIPAL
    assert TIMESTAMP.match(after["modifiedTime"])
    assert after["modifiedTime"][:10] == mock_state(app).clock.today().isoformat()
    assert (after["createdBy"], after["createdTime"]) == (before["createdBy"], before["createdTime"])


def test_ids_may_be_sent_as_numbers_and_come_back_as_strings(client, auth):
    body = {"accountId": 10000000012985, "notificationAgentIds": [10000000012832], "productId": 500000001306}
    after = patch(client, auth, body).json()
    assert (after["accountId"], after["notificationAgentIds"], after["productId"]) == (
        "10000000012985", ["10000000012832"], "500000001306",
    )  # fmt: skip
    assert after["account"]["accountName"] == "Zoho"
    assert after["product"] == {"id": "500000001306", "productName": "Desk API Add-on"}


def test_related_records_follow_the_ids(client, auth):
    after = patch(client, auth, {"associatedSLAId": "10000000062055"}).json()
    assert after["sla"] == {"id": "10000000062055", "name": "Silver SLAs"}


def test_notify_on_is_recomputed_from_end_date_and_notify_before(client, auth):
    assert patch(client, auth, {"endDate": "2026-12-15"}).json()["notifyOn"] == "2026-11-15"
    after = patch(client, auth, {"notifyBefore": 5}).json()
    assert (after["notifyBefore"], after["notifyOn"]) == ("5", "2026-12-10")
    after = patch(client, auth, {"notifyBefore": None}).json()
    assert (after["notifyBefore"], after["notifyOn"]) == (None, None)


def test_null_clears_optional_attributes(client, auth):
    body = {"productId": None, "contractNumber": None, "description": None, "notificationAgentIds": None}
    after = patch(client, auth, body).json()
    assert (after["productId"], after["product"], after["contractNumber"], after["description"]) == (None,) * 4
    assert after["notificationAgentIds"] == []


def test_open_ended_contract_can_get_an_end_date_and_a_notification(client, auth):
    after = patch(client, auth, {"endDate": "2027-05-31", "notifyBefore": 31}, OPEN_ENDED).json()
    assert (after["endDate"], after["notifyOn"]) == ("2027-05-31", "2027-04-30")


def test_lengths_at_the_limit_are_accepted(client, auth):
    body = {"contractName": "n" * 80, "contractNumber": "9" * 50, "description": "d" * 65535}
    assert patch(client, auth, body).status_code == 200
    assert get(client, auth)["description"] == "d" * 65535


def test_echoed_relations_are_accepted_and_change_nothing(client, auth):
    before = get(client, auth)
    body = {"sla": {"id": "5000000007671", "name": "Other"}, "account": {"accountName": "Renamed"}, "product": None}
    response = patch(client, auth, body)
    assert response.status_code == 200, response.text
    assert changed_keys(before, get(client, auth)) <= BOOKKEEPING


def test_custom_fields_by_api_name_and_by_label(client, auth):
    after = patch(client, auth, {"cf": {"cf_seats": 40, "cf_tier": None}, "customFields": {"Auto Renew": False}}).json()
    assert after["cf"] == {
        "cf_mycustomfield1": "Priority renewal",
        "cf_seats": 40,
        "cf_signed_on": "2025-12-15",
        "cf_auto_renew": False,
        "cf_tier": None,
    }


def test_empty_patch_changes_nothing_but_the_modification_stamp(client, auth):
    before = get(client, auth)
    assert patch(client, auth, {}).status_code == 200
    assert changed_keys(before, get(client, auth)) <= BOOKKEEPING


# --- validation: schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contractName": "n" * 81}, "/contractName"),
        ({"contractName": ""}, "/contractName"),
        ({"contractNumber": "9" * 51}, "/contractNumber"),
        ({"description": "d" * 65536}, "/description"),
        ({"notifyBefore": -1}, "/notifyBefore"),
        ({"notifyBefore": "5"}, "/notifyBefore"),
        ({"accountId": "ACC-1"}, "/accountId"),
        ({"ownerId": None}, "/ownerId"),
        ({"startDate": "15/09/2019"}, "/startDate"),
        ({"notificationAgentIds": "10000000012816"}, "/notificationAgentIds"),
        ({"notificationAgentIds": [PRINCIPAL, "x"]}, "/notificationAgentIds/1"),
        ({"cf": ["cf_seats"]}, "/cf"),
    ],
)
def test_schema_violations_are_invalid_data_naming_the_field(client, auth, body, field):
    assert_invalid(client, auth, body, (field, "invalid"))


def test_every_invalid_field_is_named(client, auth):
    errors = assert_invalid(
        client,
        auth,
        {"contractName": "n" * 81, "contractNumber": "9" * 51},
        ("/contractName", "invalid"),
        ("/contractNumber", "invalid"),
    )
    assert all(error["errorMessage"] for error in errors)


def test_unknown_attribute_is_an_extra_parameter(client, auth):
    before = get(client, auth)
    response = patch(client, auth, {"status": "ACTIVE", "contractName": "Renamed"})
    assert_refused(
        client,
        auth,
        response,
        422,
        {"errorCode": "UNPROCESSABLE_ENTITY", "message": 'An extra parameter "status" is found'},
        before,
    )


def test_body_that_is_not_an_object_is_invalid_data(client, auth):
    before = get(client, auth)
    response = patch(client, auth, [{"contractName": "x"}])
    assert response.status_code == 422
    assert without_messages(response.json()) == invalid_data(("/", "invalid"))
    assert get(client, auth) == before


# --- validation: rules a schema cannot express -------------------------------------------------


def test_end_date_before_start_date_is_refused(client, auth):
    assert_invalid(client, auth, {"endDate": "2025-12-31"}, ("/endDate", "invalid"))


def test_start_date_after_the_kept_end_date_is_refused(client, auth):
    assert_invalid(client, auth, {"startDate": "2027-01-01"}, ("/startDate", "invalid"))


def test_start_equal_to_end_is_accepted(client, auth):
    body = {"startDate": "2026-06-01", "endDate": "2026-06-01", "notifyBefore": 0}
    assert patch(client, auth, body).status_code == 200


def test_dates_must_exist_in_the_calendar(client, auth):
    assert_invalid(
        client,
        auth,
        {"startDate": "2026-02-30", "endDate": "2026-13-01"},
        ("/startDate", "invalid"),
        ("/endDate", "invalid"),
    )


@pytest.mark.parametrize(
    ("attribute", "body"),
    [
        ("/associatedSLAId", {"associatedSLAId": MISSING}),
        ("/accountId", {"accountId": MISSING}),
        ("/departmentId", {"departmentId": MISSING}),
        ("/productId", {"productId": int(MISSING)}),
        ("/ownerId", {"ownerId": MISSING}),
        ("/notificationAgentIds/1", {"notificationAgentIds": [PRINCIPAL, MISSING]}),
    ],
)
def test_references_must_name_existing_records(client, auth, attribute, body):
    assert_invalid(client, auth, body, (attribute, "invalid"))


def test_sla_must_belong_to_the_contracts_department(client, auth):
    assert_invalid(client, auth, {"associatedSLAId": "10000000062101"}, ("/associatedSLAId", "invalid"))


def test_department_change_must_keep_the_sla_in_the_department(client, auth):
    assert_invalid(client, auth, {"departmentId": "10000000013300"}, ("/departmentId", "invalid"))


def test_department_and_sla_may_change_together(client, auth):
    after = patch(client, auth, {"departmentId": "10000000013300", "associatedSLAId": "10000000062101"}).json()
    assert after["sla"] == {"id": "10000000062101", "name": "Billing Priority"}


def test_notify_before_needs_an_end_date(client, auth):
    assert_invalid(client, auth, {"notifyBefore": 5}, ("/notifyBefore", "invalid"), contract_id=OPEN_ENDED)


def test_clearing_the_end_date_of_a_contract_with_notifications_is_refused(client, auth):
    assert_invalid(client, auth, {"endDate": None}, ("/endDate", "invalid"))


def test_notification_date_must_not_fall_before_the_start(client, auth):
    assert_invalid(client, auth, {"notifyBefore": 365}, ("/notifyBefore", "invalid"))
    assert_invalid(client, auth, {"notifyBefore": 2147483647}, ("/notifyBefore", "invalid"))
    assert patch(client, auth, {"notifyBefore": 364}).json()["notifyOn"] == "2026-01-01"


@pytest.mark.parametrize(
    ("cf", "field"),
    [
        ({"cf_mycustomfield1": "t" * 256}, "/cf/cf_mycustomfield1"),
        ({"cf_mycustomfield1": 12}, "/cf/cf_mycustomfield1"),
        ({"cf_seats": "forty"}, "/cf/cf_seats"),
        ({"cf_seats": True}, "/cf/cf_seats"),
        ({"cf_signed_on": "2025-02-29"}, "/cf/cf_signed_on"),
        ({"cf_auto_renew": "yes"}, "/cf/cf_auto_renew"),
        ({"cf_tier": "Platinum"}, "/cf/cf_tier"),
    ],
)
def test_custom_field_values_must_suit_the_field_type(client, auth, cf, field):
    assert_invalid(client, auth, {"cf": cf}, (field, "invalid"))


def test_custom_fields_by_label_are_checked_and_named_by_label(client, auth):
    assert_invalid(client, auth, {"customFields": {"Seats": "many"}}, ("/customFields/Seats", "invalid"))


@pytest.mark.parametrize(
    ("body", "name"), [({"cf": {"cf_nope": 1}}, "cf.cf_nope"), ({"customFields": {"Nope": 1}}, "customFields.Nope")]
)
def test_unknown_custom_field_is_an_extra_parameter(client, auth, body, name):
    before = get(client, auth)
    response = patch(client, auth, body)
    expected = {"errorCode": "UNPROCESSABLE_ENTITY", "message": f'An extra parameter "{name}" is found'}
    assert_refused(client, auth, response, 422, expected, before)


def test_overlapping_contracts_of_one_account_and_sla_are_accepted(client, auth):
    """No source documents an overlap rule (issue 21): the mock invents none."""
    response = patch(client, auth, {"endDate": "2027-03-31"}, EXPIRED)
    assert (response.status_code, response.json()["endDate"]) == (200, "2027-03-31")
    assert get(client, auth, EXPIRED)["endDate"] == "2027-03-31"


# --- authentication and authorisation ----------------------------------------------------------


def test_no_credentials_is_unauthorized(client, auth):
    before = get(client, auth)
    response = client.patch(url(), headers={"orgId": ORG}, json={"contractName": "x"})
    body = {"errorCode": "UNAUTHORIZED", "message": "You are not authenticated to perform this operation."}
    assert_refused(client, auth, response, 401, body, before)


@pytest.mark.parametrize("authorization", ["Zoho-oauthtoken no-such-token", "Bearer dev-token", "Zoho-oauthtoken"])
def test_unknown_or_badly_presented_token_is_invalid_oauth(client, auth, authorization):
    response = client.get(url(), headers={"Authorization": authorization, "orgId": ORG})
    assert response.status_code == 401
    assert response.json() == {"errorCode": "INVALID_OAUTH", "message": "The OAuth Token you provided is invalid."}


def test_update_without_the_update_scope_is_a_scope_mismatch(client):
    readonly = headers_for(derived("readonly-token"))
    before = get(client, readonly)
    response = client.patch(url(), headers=readonly, json={"contractName": "x"})
    assert response.status_code == 401
    assert response.json()["errorCode"] == "SCOPE_MISMATCH"
    assert get(client, readonly) == before


def test_token_not_granted_for_the_organisation_is_an_org_mismatch(client, auth):
    before = get(client, auth)
    other_org = {**auth, "orgId": OTHER_ORG}
    for response in (
        client.get(url(), headers=other_org),
        client.patch(url(), headers=other_org, json={"contractName": "x"}),
    ):
        assert response.status_code == 403
        assert response.json()["errorCode"] == "OAUTH_ORG_MISMATCH"
    assert get(client, auth) == before


def test_org_id_header_is_required(client, auth):
    response = client.get(url(), headers={"Authorization": auth["Authorization"]})
    assert response.status_code == 422
    assert without_messages(response.json()) == invalid_data(("orgId", "missing"))


def test_org_id_as_a_query_parameter_does_not_count(client, auth):
    response = client.get(url(), params={"orgId": ORG}, headers={"Authorization": auth["Authorization"]})
    assert response.status_code == 422
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"


# --- unknown ids, methods and unreadable requests ----------------------------------------------


@pytest.mark.parametrize("contract_id", [MISSING, "not-a-number"])
def test_unknown_contract_is_url_not_found(client, auth, contract_id):
    expected = {
        "errorCode": "URL_NOT_FOUND",
        "message": "The URL you requested could not be found on the server. Please check the URL and try again.",
    }
    for response in (
        client.get(url(contract_id), headers=auth),
        patch(client, auth, {"contractName": "x"}, contract_id),
    ):
        assert (response.status_code, response.json()) == (404, expected)


def test_malformed_json_is_unprocessable(client, auth):
    before = get(client, auth)
    response = client.patch(url(), headers={**auth, "Content-Type": "application/json"}, content=b'{"contractName": ')
    assert response.status_code == 422
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"
    assert get(client, auth) == before


def test_empty_body_is_unprocessable(client, auth):
    response = client.patch(url(), headers={**auth, "Content-Type": "application/json"}, content=b"")
    assert (response.status_code, response.json()["errorCode"]) == (422, "UNPROCESSABLE_ENTITY")


def test_body_that_is_not_json_is_an_unsupported_media_type(client, auth):
    before = get(client, auth)
    response = client.patch(url(), headers={**auth, "Content-Type": "application/xml"}, content=b"<contract/>")
    assert (response.status_code, response.json()["errorCode"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert get(client, auth) == before


def test_body_over_the_size_limit_is_refused(client, auth):
    body = json.dumps({"description": "d" * (1024 * 1024)}).encode()
    response = client.patch(url(), headers={**auth, "Content-Type": "application/json"}, content=body)
    assert (response.status_code, response.json()["errorCode"]) == (413, "PAYLOAD_TOO_LARGE")


def test_unsupported_method_is_method_not_allowed(client, auth):
    response = client.delete(url(), headers=auth)
    assert (response.status_code, response.json()["errorCode"]) == (405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH"}


# --- tenants and concurrency -------------------------------------------------------------------


def test_tenants_do_not_see_each_others_writes(client):
    first, second = headers_for(derived("dev-token")), headers_for(derived("dev-token"))
    original = get(client, second)["contractName"]
    assert patch(client, first, {"contractName": "Only for the first tenant"}).status_code == 200
    assert get(client, first)["contractName"] == "Only for the first tenant"
    assert get(client, second)["contractName"] == original


def test_concurrent_patches_of_different_attributes_all_survive(client, auth):
    bodies = [
        {"contractName": "Concurrent"},
        {"contractNumber": "C-1"},
        {"description": "Written concurrently"},
        {"productId": "500000001306"},
        {"cf": {"cf_seats": 99}},
        {"cf": {"cf_tier": "Bronze"}},
        {"cf": {"cf_mycustomfield1": "Concurrent"}},
        {"notificationAgentIds": ["10000000012848"]},
    ] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda body: patch(client, auth, body).status_code, bodies))
    assert statuses == [200] * len(bodies)
    after = get(client, auth)
    assert (after["contractName"], after["contractNumber"], after["description"], after["productId"]) == (
        "Concurrent", "C-1", "Written concurrently", "500000001306",
    )  # fmt: skip
    assert (after["cf"]["cf_seats"], after["cf"]["cf_tier"], after["cf"]["cf_mycustomfield1"]) == (
        99,
        "Bronze",
        "Concurrent",
    )
    assert after["notificationAgentIds"] == ["10000000012848"]


# --- attributes documented as <list> (issue 9) ----------------------------------------------------


@pytest.mark.parametrize("attribute", ["sla", "account", "product"])
@pytest.mark.parametrize("value", [[], [{"id": "1", "name": "ignored"}], {"id": "1"}])
def test_echoed_relations_accept_a_list_or_an_object_and_change_nothing(client, auth, attribute, value):
    before = get(client, auth)
    response = patch(client, auth, {attribute: value})
    assert response.status_code == 200, response.text
    after = response.json()
    assert {k: v for k, v in after.items() if k not in BOOKKEEPING} == {
        k: v for k, v in before.items() if k not in BOOKKEEPING
    }


@pytest.mark.parametrize("attribute, key", [("cf", "cf_mycustomfield1"), ("customFields", "My Custom Field 1")])
def test_custom_fields_accept_a_list_of_objects_applied_in_order(client, auth, attribute, key):
    response = patch(client, auth, {attribute: [{key: "first"}, {key: "second"}]})
    assert response.status_code == 200, response.text
    assert response.json()["cf"]["cf_mycustomfield1"] == "second"
    assert get(client, auth)["cf"]["cf_mycustomfield1"] == "second"


def test_custom_fields_in_a_list_are_still_checked(client, auth):
    before = get(client, auth)
    response = patch(client, auth, {"cf": [{"cf_unknown": "x"}]})
    assert response.status_code == 422
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"
    assert get(client, auth) == before
