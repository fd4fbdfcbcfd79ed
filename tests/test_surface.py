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
