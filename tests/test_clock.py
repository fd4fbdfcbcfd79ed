"""Each tenant's clock, through the real app: set, advanced and dropped per tenant; the rest follow the server's."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import DEFAULT_TODAY
from mock_server.state.store import RecordsView
from tests.support import widgets

URL = "/widgets/widgets/1"
EPOCH = dt.date(2000, 1, 1)


def stamp_today(ctx: Any, id: int, body: Any) -> tuple[dict[str, Any], int]:
    """PATCH stores the tenant's today in `size` (days since EPOCH): what the handler's ctx.clock says."""
    return ctx.records.update("widgets", id, lambda r: {**r, "size": (ctx.clock.today() - EPOCH).days}), 200


def mark_moved(records: RecordsView, today: dt.date) -> None:
    records.update("widgets", 1, lambda r: {**r, "name": "moved"})


CLOCKED = dataclasses.replace(
    widgets.VENDOR,
    operations={**widgets.VENDOR.operations, "patchWidget": stamp_today},
    on_clock_change=mark_moved,
)


@pytest.fixture(params=["memory", "redis"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings = widgets.SETTINGS
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings = dataclasses.replace(settings, store_url=url[: url.rindex("/")] + "/2")
    app = create_app(settings, vendors={"widgets": CLOCKED})
    with app.test_client() as test_client:
        test_client.post("/__admin/reset", json={})
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seen_today(client: TestClient, token: str) -> dt.date:
    response = client.patch(URL, json={}, headers=auth(token))
    assert response.status_code == 200, response.text
    return EPOCH + dt.timedelta(days=response.json()["size"])


def set_clock(client: TestClient, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"X-Tenant-Token": token} if token else {}
    response = client.post("/__admin/clock", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_tenants_clock_moves_that_tenant_only(client: TestClient) -> None:
    one, two = "dev-token.clock-one", "dev-token.clock-two"
    assert seen_today(client, one) == seen_today(client, two) == DEFAULT_TODAY
    body = set_clock(client, {"today": "2030-01-01"}, token=one)
    assert (body["today"], body["ownClock"]) == ("2030-01-01", True)
    assert seen_today(client, one) == dt.date(2030, 1, 1)
    assert seen_today(client, two) == DEFAULT_TODAY
    assert client.get("/__admin/clock").json()["today"] == DEFAULT_TODAY.isoformat()
    other = client.get("/__admin/clock", headers={"X-Tenant-Token": two}).json()
    assert (other["today"], other["ownClock"]) == (DEFAULT_TODAY.isoformat(), False)
    # The clock hook ran for the tenant whose today moved, and for no other.
    assert client.get(URL, headers=auth(one)).json()["name"] == "moved"
    assert client.get(URL, headers=auth(two)).json()["name"] == "abc"


def test_tenants_without_a_clock_of_their_own_follow_the_server_clock(client: TestClient) -> None:
    own, follower = "dev-token.clock-own", "dev-token.clock-follower"
    set_clock(client, {"today": "2030-01-01"}, token=own)
    seen_today(client, follower)
    set_clock(client, {"today": "2031-05-05"})
    assert seen_today(client, follower) == dt.date(2031, 5, 5)
    assert seen_today(client, own) == dt.date(2030, 1, 1)
    assert client.get(URL, headers=auth(follower)).json()["name"] == "moved"
    dropped = client.delete("/__admin/clock", headers={"X-Tenant-Token": own}).json()
    assert (dropped["today"], dropped["ownClock"]) == ("2031-05-05", False)
    assert seen_today(client, own) == dt.date(2031, 5, 5)


def test_advance_a_tenants_clock_and_reset_drops_it(client: TestClient) -> None:
    token = "dev-token.clock-advance"
    set_clock(client, {"advanceDays": 10}, token=token)
    assert seen_today(client, token) == DEFAULT_TODAY + dt.timedelta(days=10)
    set_clock(client, {"advanceDays": -3}, token=token)
    assert seen_today(client, token) == DEFAULT_TODAY + dt.timedelta(days=7)
    client.post("/__admin/reset", headers={"X-Tenant-Token": token}, json={})
    assert seen_today(client, token) == DEFAULT_TODAY


def test_clock_input_errors_change_nothing(client: TestClient) -> None:
    token = "dev-token.clock-errors"
    headers = {"X-Tenant-Token": token}
    assert client.post("/__admin/clock", json={"today": "2030-02-30"}, headers=headers).status_code == 400
    assert client.post("/__admin/clock", json={"advanceDays": "1"}, headers=headers).status_code == 400
    assert client.post("/__admin/clock", json={"advanceDays": 10**9}, headers=headers).status_code == 400
    assert client.post("/__admin/clock", json={"advanceDays": 999_999_999}, headers=headers).status_code == 400
    assert client.delete("/__admin/clock").status_code == 400
    assert seen_today(client, token) == DEFAULT_TODAY
