"""The mock OAuth server, for every vendor whose module declares one (`Vendor.oauth`)."""

from __future__ import annotations

import base64
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app, mock_state
from mock_server.config import Settings
from mock_server.engine.auth import fingerprint
from mock_server.engine.spec import SpecView
from mock_server.vendors import discover
from mock_server.vendors.base import Vendor
from tests.support.spec_examples import example_read, example_update
from vendor_facts import OAuthDescription

OAUTH_VENDORS = [vendor for vendor in discover().values() if vendor.oauth is not None]
CLIENT = {"client_id": "test-client", "client_secret": "test-secret"}
REDIRECT = "http://127.0.0.1:9/callback?keep=1"

pytestmark = pytest.mark.parametrize("vendor", OAUTH_VENDORS, ids=lambda v: v.name)


@pytest.fixture(scope="module")
def oauth_app() -> Any:
    """A mock of its own: these tests move its clock."""
    return create_app(Settings())


@pytest.fixture
def client(oauth_app: Any) -> Iterator[TestClient]:
    with oauth_app.test_client() as test_client:
        yield test_client
    test_client.post("/__admin/clock", json={"today": Settings().today.isoformat()})  # type: ignore[union-attr]


def config(vendor: Vendor) -> OAuthDescription:
    assert vendor.oauth is not None
    return vendor.oauth


def token_url(vendor: Vendor) -> str:
    return vendor.prefix + config(vendor).token_path


def authorize_url(vendor: Vendor) -> str:
    return vendor.prefix + config(vendor).authorize_path


def best_token(oauth_app: Any, vendor: Vendor) -> str:
    """The fixture token with the most scopes."""
    registry = mock_state(oauth_app).tokens[vendor.name]
    return max(registry.tokens(), key=lambda token: len(registry.lookup(token).scopes))  # type: ignore[union-attr]


def derived(oauth_app: Any, vendor: Vendor) -> str:
    return f"{best_token(oauth_app, vendor)}.oauth-{uuid.uuid4().hex[:8]}"


def refresh(client: TestClient, vendor: Vendor, refresh_token: str) -> Any:
    return client.post(
        token_url(vendor), data={"grant_type": "refresh_token", "refresh_token": refresh_token, **CLIENT}
    )


def expect_error(response: Any, vendor: Vendor, code: str) -> None:
    assert response.status_code == config(vendor).error_status
    assert response.json() == {"error": code}


def sign_in(client: TestClient, vendor: Vendor, token: str, redirect_uri: str = REDIRECT) -> str:
    """The authorization page's form, submitted with `token`: the code from the redirect."""
    form = {"response_type": "code", "client_id": CLIENT["client_id"], "redirect_uri": redirect_uri, "state": "xyz"}
    response = client.post(authorize_url(vendor), data={**form, "token": token}, follow_redirects=False)
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["location"])
    assert location._replace(query="").geturl() == urllib.parse.urlsplit(redirect_uri)._replace(query="").geturl()
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == "xyz" and query["keep"] == "1"
    return query["code"]


def api_call(client: TestClient, oauth_app: Any, vendor: Vendor, token: str, update: bool = False) -> Any:
    spec = mock_state(oauth_app).specs[vendor.name]
    example = example_update(spec, vendor) if update else example_read(spec, vendor)
    return client.request(
        example.method, example.path, content=example.content, headers=example.with_token(vendor, token)
    )


def test_served_spec_flows_point_at_the_mock_and_the_file_keeps_the_vendors(client, oauth_app, vendor):
    served = client.get(f"{vendor.prefix}/openapi.json").json()
    on_disk = SpecView.load(Settings().spec_dir / f"{vendor.name}.yaml").raw
    for name, scheme in served["components"]["securitySchemes"].items():
        if scheme["type"] != "oauth2":
            continue
        for flow_name, flow in scheme["flows"].items():
            assert flow["tokenUrl"] == token_url(vendor)
            assert flow.get("authorizationUrl", authorize_url(vendor)) == authorize_url(vendor)
            original = on_disk["components"]["securitySchemes"][name]["flows"][flow_name]["tokenUrl"]
            assert original.startswith("https://")


