"""`GET /`: the landing page, as HTML and as JSON, derived from the vendors the mock serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.engine.spec import SpecView
from mock_server.vendors import discover

VENDORS = discover()
JSON = {"Accept": "application/json"}


def fixture_tokens(name: str) -> list[str]:
    auth = yaml.safe_load((Settings().fixtures_dir / name / "auth.yaml").read_text())
    return [str(entry["token"]) for entry in auth["tokens"]]


def overview(client: Any) -> dict[str, Any]:
    response = client.get("/", headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_json_lists_every_api_with_its_urls_and_fixture_tokens(client):
    apis = {api["name"]: api for api in overview(client)["apis"]}
    assert set(apis) == set(VENDORS)
    for name, vendor in VENDORS.items():
        api = apis[name]
        assert api["title"] == vendor.title
        assert api["baseUrl"] == f"http://testserver{vendor.prefix}"
        auth_prefix = SpecView.load(Settings().spec_dir / f"{name}.yaml").auth_prefix
        assert api["authorization"] == f"Authorization: {auth_prefix} <token>"
        assert api["orgHeader"] == vendor.org_header
        assert [token["token"] for token in api["tokens"]] == fixture_tokens(name)
        assert all(token["scopes"] for token in api["tokens"])
        assert (api["oauth"] is not None) == (vendor.oauth is not None)
        ui = client.get(api["swaggerUi"].removeprefix("http://testserver"))
        assert ui.status_code == 200 and "swagger" in ui.text.lower()
        spec = client.get(api["spec"].removeprefix("http://testserver"))
        assert spec.json()["info"]["title"]


def test_json_names_the_oauth_endpoints_that_answer(client):
    for api in overview(client)["apis"]:
        if api["oauth"] is None:
            continue
        token_url = api["oauth"]["tokenUrl"].removeprefix("http://testserver")
        response = client.post(token_url, data={"grant_type": "refresh_token", "client_id": "c"})
        assert response.json() == {"error": "invalid_code"}
        authorize = api["oauth"]["authorizationUrl"].removeprefix("http://testserver")
        assert client.get(authorize, params={"response_type": "code"}).status_code == 400


def test_json_lists_the_admin_endpoints_that_exist(client):
    admin = overview(client)["admin"]
    assert admin["enabled"] is True and admin["header"] is None
    assert "POST /__admin/reset" in admin["endpoints"]
    assert "GET /__admin/clock" in admin["endpoints"]
    for endpoint in admin["endpoints"]:
        method, path = endpoint.split(" ", 1)
        if method == "GET":
            assert client.get(path).status_code != 404, endpoint


def test_html_page_shows_apis_tokens_links_and_admin(client):
    response = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for name, vendor in VENDORS.items():
        assert vendor.title in page
        assert f'href="http://testserver{vendor.prefix}/ui/"' in page
        for token in fixture_tokens(name):
            assert f"<code>{token}</code>" in page
        if vendor.oauth is not None:
            assert f"http://testserver{vendor.prefix}{vendor.oauth.token_path}" in page
    assert "POST /__admin/reset" in page


def test_anything_but_json_gets_the_page(client):
    assert client.get("/", headers={"Accept": "*/*"}).headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("settings", "enabled", "header"),
    [
        (Settings(host="0.0.0.0"), False, None),
        (Settings(host="0.0.0.0", admin_token="s3cret"), True, "X-Admin-Token"),
    ],
    ids=["public-without-admin-token", "public-with-admin-token"],
)
def test_admin_shown_only_when_enabled(settings, enabled, header):
    with create_app(settings).test_client() as client:
        admin = overview(client)["admin"]
        page = client.get("/").text
    assert admin["enabled"] is enabled
    assert admin["header"] == header
    assert bool(admin["endpoints"]) is enabled
    assert ("/__admin/reset" in page) is enabled
    assert "s3cret" not in page


def test_the_page_names_no_vendor_of_its_own():
    """Everything vendor-specific on the page comes from the vendor modules and fixtures."""
    template = (Path(__file__).parent.parent / "mock_server" / "templates" / "landing.html").read_text()
    for name, vendor in VENDORS.items():
        assert name not in template and vendor.title not in template
