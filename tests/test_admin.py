import pytest

from mock_server.app import create_app
from mock_server.engine.auth import fingerprint
from tests.support import widgets

URL = "/widgets/widgets/1"


def test_state_shows_a_tenants_records_by_token_header(widgets_client):
    token = "dev-token.admin-state"
    widgets_client.patch(URL, json={"name": "seen"}, headers={"Authorization": f"Bearer {token}"})
    body = widgets_client.get("/__admin/state", headers={"X-Tenant-Token": token}).json()
    assert body["tenant"] == fingerprint(token)
    assert body["apis"]["widgets"]["widgets"]["1"]["name"] == "seen"


def test_state_needs_a_tenant(widgets_client):
    assert widgets_client.get("/__admin/state").status_code == 400


def test_reset_one_tenant_restores_its_seed_only(widgets_client):
    one, two = ({"Authorization": f"Bearer dev-token.reset-{n}"} for n in (1, 2))
    for headers in (one, two):
        widgets_client.patch(URL, json={"name": "dirty"}, headers=headers)
    response = widgets_client.post("/__admin/reset", json={"tenant": fingerprint("dev-token.reset-1")})
    assert response.json() == {"reset": fingerprint("dev-token.reset-1")}
    assert widgets_client.get(URL, headers=one).json()["name"] == "abc"
    assert widgets_client.get(URL, headers=two).json()["name"] == "dirty"


def test_request_log_redacts_tokens(widgets_client):
    token = "dev-token.secret-in-log"
    widgets_client.patch(URL, json={"name": "logd"}, headers={"Authorization": f"Bearer {token}"})
    response = widgets_client.get("/__admin/requests", params={"tenant": fingerprint(token)})
    entries = response.json()["requests"]
    assert [e["status"] for e in entries] == [200]
    assert entries[0]["headers"]["authorization"] == "<redacted>"
    assert entries[0]["body"] == '{"name":"logd"}'
    assert "secret-in-log" not in response.text


def test_clock_can_be_read_set_and_advanced(widgets_client):
    assert widgets_client.post("/__admin/clock", json={"today": "2030-01-30"}).json()["today"] == "2030-01-30"
    assert widgets_client.post("/__admin/clock", json={"advanceDays": 2}).json()["today"] == "2030-02-01"
    assert widgets_client.get("/__admin/clock").json()["today"] == "2030-02-01"
    assert widgets_client.post("/__admin/clock", json={"today": "not a date"}).status_code == 400
    assert widgets_client.post("/__admin/clock", json={}).status_code == 400
    widgets_client.post("/__admin/clock", json={"today": "2026-11-01"})


def test_admin_is_off_when_bound_beyond_loopback_without_a_token():
    settings = widgets.Settings(**{**widgets.SETTINGS.__dict__, "host": "0.0.0.0"})
    client = create_app(settings, vendors={"widgets": widgets.VENDOR}).test_client()
    assert client.get("/__admin/clock").status_code == 404


@pytest.mark.parametrize("given, status", [(None, 401), ("wrong", 401), ("s3cret", 200)])
def test_admin_token_guards_admin_beyond_loopback(given, status):
    settings = widgets.Settings(**{**widgets.SETTINGS.__dict__, "host": "0.0.0.0", "admin_token": "s3cret"})
    client = create_app(settings, vendors={"widgets": widgets.VENDOR}).test_client()
    headers = {"X-Admin-Token": given} if given else {}
    assert client.get("/__admin/clock", headers=headers).status_code == status
