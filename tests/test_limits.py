"""The vendors' documented limits, per tenant, through a real server on loopback (httpx)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.vendors.base import Edition, Limits, RateLimit, Vendor
from tests.support import widgets
from tests.support.operations import Operation, operations

READS = [op for op in operations() if op.method == "get"]
RATE_LIMITED = [op for op in READS if op.vendor.limits.rate is not None]
CAPPED = [op for op in READS if any(e.concurrent_calls for e in op.vendor.limits.editions.values())]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(create_app(Settings())) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def _token() -> str:
    return f"dev-token.limits-{uuid.uuid4().hex[:10]}"


def _burst(http: httpx.Client, op: Operation, token: str, count: int) -> list[httpx.Response]:
    return [http.get(op.url, headers=op.with_token(token)) for _ in range(count)]


def test_some_vendor_declares_each_kind_of_limit() -> None:
    assert RATE_LIMITED and CAPPED


@pytest.mark.parametrize("op", RATE_LIMITED, ids=str)
def test_the_rate_limit_is_per_tenant_with_retry_after(http: httpx.Client, op: Operation) -> None:
    rate = op.vendor.limits.rate
    assert rate is not None
    first, second = _token(), _token()
    assert {r.status_code for r in _burst(http, op, first, rate.requests)} == {200}
    throttled = http.get(op.url, headers=op.with_token(first))
    assert throttled.status_code == 429
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= math.ceil(rate.window_seconds)
    assert f"{wait} seconds" in throttled.text or str(wait) in throttled.text  # the vendor's wording, with the wait
    assert http.get(op.url, headers=op.with_token(second)).status_code == 200  # another tenant is untouched
    switched = http.post("/__admin/limits", json={"enabled": False}, headers={"X-Tenant-Token": first})
    assert switched.status_code == 200 and switched.json()["enabled"] is False
    assert http.get(op.url, headers=op.with_token(first)).status_code == 200
    http.post("/__admin/limits", json={"enabled": True}, headers={"X-Tenant-Token": first})
    assert http.get(op.url, headers=op.with_token(first)).status_code == 429


@pytest.mark.parametrize("op", RATE_LIMITED[:1], ids=str)
def test_the_switch_for_all_tenants_and_a_tenant_override(http: httpx.Client, op: Operation) -> None:
    rate = op.vendor.limits.rate
    assert rate is not None
    token, strict = _token(), _token()
    try:
        assert http.post("/__admin/limits", json={"enabled": False}).json()["enabled"] is False
        http.post("/__admin/limits", json={"enabled": True}, headers={"X-Tenant-Token": strict})
        assert {r.status_code for r in _burst(http, op, token, rate.requests + 2)} == {200}
        assert _burst(http, op, strict, rate.requests + 1)[-1].status_code == 429  # its own switch wins
    finally:
        http.post("/__admin/limits", json={"enabled": True})
    assert http.post("/__admin/limits", json={"enabled": "no"}).status_code == 400


def test_limits_off_serves_everything() -> None:
    op = RATE_LIMITED[0]
    rate = op.vendor.limits.rate
    assert rate is not None
    with serving(create_app(Settings(limits=False))) as url, httpx.Client(base_url=url) as http:
        assert {r.status_code for r in _burst(http, op, _token(), rate.requests + 5)} == {200}
        assert http.get("/__admin/limits").json()["enabled"] is False


@pytest.mark.parametrize("op", CAPPED, ids=str)
def test_the_concurrency_cap_of_the_tenants_edition(http: httpx.Client, op: Operation) -> None:
    editions = op.vendor.limits.editions
    smallest = min(
        (e for e in editions if editions[e].concurrent_calls), key=lambda e: editions[e].concurrent_calls or 0
    )
    cap = editions[smallest].concurrent_calls or 0
    token, other = _token(), _token()
    for tenant in (token, other):
        chosen = http.post(
            "/__admin/limits", json={"editions": {op.vendor.name: smallest}}, headers={"X-Tenant-Token": tenant}
        )
        assert chosen.status_code == 200, chosen.text
    slow = {"fault": "latency", "latencyMs": 1500, "api": op.vendor.name, "method": "GET"}
    assert http.post("/__admin/faults", json=slow, headers={"X-Tenant-Token": token}).status_code == 201
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(http.get(op.url, headers=op.with_token(token)).status_code))
        for _ in range(cap + 3)
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    time.sleep(0.2)
    assert http.get(op.url, headers=op.with_token(other)).status_code == 200  # another tenant of the same edition
    usage = http.get("/__admin/limits", headers={"X-Tenant-Token": token}).json()["apis"][op.vendor.name]
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(statuses) == [200] * cap + [429] * 3
    assert usage["inFlight"] == cap and usage["edition"] == smallest
    after = http.get("/__admin/limits", headers={"X-Tenant-Token": token}).json()["apis"][op.vendor.name]
    assert after["inFlight"] == 0 and after["credits"]["used"] == cap  # refused calls cost no credit


def test_an_unknown_edition_is_refused(http: httpx.Client) -> None:
    op = CAPPED[0]
    response = http.post(
        "/__admin/limits", json={"editions": {op.vendor.name: "platinum"}}, headers={"X-Tenant-Token": _token()}
    )
    assert response.status_code == 400 and "platinum" in response.text


CREDITS = Limits(editions={"tiny": Edition(daily_credits=3)}, default_edition="tiny")
RATE = Limits(rate=RateLimit(requests=20, window_seconds=2))


def _widgets(limits: Limits) -> dict[str, Vendor]:
    return {"widgets": dataclasses.replace(widgets.VENDOR, limits=limits)}


def test_daily_credits_are_counted_per_tenant_and_then_refused() -> None:
    with serving(create_app(widgets.SETTINGS, vendors=_widgets(CREDITS))) as url, httpx.Client(base_url=url) as http:
        token = _token()
        headers = {"Authorization": f"Bearer {token}"}
        assert [http.get("/widgets/widgets/1", headers=headers).status_code for _ in range(4)] == [200, 200, 200, 429]
        refused = http.get("/widgets/widgets/1", headers=headers)
        assert refused.json()["error"] == "quota_exceeded" and int(refused.headers["Retry-After"]) <= 86_400
        usage = http.get("/__admin/limits", headers={"X-Tenant-Token": token}).json()["apis"]["widgets"]
        assert usage["credits"]["used"] == 3 and usage["credits"]["limit"] == 3
        assert http.get("/widgets/widgets/1", headers={"Authorization": f"Bearer {_token()}"}).status_code == 200


def test_a_sliding_window_frees_up_as_hits_age() -> None:
    with serving(create_app(widgets.SETTINGS, vendors=_widgets(RATE))) as url, httpx.Client(base_url=url) as http:
        headers = {"Authorization": f"Bearer {_token()}"}
        responses = [http.get("/widgets/widgets/999", headers=headers) for _ in range(25)]
        throttled = [r for r in responses if r.status_code == 429]
        assert throttled and [r.status_code for r in responses].index(429) >= 20 - 1
        time.sleep(int(throttled[0].headers["Retry-After"]))
        assert http.get("/widgets/widgets/999", headers=headers).status_code != 429


def test_the_cli_flag() -> None:
    from mock_server.cli import build_parser

    assert build_parser().parse_args(["serve", "--limits", "off"]).limits == "off"
    run = subprocess.run(
        [sys.executable, "-m", "mock_server.cli", "serve", "--limits", "maybe"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "--limits" in run.stderr


@pytest.mark.parametrize("op", RATE_LIMITED[:1], ids=str)
def test_conformance_run_against_the_mock_with_limits_on_conforms(op: Operation) -> None:
    """The harness waits out the mock's 429s (Retry-After), with its own cap off (a partner's staging may set
    another rate than the documented one). The vendor's window is shortened so this stays quick."""
    from conformance.cli import main

    rate = op.vendor.limits.rate
    assert rate is not None
    quick = dataclasses.replace(op.vendor.limits, rate=RateLimit(requests=15, window_seconds=1))
    vendors = {op.vendor.name: dataclasses.replace(op.vendor, limits=quick)}
    app = create_app(Settings(apis=(op.vendor.name,)), vendors=vendors)
    token = _token()
    with serving(app) as url, httpx.Client(base_url=url) as http:
        started = time.monotonic()
        code = main(
            ["run", "--api", op.vendor.name, "--base-url", f"{url}{op.vendor.prefix}", "--token", token,
             "--suite", "scenarios", "--allow-writes", "--rate-limit", "none"]
        )  # fmt: skip
        elapsed = time.monotonic() - started
        log = http.get("/__admin/requests", params={"limit": 1000}).json()["requests"]
    assert code == 0
    assert any(entry["status"] == 429 for entry in log), "the run never reached the limit: it proves nothing"
    assert elapsed < 60
