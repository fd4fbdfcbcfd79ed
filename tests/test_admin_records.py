"""`PUT /__admin/records/{api}/{collection}/{id}` and `GET /__admin/requests?format=har` on the real mock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.apis import discover
from conformance.target import resolve_target
from mock_server.vendors import discover as discover_vendors
from tests.support.departures import first_id

APIS = list(discover().values())


def _resource(api_name: str) -> tuple[str, Any]:
    return next(iter(discover_vendors()[api_name].resources.items()))


def _headers(api_name: str, token: str) -> dict[str, str]:
    credentials = resolve_target(discover()[api_name], base_url="http://unused", bundled=True).credentials
    return {"Authorization": f"{credentials.auth_prefix} {token}", **credentials.org()}


def _read(client: Any, api_name: str, template: str, record_id: str, token: str) -> Any:
    (parameter,) = [part[1:-1] for part in template.split("/") if part.startswith("{")]
    return client.get(
        f"/{api_name}" + template.replace(f"{{{parameter}}}", record_id), headers=_headers(api_name, token)
    )


@pytest.mark.parametrize("api", APIS, ids=lambda api: api.name)
def test_a_record_as_read_can_be_stored_under_a_new_id_and_reads_back_the_same(client: Any, token: str, api) -> None:
    template, resource = _resource(api.name)
    view = _read(client, api.name, template, first_id(api, resource.collection), token).json()
    new_id = "77777777"
    member = resource.id_member
    copy = {**view, member: int(new_id) if isinstance(view[member], int) else new_id}
    url = f"/__admin/records/{api.name}/{resource.collection}/{new_id}"

    stored = client.put(url, json=copy, headers={"X-Tenant-Token": token})
    assert stored.status_code == 201, stored.text
    assert stored.json()["created"] is True
    assert _read(client, api.name, template, new_id, token).json() == copy
    again = client.put(url, json=copy, headers={"X-Tenant-Token": token})
    assert again.status_code == 200 and again.json()["created"] is False


def test_a_record_that_does_not_match_the_schema_is_refused_and_changes_nothing(client: Any, token: str) -> None:
    api = APIS[0]
    template, resource = _resource(api.name)
    record_id = first_id(api, resource.collection)
    before = _read(client, api.name, template, record_id, token).json()
    broken = {**before, resource.id_member: [1, 2]}
    response = client.put(f"/__admin/records/{api.name}/{resource.collection}/{record_id}", json=broken,
                          headers={"X-Tenant-Token": token})  # fmt: skip
    assert response.status_code == 400
    assert [field["field"] for field in response.json()["fields"]] == [resource.id_member]
    assert _read(client, api.name, template, record_id, token).json() == before


@pytest.mark.parametrize(
    "path, body, headers, status, words",
    [
        ("/__admin/records/no-such-api/c/1", {}, {"X-Tenant-Token": "t"}, 404, "unknown API"),
        (f"/__admin/records/{APIS[0].name}/no-such-collection/1", {}, {"X-Tenant-Token": "t"}, 404, "no collection"),
        (f"/__admin/records/{APIS[0].name}/{_resource(APIS[0].name)[1].collection}/1", {}, {}, 400, "name the tenant"),
        (f"/__admin/records/{APIS[0].name}/{_resource(APIS[0].name)[1].collection}/1", [1], {"X-Tenant-Token": "t"},
         400, "JSON object"),
    ],
)  # fmt: skip
def test_bad_record_requests_get_a_clear_error(
    client: Any, path: str, body: Any, headers: dict, status: int, words: str
) -> None:
    response = client.put(path, json=body, headers=headers)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_a_record_whose_id_is_not_the_paths_is_refused(client: Any, token: str) -> None:
    api = APIS[0]
    template, resource = _resource(api.name)
    record_id = first_id(api, resource.collection)
    view = _read(client, api.name, template, record_id, token).json()
    url = f"/__admin/records/{api.name}/{resource.collection}/{record_id}5"
    response = client.put(url, json=view, headers={"X-Tenant-Token": token})
    assert response.status_code == 400 and resource.id_member in response.json()["error"]


def test_journal_exports_as_har_without_credentials(client: Any, token: str) -> None:
    api = APIS[0]
    template, _ = _resource(api.name)
    _read(client, api.name, template, first_id(api, _resource(api.name)[1].collection), token)
    response = client.get("/__admin/requests", params={"format": "har", "limit": 5})
    document = response.json()
    assert document["log"]["version"] == "1.2"
    assert document["log"]["entries"], "the journal has entries"
    entry = document["log"]["entries"][-1]
    assert {h["name"]: h["value"] for h in entry["request"]["headers"]}["authorization"] == "***"
    assert token not in response.text and token.split(".", 1)[1] not in json.dumps(document)
