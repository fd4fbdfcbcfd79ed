"""Records changed on a target are written back using only the spec, whatever the vendor's write style."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.apis import discover
from conformance.http import Client
from conformance.invariants import UpdateModel
from conformance.restore import RestoreError, Restorer, Snapshot
from conformance.target import Redactor
from launcher.servers import bundled_mock
from tests.conformance import records


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with bundled_mock() as url:
        yield url


@pytest.mark.parametrize("api_name", sorted(discover()))
def test_restore_writes_back_what_a_write_changed(mock_url: str, api_name: str) -> None:
    api = discover()[api_name]
    path, headers = records.record_path(api), records.bundled_headers(api)
    client = Client(f"{mock_url}/{api_name}", redactor=Redactor(frozenset()))
    restorer = Restorer(api, client)
    snapshot = restorer.snapshot(path, headers)
    assert snapshot is not None
    operation, media_type, body, members = records.write_changing(api, snapshot.record)
    changed = client.send(operation.method, path, headers={**headers, "Content-Type": media_type}, content=body)
    assert changed.status_code == 200 and len(members) == 2
    assert any(changed.json()[member] != snapshot.record[member] for member in members)

    restorer.restore(snapshot, headers)

    after = client.send("GET", path, headers=headers).json()
    differences = {key for key in {*after, *snapshot.record} if after.get(key) != snapshot.record.get(key)}
    assert differences <= records.derived_members(api)


@pytest.mark.parametrize("api_name", sorted(discover()))
def test_snapshot_of_a_missing_record_is_nothing_to_restore(mock_url: str, api_name: str) -> None:
    api = discover()[api_name]
    restorer = Restorer(api, Client(f"{mock_url}/{api_name}", redactor=Redactor(frozenset())))

    assert restorer.snapshot(records.missing_record_path(api), records.bundled_headers(api)) is None


MERGE_APIS = [
    name for name, api in discover().items() if UpdateModel(api).semantics(records.partial_write(api)) == "partial"
]


@pytest.mark.parametrize("api_name", MERGE_APIS)
def test_a_value_no_request_can_carry_is_an_error_not_a_silent_skip(mock_url: str, api_name: str) -> None:
    api = discover()[api_name]
    client = Client(f"{mock_url}/{api_name}", redactor=Redactor(frozenset()))
    restorer = Restorer(api, client)
    path, headers = records.record_path(api), records.bundled_headers(api)
    record = client.send("GET", path, headers=headers).json()
    (member,) = records.distinct_changes(api, records.partial_write(api), record, 1)

    with pytest.raises(RestoreError, match=rf"cannot write back {member}=\{{"):
        restorer.restore(Snapshot(path, {**record, member: {"not": "a value"}}), headers)