def test_refresh_grant_issues_a_token_with_the_grants_and_tenant_of_the_refresh_token(client, oauth_app, vendor):
    base = derived(oauth_app, vendor)
    response = refresh(client, vendor, base)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"access_token", "api_domain", "token_type", "expires_in"}
    assert answer["api_domain"] == f"http://testserver{vendor.prefix}"
    assert answer["token_type"] == mock_state(oauth_app).specs[vendor.name].auth_prefix
    assert answer["expires_in"] == config(vendor).access_token_lifetime.total_seconds()
    assert response.headers["cache-control"] == "no-store"
    assert base not in answer["access_token"]

    updated = api_call(client, oauth_app, vendor, answer["access_token"], update=True)
    assert updated.status_code == 200
    read_with_base = api_call(client, oauth_app, vendor, base)
    assert read_with_base.json() == updated.json()  # the same tenant: the write is seen with the base token
    state = client.get("/__admin/state", headers={"X-Tenant-Token": base}).json()
    assert state["tenant"] == fingerprint(base) and vendor.name in state["apis"]


def test_expired_access_token_gets_the_vendors_error_until_refreshed(client, oauth_app, vendor):
    base = derived(oauth_app, vendor)
    access = refresh(client, vendor, base).json()["access_token"]
    assert api_call(client, oauth_app, vendor, access).status_code == 200
    client.post("/__admin/clock", json={"advanceDays": 1})

    expired = api_call(client, oauth_app, vendor, access)
    status, body = vendor.render_error(vendor.expired_token_error())
    assert (expired.status_code, expired.json()) == (status, body)
    assert status == 401
    logged = client.get("/__admin/requests", params={"tenant": fingerprint(base)}).json()["requests"]
    assert [entry["status"] for entry in logged] == [
        200
    ]  # the tenant of the refresh token; expiry answered before the log
    fresh = refresh(client, vendor, base).json()["access_token"]
    assert api_call(client, oauth_app, vendor, fresh).status_code == 200


def test_authorization_code_grant_then_refresh(client, oauth_app, vendor):
    token = best_token(oauth_app, vendor)
    page = client.get(
        authorize_url(vendor),
        params={"response_type": "code", "client_id": "c", "redirect_uri": REDIRECT, "scope": "anything"},
    )
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for listed in mock_state(oauth_app).tokens[vendor.name].tokens():
        assert f'value="{listed}"' in page.text

    code = sign_in(client, vendor, token)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **CLIENT}
    answer = client.post(token_url(vendor), data=exchange).json()
    assert set(answer) == {"access_token", "refresh_token", "api_domain", "token_type", "expires_in"}
    assert api_call(client, oauth_app, vendor, answer["access_token"]).status_code == 200
    expect_error(client.post(token_url(vendor), data=exchange), vendor, "invalid_code")  # a code is used once

    again = refresh(client, vendor, answer["refresh_token"]).json()
    assert again["access_token"] != answer["access_token"]
    assert api_call(client, oauth_app, vendor, again["access_token"]).status_code == 200


def test_parameters_in_the_query_string_and_client_credentials_in_a_basic_header(client, oauth_app, vendor):
    basic = base64.b64encode(f"{CLIENT['client_id']}:{CLIENT['client_secret']}".encode()).decode()
    params = {"grant_type": "refresh_token", "refresh_token": derived(oauth_app, vendor)}
    response = client.post(token_url(vendor), params=params, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200
    assert "access_token" in response.json()


def test_a_derived_token_typed_on_the_page_wins_and_keeps_its_own_tenant(client, oauth_app, vendor):
    mine = derived(oauth_app, vendor)
    form = {"response_type": "code", "client_id": CLIENT["client_id"], "redirect_uri": REDIRECT}
    response = client.post(
        authorize_url(vendor),
        data={**form, "token": best_token(oauth_app, vendor), "derived_token": mine},
        follow_redirects=False,
    )
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.headers["location"]).query))["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **CLIENT}
    access = client.post(token_url(vendor), data=exchange).json()["access_token"]
    assert api_call(client, oauth_app, vendor, access, update=True).status_code == 200
    assert client.get("/__admin/state", headers={"X-Tenant-Token": mine}).json()["apis"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "refresh_token", "refresh_token": "never-issued"}, "invalid_code"),
        ({"grant_type": "refresh_token"}, "invalid_code"),
        ({"grant_type": "authorization_code", "code": "never-issued", "redirect_uri": REDIRECT}, "invalid_code"),
        ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
        ({}, "unsupported_grant_type"),
    ],
)
def test_bad_grants_are_refused(client, vendor, form, error):
    expect_error(client.post(token_url(vendor), data={**form, **CLIENT}), vendor, error)


