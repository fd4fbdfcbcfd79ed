"""Bounded tenants through the real app: the least recently used goes, and the admin API says so."""

from __future__ import annotations

import dataclasses

from mock_server.app import create_app
from mock_server.engine.auth import fingerprint
from tests.support import widgets

URL = "/widgets/widgets/1"


def test_an_evicted_tenant_starts_again_from_the_seed_and_the_admin_api_says_so():
    app = create_app(dataclasses.replace(widgets.SETTINGS, max_tenants=2), vendors={"widgets": widgets.VENDOR})
    tokens = [f"dev-token.bounded-{n}" for n in range(3)]
    with app.test_client() as client:
        for token in tokens:
            response = client.patch(URL, json={"name": "dirty"}, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
        listed = client.get("/__admin/tenants").json()
        assert listed["maxTenants"] == 2
        assert sorted(listed["tenants"]) == sorted(fingerprint(t) for t in tokens[1:])
        state = client.get("/__admin/state", headers={"X-Tenant-Token": tokens[0]}).json()
        assert state["evicted"] is True and "started again from the seed" in state["note"]
        first = client.get(URL, headers={"Authorization": f"Bearer {tokens[0]}"}).json()
        assert first["name"] == "abc"
        kept = client.get("/__admin/state", headers={"X-Tenant-Token": tokens[2]}).json()
        assert kept["evicted"] is False and kept["apis"]["widgets"]["widgets"]["1"]["name"] == "dirty"
