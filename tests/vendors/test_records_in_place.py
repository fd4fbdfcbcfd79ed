"""Stores hand their own records to the rules to read (`peek`, `replace`): the in-memory store the
records it keeps, the Redis store the records it decoded, shared by every request of the process. No
request, accepted or refused, may change such a record in place: every record object a store handed
out before a request must still equal the copy taken of it then."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.state.redis_store import RedisStore
from mock_server.state.store import InMemoryStore, RecordsView, Seeds, Store, clone

PATCH = "application/json-patch+json"
ELEVATE_CONTRACT = "/elevate/customer-contracts/1"


def replace(member: str, value: Any) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": f"/{member}", "value": value}]


ZOHO_CONTRACT = "/zoho-desk/api/v1/contracts/10000000000001"
# (API, Authorization, extra headers, requests: method, path, JSON body, content type, expected status class)
Request = tuple[str, str, Any, str | None, int]
CASES: list[tuple[str, str, dict[str, str], list[Request]]] = [
    (
        "elevate",
        "Bearer dev-token.in-place",
        {},
        [
            ("GET", ELEVATE_CONTRACT, None, None, 2),
            ("PATCH", ELEVATE_CONTRACT, replace("renewalAlertDays", 7), PATCH, 2),
            ("PATCH", ELEVATE_CONTRACT, [{"op": "remove", "path": "/siteId"}], PATCH, 2),
            ("PATCH", ELEVATE_CONTRACT, replace("startDate", "2027-02-01"), PATCH, 2),
            ("PATCH", ELEVATE_CONTRACT, replace("customerId", 999999), PATCH, 4),
            ("PATCH", ELEVATE_CONTRACT, [{"op": "test", "path": "/name", "value": "other"}], PATCH, 4),
            ("PATCH", "/elevate/customer-contracts/2", replace("name", "Locked"), PATCH, 4),
            ("GET", "/elevate/customer-contracts?page=1&pageSize=10&sort=name:desc", None, None, 2),
        ],
    ),
    (
        "zoho-desk",
        "Zoho-oauthtoken dev-token.in-place",
        {"orgId": "60000000001"},
        [
            ("GET", ZOHO_CONTRACT, None, None, 2),
            ("PATCH", ZOHO_CONTRACT, {"contractName": "Renamed", "cf": {"cf_seats": 3}}, "application/json", 2),
            ("PATCH", ZOHO_CONTRACT, {"notificationAgentIds": ["10000000012832"]}, "application/json", 2),
            ("PATCH", ZOHO_CONTRACT, {"customFields": {"Seats": 4}, "description": "x"}, "application/json", 2),
            ("PATCH", ZOHO_CONTRACT, {"accountId": "999999999"}, "application/json", 4),
            ("PATCH", ZOHO_CONTRACT, {"cf": {"cf_seats": "many"}}, "application/json", 4),
            ("GET", "/zoho-desk/api/v1/contracts?limit=5&sortBy=-contractName", None, None, 2),
        ],
    ),
    (
        "abillity",
        "Bearer dev-token.in-place",
        {},
        [
            ("GET", "/abillity/api/contract/1", None, None, 2),
            ("PATCH", "/abillity/api/contract/1", {"DisplayName": "Head office", "Notes": "n"}, "application/json", 2),
            ("PATCH", "/abillity/api/contract/1", {"AgentContactID": 999999}, "application/json", 4),
        ],
    ),
    (
        "revnue",
        "Bearer dev-token.in-place",
        {},
        [
            ("GET", "/revnue/api/v2/contract/1", None, None, 2),
            ("PATCH", "/revnue/api/v2/contract/1", {"name": "Renamed", "notice_period": 60}, "application/json", 2),
            (
                "PATCH",
                "/revnue/api/v2/contract/1",
                {"template": {"id": 1, "fields": [{"id": 1, "value": 10}, {"id": 2, "value": 3}]}},
                "application/json",
                2,
            ),
            ("PATCH", "/revnue/api/v2/contract/1", {"template": {"id": 2, "fields": []}}, "application/json", 2),
            ("PATCH", "/revnue/api/v2/contract/1", {"supplier": 999999}, "application/json", 4),
            ("PATCH", "/revnue/api/v2/contract/1", {"notice_period": 100000}, "application/json", 4),
            ("GET", "/revnue/api/v2/contract/", None, None, 2),
        ],
    ),
]  # fmt: skip


def stored_records(store: Store, tenant: str, api: str) -> list[tuple[Any, Any]]:
    """Every record object the store hands out for the tenant (not a copy), beside a deep copy of it now."""
    view = RecordsView(store, tenant, api)
    collections = store.snapshot(tenant).get(api, {})
    return [(record, clone(record)) for name in collections for record in view.peek_all(name)]


@pytest.fixture(params=["memory", "redis"])
def open_store(request: pytest.FixtureRequest) -> Any:
    """Builds the app's store, in memory or on the session's Redis (a key prefix of its own)."""
    if request.param == "memory":
        return lambda seeds: InMemoryStore(seeds)
    url = request.getfixturevalue("redis_url")
    return lambda seeds: RedisStore.from_url(url, seeds, prefix=f"in-place-{uuid.uuid4().hex[:12]}:")


@pytest.mark.parametrize(("api", "authorization", "headers", "requests"), CASES, ids=[case[0] for case in CASES])
def test_no_request_changes_a_stored_record_in_place(
    api: str, authorization: str, headers: dict[str, str], requests: list[Request], open_store: Any
) -> None:
    opened: list[Store] = []

    def store(settings: Settings, seeds: Seeds) -> Store:
        opened.append(open_store(seeds))
        return opened[0]

    app = create_app(Settings(apis=(api,), limits=False), store=store)
    with TestClient(app) as client:
        for method, path, body, media_type, expected in requests:
            tenants = opened[0].tenants()  # none before the first request
            before = [pair for tenant in tenants for pair in stored_records(opened[0], tenant, api)]
            sent = {"Authorization": authorization, **headers}
            if media_type is not None:
                sent["Content-Type"] = media_type
            response = client.request(method, path, headers=sent, json=body)
            assert response.status_code // 100 == expected, (method, path, body, response.text)
            changed = [copy for record, copy in before if record != copy]
            assert changed == [], f"{method} {path} {body} changed stored records in place"
        assert opened[0].tenants(), "the requests were answered for a tenant"
