"""Elevate: list, create and delete customer contracts (the rest of the resource, issue 9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings

BASE = "/elevate/customer-contracts"
NEW = {"customerId": 1003, "contractProfileId": 1, "startDate": "2027-02-01"}


@pytest.fixture(scope="module")
def app(app_store: Any) -> Any:
    return create_app(Settings(validate_responses=True, apis=("elevate",)), store=app_store)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer dev-token.{uuid.uuid4().hex[:12]}"}


def listed(client: TestClient, auth: dict[str, str], query: str) -> Any:
    response = client.get(f"{BASE}?{query}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: Any) -> list[int]:
    return [contract["id"] for contract in page["items"]]


def bad_request(response: Any, field: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Bad Request"
    assert f"field '{field}'" in response.json()["message"]


# --- list ----------------------------------------------------------------------------------------


def test_pages_count_every_match_and_hold_at_most_page_size(client, auth):
    first, second = listed(client, auth, "page=1&pageSize=2"), listed(client, auth, "page=2&pageSize=2")
    assert (ids(first), ids(second)) == ([1, 2], [3, 4])
    assert first["totalCount"] == second["totalCount"] == 5
    assert ids(listed(client, auth, "page=9&pageSize=2")) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("pageSize=10", "page"),
        ("page=1", "pageSize"),
        ("page=0&pageSize=10", "page"),
        ("page=1&pageSize=0", "pageSize"),
    ],
)
def test_page_and_page_size_are_required_and_bounded(client, auth, query, field):
    bad_request(client.get(f"{BASE}?{query}", headers=auth), field)


def test_page_size_may_be_1000_but_not_1001(client, auth):
    assert listed(client, auth, "page=1&pageSize=1000")["pageSize"] == 1000
    bad_request(client.get(f"{BASE}?page=1&pageSize=1001", headers=auth), "pageSize")


def test_sort_by_several_members_with_directions(client, auth):
    assert ids(listed(client, auth, "page=1&pageSize=10&sort=customerId:desc,id:desc")) == [5, 2, 4, 3, 1]
    assert ids(listed(client, auth, "page=1&pageSize=10&sort=startDate")) == [2, 3, 4, 5, 1]


@pytest.mark.parametrize("sort", ["nope", "id:sideways", "id,"])
def test_sort_by_what_is_not_a_member_is_a_400(client, auth, sort):
    bad_request(client.get(f"{BASE}?page=1&pageSize=10&sort={sort}", headers=auth), "sort")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("customerId=1001", [1, 3, 4]),
        ("siteId=2002", [3, 4]),
        ("contractProfileId=1", [1, 3]),
        ("startDate=2026-11-01", [4]),
        ("startDate=lt:2026-11-01", [2, 3]),
        ("startDate=gt:2026-11-01", [1, 5]),
        ("endDate=lt:2027-01-01&customerId=1001", [3, 4]),
    ],
)
def test_filters_combine_and_dates_take_lt_and_gt(client, auth, query, expected):
    assert ids(listed(client, auth, f"page=1&pageSize=10&{query}")) == expected


@pytest.mark.parametrize("value", ["le:2026-01-01", "2026-02-30", "lt:2026-13-01", "soon"])
def test_a_date_filter_that_is_not_a_date_is_a_400(client, auth, value):
    bad_request(client.get(f"{BASE}?page=1&pageSize=10&startDate={value}", headers=auth), "startDate")


# --- create --------------------------------------------------------------------------------------


def test_create_generates_the_name_and_the_end_date_and_answers_201(client, auth):
    response = client.post(BASE, json=NEW, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Fabrikam Logistics — Managed Connectivity 12M"
    assert (created["startDate"], created["endDate"]) == ("2027-02-01", "2028-01-31")
    assert (created["renewalAlertDays"], created["noticePeriodDays"], created["siteId"]) == (0, 0, None)
    assert created["id"] == 6
    assert client.get(f"{BASE}/{created['id']}", headers=auth).json() == created


def test_create_keeps_what_is_given(client, auth):
    body = {**NEW, "name": "Own name", "endDate": "2027-06-30", "renewalAlertDays": 28, "rolloverContractProfileId": 2}
    created = client.post(BASE, json=body, headers=auth).json()
    assert {key: created[key] for key in body} == body


@pytest.mark.parametrize(
    "change, field",
    [
        ({"customerId": None}, "customerId"),
        ({"startDate": "2027-02-30"}, "startDate"),
        ({"customerId": 999999}, "customerId"),
        ({"contractProfileId": 999999}, "contractProfileId"),
        ({"siteId": 2001}, "siteId"),  # a site of another customer
        ({"endDate": "2027-01-31"}, "endDate"),  # before the start
        ({"renewalAlertDays": 29}, "renewalAlertDays"),
        ({"name": ""}, "name"),
    ],
)
def test_an_invalid_create_is_a_400_naming_the_field_and_creates_nothing(client, auth, change, field):
    body = {key: value for key, value in {**NEW, **change}.items() if value is not None}
    bad_request(client.post(BASE, json=body, headers=auth), field)
    assert listed(client, auth, "page=1&pageSize=10")["totalCount"] == 5


def test_an_unknown_member_of_a_create_is_ignored_as_spring_boot_does(client, auth):
    response = client.post(BASE, json={**NEW, "status": "active"}, headers=auth)
    assert response.status_code == 201
    assert "status" not in response.json()


def test_concurrent_creates_get_distinct_ids(app):
    token = f"dev-token.{uuid.uuid4().hex[:12]}"

    def create(_: int) -> int:
        with app.test_client() as client:
            response = client.post(BASE, json=NEW, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201
            return int(response.json()["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(create, range(16)))
    assert sorted(created) == list(range(6, 22))


# --- delete and the lifecycle --------------------------------------------------------------------


def test_create_read_update_delete(client, auth):
    contract_id = client.post(BASE, json=NEW, headers=auth).json()["id"]
    patch = [{"op": "replace", "path": "/noticePeriodDays", "value": 45}]
    headers = {**auth, "Content-Type": "application/json-patch+json"}
    assert client.patch(f"{BASE}/{contract_id}", json=patch, headers=headers).json()["noticePeriodDays"] == 45
    response = client.delete(f"{BASE}/{contract_id}", headers=auth)
    assert (response.status_code, response.content) == (204, b"")
    assert client.get(f"{BASE}/{contract_id}", headers=auth).status_code == 404
    assert client.delete(f"{BASE}/{contract_id}", headers=auth).json() == {
        "error": "Not Found",
        "message": f"Customer contract {contract_id} not found",
    }
    assert client.post(BASE, json=NEW, headers=auth).json()["id"] == contract_id + 1  # ids are never reused


@pytest.mark.parametrize("contract_id", [3, 4])
def test_a_contract_linked_by_roll_over_cannot_be_deleted(client, auth, contract_id):
    response = client.delete(f"{BASE}/{contract_id}", headers=auth)
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
    assert client.get(f"{BASE}/{contract_id}", headers=auth).status_code == 200


def test_a_read_only_token_may_list_but_not_create_or_delete(client):
    readonly = {"Authorization": "Bearer readonly-token"}
    assert client.get(f"{BASE}?page=1&pageSize=1", headers=readonly).status_code == 200
    assert client.post(BASE, json=NEW, headers=readonly).status_code == 403
    assert client.delete(f"{BASE}/5", headers=readonly).status_code == 403
