"""aBILLity: create a contract for a company (the rest of the resource, issue 9)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings

BASE = "/abillity/api/contract"
FIRST_NEW_ID = 6  # the seed's contracts are 1-5
NEW = {"CompanyID": 1, "DisplayName": "Head office broadband", "StartDate": "2027-01-01", "ContractTerm": 24}


@pytest.fixture(scope="module")
def app(app_store: Any) -> Any:
    return create_app(Settings(validate_responses=True, apis=("abillity",)), store=app_store)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer dev-token.{uuid.uuid4().hex[:12]}"}


def post(client: TestClient, auth: dict[str, str], body: dict[str, Any], content_type: str = "application/json"):
    if content_type.endswith("json"):
        content = json.dumps(body).encode()
    else:
        content = urlencode({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in body.items()}).encode()
    return client.post(BASE, content=content, headers={**auth, "Content-Type": content_type})


@pytest.mark.parametrize("content_type", ["application/json", "text/json", "application/x-www-form-urlencoded"])
def test_create_in_each_content_type_answers_the_new_contract_view(client, auth, content_type):
    response = post(client, auth, {**NEW, "Cancelled": True, "MaxCLIs": 5, "Unknown": "ignored"}, content_type)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["ContractID"] == FIRST_NEW_ID
    assert (created["DisplayName"], created["StartDate"], created["ContractTerm"]) == (
        NEW["DisplayName"],
        "2027-01-01T00:00:00",
        24,
    )
    assert (created["Cancelled"], created["MaxCLIs"]) == (True, 5)
    assert client.get(f"{BASE}/{FIRST_NEW_ID}", headers=auth).json() == created


def test_members_not_sent_take_dotnet_defaults(client, auth):
    created = post(client, auth, NEW).json()
    assert {k: created[k] for k in ("Cancelled", "EstimatedUsage", "MaxCLIs", "Notes", "AgentCompanyID")} == {
        "Cancelled": False,
        "EstimatedUsage": 0.0,
        "MaxCLIs": 0,
        "Notes": None,
        "AgentCompanyID": None,
    }


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_required_members_are_named(client, auth, content_type):
    response = post(client, auth, {"Notes": "only notes"}, content_type)
    assert response.status_code == 400
    assert response.json()["ModelState"] == {
        f"model.{name}": [f"The {name} field is required."]
        for name in ("CompanyID", "ContractTerm", "DisplayName", "StartDate")
    }


def test_a_null_required_member_counts_as_missing(client, auth):
    response = post(client, auth, {**NEW, "CompanyID": None})
    assert response.json()["ModelState"] == {"model.CompanyID": ["The CompanyID field is required."]}


@pytest.mark.parametrize(
    "change, member",
    [
        ({"NetworkProviderID": 999999}, "model.NetworkProviderID"),
        ({"AgentContactID": 1}, "model.AgentContactID"),  # without its agent company
        ({"StartDate": "2027-02-30"}, "model.StartDate"),
        ({"DisplayName": "x" * 101}, "model.DisplayName"),
    ],
)
def test_an_invalid_create_is_a_400_and_creates_nothing(client, auth, change, member):
    response = post(client, auth, {**NEW, **change})
    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == [member]
    assert client.get(f"{BASE}/{FIRST_NEW_ID}", headers=auth).status_code == 404


def test_a_company_the_user_may_not_see_is_401(client):
    branch = {"Authorization": f"Bearer branch-token.{uuid.uuid4().hex[:12]}"}  # companies 1-3 only
    assert post(client, branch, NEW).status_code == 200
    response = post(client, branch, {**NEW, "CompanyID": 4})
    assert (response.status_code, response.json()) == (401, {"Message": "Invalid company permissions"})


def test_concurrent_creates_get_distinct_ids(app):
    auth = {"Authorization": f"Bearer dev-token.{uuid.uuid4().hex[:12]}"}

    def create(_: int) -> int:
        with app.test_client() as client:
            response = post(client, auth, NEW)
            assert response.status_code == 200, response.text
            return int(response.json()["ContractID"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(create, range(12))) == list(range(FIRST_NEW_ID, FIRST_NEW_ID + 12))


def test_the_new_contract_can_be_updated(client, auth):
    contract_id = post(client, auth, NEW).json()["ContractID"]
    response = client.patch(f"{BASE}/{contract_id}", json={"Notes": "Updated"}, headers=auth)
    assert (response.status_code, response.json()["Notes"]) == (200, "Updated")
