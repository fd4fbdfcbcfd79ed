"""Faults scoped and listed truthfully: one id space; GET lists global and tenant faults with their
scope; DELETE clears what it says. Observed over loopback, by the requests a client sends after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.engine.auth import fingerprint
from tests.support.operations import operations

READ = next(op for op in operations() if op.method == "get")
THROTTLE = {"fault": "throttle", "api": READ.vendor.name, "method": "GET", "path": READ.template}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(create_app(Settings())) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
        client.delete("/__admin/faults")


def new_tenant() -> str:
    return f"dev-token.scopes-{uuid.uuid4().hex[:10]}"


def install(http: httpx.Client, tenant: str | None) -> str:
    headers = {"X-Tenant-Token": tenant} if tenant else {}
    response = http.post("/__admin/faults", json=THROTTLE, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["faults"][0]["id"])


def listed(http: httpx.Client, tenant: str | None = None) -> dict[str, str]:
    """id -> scope, as GET /__admin/faults shows them."""
    headers = {"X-Tenant-Token": tenant} if tenant else {}
    return {fault["id"]: fault["scope"] for fault in http.get("/__admin/faults", headers=headers).json()["faults"]}


def throttled(http: httpx.Client, tenant: str) -> bool:
    return http.get(READ.url, headers=READ.with_token(tenant)).status_code == 429


def test_ids_are_one_space_across_scopes(http: httpx.Client) -> None:
    first, second = new_tenant(), new_tenant()
    ids = [install(http, first), install(http, second), install(http, None), install(http, first)]
    assert len(set(ids)) == 4


def test_get_without_a_tenant_lists_every_fault_with_its_scope(http: httpx.Client) -> None:
    tenant = new_tenant()
    own, everyone = install(http, tenant), install(http, None)
    assert listed(http) == {everyone: "*", own: fingerprint(tenant)}


def test_get_for_a_tenant_lists_what_fires_for_it_and_not_another_tenants(http: httpx.Client) -> None:
    tenant, other = new_tenant(), new_tenant()
    own, everyone = install(http, tenant), install(http, None)
    install(http, other)
    assert listed(http, tenant) == {own: fingerprint(tenant), everyone: "*"}


def test_delete_without_a_tenant_clears_tenant_faults_too(http: httpx.Client) -> None:
    tenant = new_tenant()
    install(http, tenant)
    install(http, None)
    assert throttled(http, tenant)
    response = http.delete("/__admin/faults")
    assert response.json() == {"scope": "*", "removed": 2}
    assert listed(http) == {}
    assert not throttled(http, tenant)


def test_delete_for_a_tenant_clears_only_its_own(http: httpx.Client) -> None:
    tenant, other = new_tenant(), new_tenant()
    install(http, tenant)
    theirs = install(http, other)
    response = http.delete("/__admin/faults", headers={"X-Tenant-Token": tenant})
    assert response.json() == {"scope": fingerprint(tenant), "removed": 1}
    assert not throttled(http, tenant)
    assert throttled(http, other)
    assert listed(http) == {theirs: fingerprint(other)}


def test_delete_one_id_without_a_tenant_finds_it_in_any_scope(http: httpx.Client) -> None:
    tenant = new_tenant()
    own = install(http, tenant)
    assert http.delete(f"/__admin/faults/{own}").json() == {"scope": "*", "removed": 1}
    assert not throttled(http, tenant)
    assert listed(http) == {}


def test_delete_one_id_for_a_tenant_does_not_touch_a_fault_for_everyone(http: httpx.Client) -> None:
    tenant = new_tenant()
    everyone = install(http, None)
    response = http.delete(f"/__admin/faults/{everyone}", headers={"X-Tenant-Token": tenant})
    assert response.status_code == 404
    assert f"no fault {everyone} in the faults of tenant" in response.json()["error"]
    assert listed(http) == {everyone: "*"}
