"""Round trips to Redis per request path, counted by the real server's MONITOR on a warm tenant.

A command run inside a Lua script is not a round trip (MONITOR marks it `lua`); a pipeline counts
once per command here, so none is used on the request path. The bounds are the issue's: a read in
one round trip, an update in at most three; the rate-limit window (a write the limits engine needs
before anything else) is one more where a vendor documents a rate limit.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import yaml
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import DEFAULT_SPEC_DIR, Settings
from mock_server.state.redis_store import RedisStore
from mock_server.state.store import request_scope

CONTRACT = "/revnue/api/v2/contract/1"
DB = 7  # a database of the session's redis-server of its own: MONITOR shows every database


@pytest.fixture
def store_url(redis_url: str) -> Iterator[str]:
    url = f"{redis_url[: redis_url.rindex('/')]}/{DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


def commands_during(url: str, call: Callable[[], Any]) -> list[str]:
    """The commands clients other than scripts sent to database DB while `call` ran."""
    client = redis.Redis.from_url(url, socket_timeout=10)
    marker = f"end-{uuid.uuid4().hex}"
    seen: list[dict[str, Any]] = []
    client.ping()  # the marker's connection made (and its database selected) before MONITOR starts
    watcher = redis.Redis.from_url(url, socket_timeout=10)
    with watcher.monitor() as monitor:
        listening = threading.Thread(target=lambda: seen.extend(_until(monitor, marker)), daemon=True)
        listening.start()
        try:
            call()
        finally:
            client.echo(marker)
            listening.join(timeout=10)
    client.close()
    watcher.close()
    assert not listening.is_alive(), "MONITOR never showed the marker"
    return [entry["command"].split()[0] for entry in seen if entry["client_type"] != "lua" and entry["db"] == DB]


def _until(monitor: redis.client.Monitor, marker: str) -> Iterator[dict[str, Any]]:
    for entry in monitor.listen():
        if marker in entry["command"]:
            return
        yield entry


def create_example() -> Any:
    """The example of Revnue's create in its spec."""
    spec = yaml.safe_load((DEFAULT_SPEC_DIR / "revnue.yaml").read_text())
    return spec["paths"]["/api/v2/contract"]["post"]["requestBody"]["content"]["application/json"]["example"]


def requester(client: TestClient, token: str) -> Callable[..., Callable[[], None]]:
    def request(method: str, path: str, body: Any = None, content_type: str = "application/json") -> Callable[[], None]:
        def send() -> None:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
            content = None if body is None else json.dumps(body)
            response = client.request(method, path, content=content, headers=headers)
            assert response.is_success, response.text

        return send

    return request


@pytest.mark.parametrize("limits", [False, True], ids=["limits off", "limits on"])
def test_each_request_path_takes_one_round_trip_to_read_and_one_more_to_write(store_url: str, limits: bool) -> None:
    app = create_app(Settings(store_url=store_url, apis=("revnue", "elevate"), limits=limits))
    window = 1 if limits else 0  # Revnue documents a rate limit (DRF's throttle); Elevate none
    with app.test_client() as client:
        request = requester(client, f"dev-token.{uuid.uuid4().hex[:8]}")
        # Warm: the tenant's seed copies made and every script loaded (both happen once, not per request).
        request("PATCH", "/revnue/api/v2/contract/2", {"name": "Warm"})()
        request("DELETE", "/revnue/api/v2/contract/4")()
        request("GET", "/elevate/customer-contracts/1")()
        paths = {
            "revnue read": (request("GET", "/revnue/api/v2/contract/1"), 1 + window),
            "revnue list": (request("GET", "/revnue/api/v2/contract/?company=1"), 1 + window),
            "revnue update": (request("PATCH", CONTRACT, {"name": "Counted"}), 2 + window),
            "revnue update, no change": (request("PATCH", CONTRACT, {"name": "Counted"}), 1 + window),
            "revnue delete": (request("DELETE", "/revnue/api/v2/contract/3"), 2 + window),
            "revnue create": (request("POST", "/revnue/api/v2/contract?company=1", create_example()), 2 + window),
            "elevate read": (request("GET", "/elevate/customer-contracts/1"), 1),
            "elevate list": (request("GET", "/elevate/customer-contracts?page=1&pageSize=50"), 1),
            "elevate update": (
                request("PATCH", "/elevate/customer-contracts/1", [{"op": "replace", "path": "/name", "value": "X"}],
                        "application/json-patch+json"),
                2,
            ),
        }  # fmt: skip
        counted = {name: commands_during(store_url, send) for name, (send, _) in paths.items()}
    assert {name: len(commands) for name, commands in counted.items()} == {
        name: bound for name, (_, bound) in paths.items()
    }, counted
    reads = [commands for name, commands in counted.items() if name.endswith(("read", "list", "no change"))]
    assert all(len(commands) <= 1 + window for commands in reads)
    assert all(len(commands) <= 3 for commands in counted.values())


def test_records_a_process_already_holds_are_not_sent_again(store_url: str) -> None:
    """The read's round trip carries the records only when another process changed them since."""
    seeds = {"api": {"items": {str(n): {"id": n, "text": "x" * 200} for n in range(1, 51)}}}
    server = redis.Redis.from_url(store_url)
    this, other = (RedisStore(redis.Redis.from_url(store_url), seeds) for _ in range(2))

    def bytes_sent_by_a_read() -> int:
        before = server.info("stats")["total_net_output_bytes"]
        with request_scope("api"):
            assert this.get("tenant", "api", "items", 1) is not None
        return int(server.info("stats")["total_net_output_bytes"] - before)  # INFO's own answer counted in both

    bytes_sent_by_a_read()  # the seed copy made, the records kept
    unchanged = bytes_sent_by_a_read()
    other.update("tenant", "api", "items", 2, lambda record: {**record, "text": "y"})
    changed = bytes_sent_by_a_read()
    assert changed > 50 * 200 > 4 * unchanged
    assert 4 * bytes_sent_by_a_read() < 50 * 200  # and again, now that this process holds the change


def test_an_issued_token_costs_one_round_trip_once_per_process(store_url: str) -> None:
    """A login token issued by one process is looked up by another once (HGET), then known there."""
    issuing, other = (create_app(Settings(store_url=store_url, apis=("elevate",))) for _ in range(2))
    read = "/elevate/customer-contracts/1"
    with issuing.test_client() as first, other.test_client() as second:
        login = first.post("/elevate/authenticate", json={"username": "dev@example.com", "password": "dev-password"})
        token = login.json()["token"]
        for client in (first, second):  # warm: scripts loaded, the tenant's seed copy made
            requester(client, "dev-token")("GET", read)()
        counted = [
            commands_during(store_url, requester(client, token)("GET", read)) for client in (first, second, second)
        ]
    assert counted == [["EVALSHA"], ["HGET", "EVALSHA"], ["EVALSHA"]]
