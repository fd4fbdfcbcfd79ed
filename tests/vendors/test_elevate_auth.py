"""Elevate's `POST /authenticate`: credentials in, a bearer token valid 15 minutes on the tenant's clock out."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app, mock_state
from mock_server.config import Settings
from mock_server.engine.auth import fingerprint
from mock_server.vendors.elevate import VENDOR

LOGIN = "/elevate/authenticate"
CONTRACT = "/elevate/customer-contracts/1"
DEV = {"username": "dev@example.com", "password": "dev-password"}  # fixtures/elevate/auth.yaml: dev-token
READ_ONLY = {"username": "readonly@example.com", "password": "readonly-password"}  # readonly-token
PATCH_TYPE = "application/json-patch+json"


@pytest.fixture
def app() -> Any:
    """A mock of its own: these tests move its clocks."""
    return create_app(Settings(apis=["elevate"]))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


def log_in(client: TestClient, credentials: dict[str, str]) -> str:
    response = client.post(LOGIN, json=credentials)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_answer_follows_the_spec_and_the_token_looks_like_a_jwt(client, app):
    response = client.post(LOGIN, json=DEV)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert mock_state(app).specs["elevate"].validate("AuthenticationToken", answer) == []
    assert answer["expiresIn"] == 15 * 60
    header, claims, signature = answer["token"].split(".")
    assert json.loads(_base64url(header)) == {"alg": "HS256", "typ": "JWT"}
    decoded = json.loads(_base64url(claims))
    assert decoded["sub"] == DEV["username"] and decoded["exp"] - decoded["iat"] == 15 * 60
    assert len(_base64url(signature)) == 32
    assert log_in(client, DEV) != answer["token"]  # a token per login


def test_an_issued_token_has_the_grants_and_tenant_of_its_users_token(client):
    token = log_in(client, DEV)
    patched = client.patch(
        CONTRACT,
        headers={**bearer(token), "Content-Type": PATCH_TYPE},
        content=json.dumps([{"op": "replace", "path": "/noticePeriodDays", "value": 45}]),
    )
    assert patched.status_code == 200, patched.text
    assert client.get(CONTRACT, headers=bearer("dev-token")).json()["noticePeriodDays"] == 45  # same tenant
    assert client.get(CONTRACT, headers=bearer("dev-token.other")).json()["noticePeriodDays"] == 30

    read_only = log_in(client, READ_ONLY)
    assert client.get(CONTRACT, headers=bearer(read_only)).status_code == 200
    refused = client.patch(
        CONTRACT,
        headers={**bearer(read_only), "Content-Type": PATCH_TYPE},
        content=json.dumps([{"op": "replace", "path": "/noticePeriodDays", "value": 1}]),
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "Forbidden"


def test_the_token_expires_after_15_minutes_on_its_tenants_clock(client):
    token = log_in(client, DEV)
    assert client.get(CONTRACT, headers=bearer(token)).status_code == 200

    other_tenant = client.post("/__admin/clock", json={"advanceDays": 1}, headers={"X-Tenant-Token": "dev-token.other"})
    assert other_tenant.status_code == 200
    assert client.get(CONTRACT, headers=bearer(token)).status_code == 200  # another tenant's clock moved

    moved = client.post("/__admin/clock", json={"advanceDays": 1}, headers={"X-Tenant-Token": "dev-token"})
    assert moved.status_code == 200
    expired = client.get(CONTRACT, headers=bearer(token))

    assert expired.status_code == 401
    assert expired.json() == VENDOR.render_error(VENDOR.expired_token_error())[1]
    assert expired.json()["error"] == "Unauthorized"
    assert client.get(CONTRACT, headers=bearer(log_in(client, DEV))).status_code == 200  # log in again


def test_an_unknown_bearer_token_is_401(client):
    token = log_in(client, DEV)
    header, claims, _ = token.split(".")
    forged = f"{header}.{claims}.{base64.urlsafe_b64encode(b'x' * 32).rstrip(b'=').decode()}"

    response = client.get(CONTRACT, headers=bearer(forged))

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


@pytest.mark.parametrize(
    "credentials",
    [{**DEV, "password": "wrong"}, {"username": "nobody@example.com", "password": "dev-password"}],
    ids=["wrong password", "unknown user"],
)
def test_wrong_credentials_are_401_in_elevates_shape(client, credentials):
    response = client.post(LOGIN, json=credentials)

    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "message": "Bad credentials"}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (json.dumps({"username": "dev@example.com"}), "password"),
        (json.dumps({"username": 1, "password": "dev-password"}), "username"),
        (json.dumps(["dev@example.com"]), "object"),
        ("{not json", "JSON"),
        ("", "JSON"),
    ],
    ids=["missing member", "not a string", "not an object", "malformed", "empty"],
)
def test_a_bad_body_is_400_naming_what_is_wrong(client, body, named):
    response = client.post(LOGIN, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert named in response.json()["message"]


def test_credentials_and_issued_tokens_are_never_logged(client):
    token = log_in(client, DEV)
    client.post(LOGIN, json={**DEV, "password": "wrong"})
    client.get(CONTRACT, headers=bearer(token))

    logged = json.dumps(client.get("/__admin/requests").json())

    assert DEV["password"] not in logged and token not in logged and "wrong" not in logged
    tenants = {entry["tenant"] for entry in client.get("/__admin/requests").json()["requests"]}
    assert tenants == {fingerprint("dev-token")}


def test_only_post_logs_in(client):
    assert client.get(LOGIN).status_code == 405


def test_the_login_facts_name_an_operation_of_the_spec_without_security(app):
    login = VENDOR.login
    assert login is not None
    operation = mock_state(app).specs["elevate"].operation_by_id(login.operation_id)
    assert operation is not None
    assert (operation.method, operation.path) == ("POST", login.path)
    assert operation.definition["security"] == []


def _base64url(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except binascii.Error as exc:  # pragma: no cover - the assertion names the part
        raise AssertionError(f"not base64url: {part}") from exc


def test_a_body_that_is_not_json_by_its_media_type_is_415(client):
    response = client.post(LOGIN, content=json.dumps(DEV), headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported Media Type"
