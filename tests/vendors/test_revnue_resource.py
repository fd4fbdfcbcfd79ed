"""Revnue: create, list and delete contracts, and the trailing-slash paths (the rest of the resource, issue 9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings

BASE = "/revnue/api/v2/contract"
SEEDED = [1, 2, 3, 4, 5, 6]
NEW = {
    "company": 1,
    "contract_type": "buy_side",
    "name": "Office cleaning 2027",
    "number": "BUY-2027-014",
    "supplier": 2,
    "country": 826,
    "status": "active",
    "contract_start_date": "2027-01-01",
    "contract_end_date": "2027-12-31",
    "total_contract_spend_value": 48000.0,
}


@pytest.fixture(scope="module")
def app(app_store: Any) -> Any:
    return create_app(Settings(validate_responses=True, apis=("revnue",)), store=app_store)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer dev-token.{uuid.uuid4().hex[:12]}"}


def listed(client: TestClient, auth: dict[str, str], query: str = "") -> list[int]:
    response = client.get(f"{BASE}/?{query}", headers=auth)
    assert response.status_code == 200, response.text
    return [contract["id"] for contract in response.json()]


# --- list ----------------------------------------------------------------------------------------


def test_list_returns_every_contract_as_a_read_does(client, auth):
    contracts = client.get(f"{BASE}/", headers=auth).json()
    assert [c["id"] for c in contracts] == SEEDED
    assert contracts[0] == client.get(f"{BASE}/1", headers=auth).json()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("name=Core%20network%20connectivity", [1]),
        ("contract_no=BUY-2024-001", [1]),
        ("name=Core", []),
        ("company=2", [5]),
        ("company=2&contract_no=BUY-2024-001", []),
    ],
)
def test_filters_match_exactly_and_combine(client, auth, query, expected):
    assert listed(client, auth, query) == expected


def test_an_unknown_filter_is_ignored_and_a_wrong_company_is_a_400(client, auth):
    assert listed(client, auth, "colour=red") == listed(client, auth, "")
    response = client.get(f"{BASE}/?company=one", headers=auth)
    assert response.status_code == 400
    assert "company" in response.json()


# --- create --------------------------------------------------------------------------------------


def test_create_answers_201_with_the_contract_as_a_read_returns_it(client, auth):
    response = client.post(BASE, json=NEW, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] == 7
    assert (created["contract_type"], created["company"], created["supplier"]) == (
        "buy_side",
        1,
        {"id": 2, "name": "Contoso Facilities Management"},
    )
    assert created["description"] is None and created["template"] is None  # not sent: null, as with PUT
    assert client.get(f"{BASE}/7/", headers=auth).json() == created
    assert listed(client, auth, "contract_no=BUY-2027-014") == [7]


def test_contract_type_is_set_once_on_create(client, auth):
    contract_id = client.post(BASE, json={**NEW, "contract_type": "sell_side", "customer": 1}, headers=auth).json()[
        "id"
    ]
    response = client.patch(f"{BASE}/{contract_id}", json={"contract_type": "buy_side"}, headers=auth)
    assert response.json() == {"contract_type": ["The contract type cannot be updated."]}


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"contract_type": None}, {"contract_type": ["This field is required."]}),
        ({"supplier": None}, {"supplier": ["This field is required."]}),
        (
            {"contract_end_date": "2026-12-31"},
            {"contract_end_date": ["The contract start date must be before the contract end date."]},
        ),
        ({"nrc": 50000}, {"nrc": ["The non recurring cost cannot be greater than the total contract spend."]}),
        ({"country": 999999}, {"country": ['Invalid pk "999999" - object does not exist.']}),
        ({"name": "x" * 51}, {"name": ["Ensure this field has no more than 50 characters."]}),
    ],
)
def test_an_invalid_create_is_a_400_and_creates_nothing(client, auth, change, expected):
    body = {key: value for key, value in {**NEW, **change}.items() if value is not None}
    response = client.post(BASE, json=body, headers=auth)
    assert (response.status_code, response.json()) == (400, expected)
    assert listed(client, auth) == SEEDED


@pytest.mark.parametrize("company, query", [(999, ""), (1, "?company=2")])
def test_create_for_an_unknown_or_other_company_is_not_found(client, auth, company, query):
    response = client.post(f"{BASE}{query}", json={**NEW, "company": company}, headers=auth)
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    assert listed(client, auth) == SEEDED


def test_concurrent_creates_get_distinct_ids(app):
    auth = {"Authorization": f"Bearer dev-token.{uuid.uuid4().hex[:12]}"}

    def create(index: int) -> int:
        with app.test_client() as client:
            response = client.post(BASE, json={**NEW, "number": f"N-{index}"}, headers=auth)
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(create, range(12))) == list(range(7, 19))


# --- delete, lifecycle, trailing slashes ---------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_create_read_update_delete(client, auth, slash):
    contract_id = client.post(BASE, json=NEW, headers=auth).json()["id"]
    url = f"{BASE}/{contract_id}{slash}"
    assert client.patch(url, json={"notice_period": 30}, headers=auth).json()["notice_period"] == 30
    full = {**NEW, "name": "Replaced"}
    full.pop("contract_type")
    assert client.put(url, json=full, headers=auth).json()["name"] == "Replaced"
    response = client.delete(url, headers=auth)
    assert (response.status_code, response.content) == (204, b"")
    assert client.get(url, headers=auth).status_code == 404
    assert client.delete(url, headers=auth).json() == {"detail": "Not found."}
    assert client.post(BASE, json=NEW, headers=auth).json()["id"] == contract_id + 1  # never reused


def test_delete_of_another_company_s_contract_is_not_found(client, auth):
    assert client.delete(f"{BASE}/1?company=2", headers=auth).status_code == 404
    assert client.get(f"{BASE}/1", headers=auth).status_code == 200


def test_children_lose_their_deleted_parent(client, auth):
    parent = client.post(BASE, json=NEW, headers=auth).json()["id"]
    child = client.post(BASE, json={**NEW, "number": "CHILD", "parent_contract": parent}, headers=auth).json()
    assert child["parent_contract"] == {"id": parent, "number": NEW["number"]}
    assert client.delete(f"{BASE}/{parent}", headers=auth).status_code == 204
    assert client.get(f"{BASE}/{child['id']}", headers=auth).json()["parent_contract"] is None
    assert client.patch(f"{BASE}/{child['id']}", json={"name": "Orphan"}, headers=auth).status_code == 200


def test_a_read_only_token_may_list_but_not_create_or_delete(client):
    readonly = {"Authorization": "Bearer readonly-token"}
    assert client.get(f"{BASE}/", headers=readonly).status_code == 200
    assert client.post(BASE, json=NEW, headers=readonly).status_code == 403
    assert client.delete(f"{BASE}/1/", headers=readonly).status_code == 403