def test_a_code_belongs_to_its_client_and_redirect_uri(client, oauth_app, vendor):
    token = best_token(oauth_app, vendor)
    exchange = {"grant_type": "authorization_code", "redirect_uri": REDIRECT, **CLIENT}
    other_client = {**exchange, "code": sign_in(client, vendor, token), "client_id": "another-client"}
    expect_error(client.post(token_url(vendor), data=other_client), vendor, "invalid_client")
    other_redirect = {**exchange, "code": sign_in(client, vendor, token), "redirect_uri": "http://127.0.0.1:9/other"}
    expect_error(client.post(token_url(vendor), data=other_redirect), vendor, "invalid_redirect_uri")
    no_client = {"grant_type": "refresh_token", "refresh_token": token}
    expect_error(client.post(token_url(vendor), data=no_client), vendor, "invalid_client")


def test_an_expired_code_is_refused(client, oauth_app, vendor):
    code = sign_in(client, vendor, best_token(oauth_app, vendor))
    client.post("/__admin/clock", json={"advanceDays": 1})
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **CLIENT}
    expect_error(client.post(token_url(vendor), data=exchange), vendor, "invalid_code")


def test_token_endpoint_only_takes_post_and_small_bodies(client, vendor):
    response = client.get(token_url(vendor))
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    huge = {"grant_type": "refresh_token", "refresh_token": "x" * 70_000, **CLIENT}
    expect_error(client.post(token_url(vendor), data=huge), vendor, "invalid_request")


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"client_id": "c", "redirect_uri": REDIRECT}, "missing parameter response_type"),
        ({"response_type": "code", "redirect_uri": REDIRECT}, "missing parameter client_id"),
        ({"response_type": "token", "client_id": "c", "redirect_uri": REDIRECT}, "response_type must be code"),
    ],
)
def test_authorization_page_names_a_bad_request(client, vendor, params, problem):
    response = client.get(authorize_url(vendor), params=params)
    assert response.status_code == 400
    assert problem in response.text


def test_authorization_page_refuses_an_unknown_token(client, vendor):
    form = {"response_type": "code", "client_id": "c", "redirect_uri": REDIRECT, "token": "no-such-token"}
    response = client.post(authorize_url(vendor), data=form, follow_redirects=False)
    assert response.status_code == 400
    assert "unknown token" in response.text


def test_nothing_sent_to_the_oauth_server_is_logged(client, oauth_app, vendor):
    base = derived(oauth_app, vendor)
    access = refresh(client, vendor, base).json()["access_token"]
    api_call(client, oauth_app, vendor, access)
    log = client.get("/__admin/requests", params={"limit": 1000}).text
    assert config(vendor).token_path not in log
    for secret in (base, access, CLIENT["client_secret"]):
        assert secret not in log
    entries = json.loads(log)["requests"]
    assert entries[-1]["tenant"] == fingerprint(base)  # logged as the tenant of the token it stands for


def test_tokens_of_the_api_that_were_not_issued_here_pass_unchanged(client, oauth_app, vendor):
    assert api_call(client, oauth_app, vendor, derived(oauth_app, vendor)).status_code == 200
    unknown = api_call(client, oauth_app, vendor, "never-issued-token")
    assert unknown.status_code == 401
    assert unknown.json() != vendor.render_error(vendor.expired_token_error())[1]


def test_multipart_forms_are_read_and_files_refused(client, oauth_app, vendor):
    form = {"grant_type": "refresh_token", "refresh_token": derived(oauth_app, vendor), **CLIENT}
    as_multipart = client.post(token_url(vendor), data=form, files={"unnamed": ("", b"")})  # a field, not a file
    assert "multipart/form-data" in as_multipart.request.headers["content-type"]
    assert "access_token" in as_multipart.json()
    with_file = client.post(token_url(vendor), data=form, files={"upload": ("grant.txt", b"x")})
    expect_error(with_file, vendor, "invalid_request")
    broken = client.post(
        token_url(vendor), content=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data"}
    )  # no boundary
    expect_error(broken, vendor, "invalid_request")
