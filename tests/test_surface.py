"""The documented surface around the update operations, across vendors (issue 21)."""

from __future__ import annotations

import uuid

import pytest


def bearer(token: str = "dev-token") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}.{uuid.uuid4().hex[:12]}"}


ZOHO = {"orgId": "60000000001"}


def zoho_auth() -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken dev-token.{uuid.uuid4().hex[:12]}", **ZOHO}


READS = {
    "elevate": "/elevate/customer-contracts/1",
    "abillity": "/abillity/api/contract/1",
    "revnue": "/revnue/api/v2/contract/1",
}


@pytest.mark.parametrize("api", sorted(READS))
def test_unknown_query_parameters_are_ignored_where_no_source_refuses_them(client, api):
    plain = client.get(READS[api], headers=bearer())
    extra = client.get(READS[api] + "?format=json&utm_source=partner", headers=bearer())
    assert plain.status_code == 200
    assert (extra.status_code, extra.json()) == (200, plain.json())


def test_zoho_refuses_an_unknown_query_parameter_as_documented(client):
    response = client.get("/zoho-desk/api/v1/contracts/10000000000001?debug=1", headers=zoho_auth())
    assert response.status_code == 422
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/elevate/customer-contracts/abc", None, "customer_contract_id"),
        ("/abillity/api/contract/abc", None, "model.id"),
        ("/abillity/api/contract/1.5", None, "model.id"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_non_integer_path_id_is_a_400_naming_it_where_the_framework_says_so(client, path, body, named, method):
    response = client.request(method, path, headers=bearer(), json=body)
    assert response.status_code == 400, response.text
    assert named.split(".")[-1] in response.text


def test_a_non_integer_path_id_is_not_found_on_revnue_as_drf_answers_it(client):
    response = client.get("/revnue/api/v2/contract/abc", headers=bearer())
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_a_non_integer_path_id_without_credentials_is_still_a_401(client):
    assert client.get("/elevate/customer-contracts/abc").status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_revnue_401_carries_the_challenge_its_spec_declares(client, mock_app, headers):
    spec = mock_app.state.specs["revnue"]
    declared = spec.resolved["components"]["responses"]["Unauthorized"]["headers"]["WWW-Authenticate"]["example"]
    response = client.get("/revnue/api/v2/contract/1", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == declared == 'Bearer realm="api"'
