"""Records changed on a target are written back using only the spec, whatever the vendor's write style."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.apis import discover
from conformance.http import Client
from conformance.restore import RestoreError, Restorer, Snapshot
from conformance.target import Redactor
from mock_server.app import create_app
from mock_server.config import Settings
from tests.support.server import serving

# (path, a write that changes the record, fields the server stamps on every write)
CHANGES: dict[str, tuple[str, str, str, Any, set[str]]] = {
    "revnue": ("/api/v2/contract/1", "PUT", "application/json", {
        "company": 1, "contract_type": "buy_side", "name": "Replaced", "number": "R-1", "country": 826,
        "status": "archived", "contract_start_date": "2026-01-01", "contract_end_date": "2027-01-01",
        "total_contract_spend_value": 10, "supplier": 1,
    }, set()),
    "zoho-desk": ("/api/v1/contracts/10000000000001", "PATCH", "application/json", {
        "contractName": "Changed", "notifyBefore": None, "description": None, "productId": None,
    }, {"modifiedTime", "modifiedBy"}),
    "elevate": ("/customer-contracts/1", "PATCH", "application/json-patch+json", [
        {"op": "replace", "path": "/renewalAlertDays", "value": 3},
        {"op": "replace", "path": "/name", "value": "Changed"},
    ], set()),
    "abillity": ("/api/contract/1", "PATCH", "application/json", {
        "DisplayName": "Changed", "Notes": None, "MaxCLIs": 9,
    }, {"LastUpdated"}),
}  # fmt: skip


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serving(create_app(Settings())) as url:
        yield url


def credentials(api: str) -> dict[str, str]:
    token = f"dev-token.restore-{uuid.uuid4().hex[:8]}"
    if api == "zoho-desk":
        return {"Authorization": f"Zoho-oauthtoken {token}", "orgId": "60000000001"}
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("api_name", sorted(CHANGES))
def test_restore_writes_back_what_a_write_changed(mock_url: str, api_name: str) -> None:
    path, method, content_type, body, stamped = CHANGES[api_name]
    headers = credentials(api_name)
    client = Client(f"{mock_url}/{api_name}", redactor=Redactor(frozenset()))
    restorer = Restorer(discover()[api_name], client)
    snapshot = restorer.snapshot(path, headers)
    assert snapshot is not None
    headers_of_write = {**headers, "Content-Type": content_type}
    changed = client.send(method, path, headers=headers_of_write, content=json.dumps(body).encode())
    assert changed.status_code == 200

    restorer.restore(snapshot, headers)

    after = client.send("GET", path, headers=headers).json()
    differences = {key for key in {*after, *snapshot.record} if after.get(key) != snapshot.record.get(key)}
    assert differences <= stamped


def test_snapshot_of_a_missing_record_is_nothing_to_restore(mock_url: str) -> None:
    restorer = Restorer(discover()["elevate"], Client(f"{mock_url}/elevate", redactor=Redactor(frozenset())))

    assert restorer.snapshot("/customer-contracts/999999", credentials("elevate")) is None


def test_a_value_no_request_can_carry_is_an_error_not_a_silent_skip(mock_url: str) -> None:
    client = Client(f"{mock_url}/revnue", redactor=Redactor(frozenset()))
    restorer = Restorer(discover()["revnue"], client)
    headers = credentials("revnue")
    record = client.send("GET", "/api/v2/contract/1", headers=headers).json()

    with pytest.raises(RestoreError, match=r"cannot write back name=\{"):
        restorer.restore(Snapshot("/api/v2/contract/1", {**record, "name": {"not": "a name"}}), headers)
