"""Zoho Desk: list and create contracts (the rest of the resource, issue 9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings

BASE = "/zoho-desk/api/v1/contracts"
ORG = "60000000001"
SEEDED = ["10000000000001", "10000000000002", "10000000000003", "10000000000004", "10000000082016"]
NEW = {
    "contractName": "Zoho — Gold support 2028",
    "associatedSLAId": "10000000062047",
    "accountId": "10000000012985",
    "departmentId": "10000000013228",
    "ownerId": "10000000012816",
    "startDate": "2028-01-01",
    "endDate": "2028-12-31",
    "notifyBefore": 30,
}


@pytest.fixture(scope="module")
def app(app_store: Any) -> Any:
    return create_app(Settings(validate_responses=True, apis=("zoho-desk",)), store=app_store)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


def headers(token: str = "dev-token") -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}.{uuid.uuid4().hex[:12]}", "orgId": ORG}


@pytest.fixture
def auth() -> dict[str, str]:
    return headers()


def listed(client: TestClient, auth: dict[str, str], query: str = "") -> list[str]:
    response = client.get(f"{BASE}?{query}", headers=auth)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"data"}
    return [contract["id"] for contract in response.json()["data"]]


# --- list ----------------------------------------------------------------------------------------


def test_list_returns_data_in_id_order_from_index_0_and_ten_at_most(client, auth):
    assert listed(client, auth) == SEEDED
    assert listed(client, auth, "from=1&limit=2") == SEEDED[1:3]
    assert listed(client, auth, "from=9") == []


def test_listed_contracts_are_rendered_like_a_read(client, auth):
    first = client.get(BASE, headers=auth).json()["data"][0]
    assert first == client.get(f"{BASE}/{first['id']}", headers=auth).json()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("accountId=10000000013001", SEEDED[0:2] + SEEDED[3:4]),
        ("departmentId=10000000013300", SEEDED[2:3]),
        ("ownerId=10000000012816&accountId=10000000013001", [SEEDED[0], SEEDED[3]]),
    ],
)
def test_filters_combine(client, auth, query, expected):
    assert listed(client, auth, query) == expected


def test_sort_by_an_attribute_ascending_or_descending(client, auth):
    ascending = listed(client, auth, "sortBy=startDate")
    descending = listed(client, auth, "sortBy=-startDate")
    contracts = {c["id"]: c for c in client.get(BASE, headers=auth).json()["data"]}
    dates = [contracts[i]["startDate"] for i in ascending]
    assert dates == sorted(dates)
    assert descending == ascending[::-1]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "from=-1", "sortBy=price", "accountId=abc", "colour=red"])
def test_a_parameter_the_api_cannot_use_is_422_unprocessable_entity(client, auth, query):
    response = client.get(f"{BASE}?{query}", headers=auth)
    assert response.status_code == 422
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"
    assert query.split("=")[0] in response.json()["message"]


def test_list_needs_the_org_header_and_the_read_scope(client):
    assert client.get(BASE, headers={"Authorization": "Zoho-oauthtoken dev-token"}).status_code in (400, 422)
    assert client.get(BASE, headers=headers("readonly-token")).status_code == 200


# --- create --------------------------------------------------------------------------------------


def test_create_applies_the_update_rules_and_answers_the_contract(client, auth):
    response = client.post(BASE, json=NEW, headers=auth)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["id"] == "10000000082017"
    assert (created["notifyBefore"], created["notifyOn"]) == ("30", "2028-12-01")
    assert created["sla"] == {"id": "10000000062047", "name": "Gold SLAs"}
    assert created["createdBy"] == created["modifiedBy"] == "10000000012816"
    assert created["createdTime"] == created["modifiedTime"]
    assert (created["productId"], created["contractNumber"], created["notificationAgentIds"]) == (None, None, [])
    assert client.get(f"{BASE}/{created['id']}", headers=auth).json() == created
    assert listed(client, auth)[-1] == created["id"]


def test_every_required_attribute_missing_is_named(client, auth):
    response = client.post(BASE, json={"description": "nothing else"}, headers=auth)
    assert response.status_code == 422
    problems = {(e["fieldName"], e["errorType"]) for e in response.json()["errors"]}
    required = ("associatedSLAId", "accountId", "departmentId", "startDate", "ownerId", "contractName")
    assert problems == {(f"/{name}", "missing") for name in required}
    assert listed(client, auth) == SEEDED


@pytest.mark.parametrize(
    "change, field",
    [
        ({"accountId": "999999"}, "/accountId"),
        ({"endDate": "2027-12-31"}, "/endDate"),
        ({"associatedSLAId": "10000000062101"}, "/associatedSLAId"),  # an SLA of another department
        ({"startDate": "2028-02-30"}, "/startDate"),
    ],
)
def test_an_invalid_create_is_422_invalid_data_and_creates_nothing(client, auth, change, field):
    response = client.post(BASE, json={**NEW, **change}, headers=auth)
    assert response.status_code == 422
    assert response.json()["errorCode"] == "INVALID_DATA"
    assert [e["fieldName"] for e in response.json()["errors"]] == [field]
    assert listed(client, auth) == SEEDED


def test_an_overlapping_contract_of_the_same_account_and_sla_is_accepted(client, auth):
    first = client.post(BASE, json=NEW, headers=auth).json()
    response = client.post(BASE, json={**NEW, "contractName": "Again"}, headers=auth)
    assert response.status_code == 200
    assert response.json()["id"] != first["id"]


def test_an_unknown_attribute_is_an_extra_parameter(client, auth):
    response = client.post(BASE, json={**NEW, "status": "active"}, headers=auth)
    assert response.json() == {"errorCode": "UNPROCESSABLE_ENTITY", "message": 'An extra parameter "status" is found'}


def test_create_needs_the_create_scope(client):
    response = client.post(BASE, json=NEW, headers=headers("readonly-token"))
    assert (response.status_code, response.json()["errorCode"]) == (401, "SCOPE_MISMATCH")


def test_concurrent_creates_get_distinct_ids(app):
    auth = headers()

    def create(index: int) -> tuple[int, str | None]:
        body = {**NEW, "startDate": f"{2030 + index}-01-01", "endDate": f"{2030 + index}-12-31"}
        body["accountId"] = "10000000012985" if index % 2 else "10000000013017"
        with app.test_client() as client:
            response = client.post(BASE, json=body, headers=auth)
            return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(12)))
    assert {status for status, _ in results} == {200}
    assert len({new_id for _, new_id in results}) == 12
