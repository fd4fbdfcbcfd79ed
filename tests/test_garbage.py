"""An answered request leaves no reference cycle behind: the cyclic collector has nothing of ours to find.

Each cycle a request leaves counts towards the collector's next run, and a collection pauses every
connection of the process (the bench's p99). Requests are built from each spec's own examples.
"""

from __future__ import annotations

import gc
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from mock_server.app import MockApp, create_app, mock_state
from mock_server.config import Settings
from mock_server.vendors import discover
from tests.support.spec_examples import ExampleRequest, example_read, example_update

VENDORS = discover()
OURS = ("mock_server", "openapi_model", "vendor_facts", "connexion", "starlette", "jsonschema", "uvicorn")
TEST_CLIENT = "starlette.testclient"  # the test's own client: not part of serving


@contextmanager
def _cycles_kept() -> Iterator[list[Any]]:
    """What the collector finds as cyclic garbage while the test runs (instead of freeing it)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _ours(garbage: list[Any]) -> list[str]:
    """Cyclic garbage made by the mock or its libraries: their objects, and request scopes."""
    found = []
    for thing in garbage:
        module = type(thing).__module__
        if module.startswith(OURS) and module != TEST_CLIENT:
            found.append(type(thing).__qualname__)
        elif isinstance(thing, dict) and thing.get("type") == "http" and "method" in thing:
            found.append("scope of " + thing["path"])
    return found


def _send(client: TestClient, request: ExampleRequest, headers: dict[str, str], body: Any) -> int:
    status: int = client.request(request.method, request.path, headers=headers, content=body).status_code
    return status


@pytest.fixture(scope="module", params=["memory", "redis"])
def any_store_app(request: pytest.FixtureRequest) -> MockApp:
    if request.param == "memory":
        app: MockApp = request.getfixturevalue("mock_app")
        return app
    return create_app(Settings(store_url=request.getfixturevalue("redis_url")))


@pytest.mark.parametrize("api", sorted(VENDORS))
def test_requests_leave_no_reference_cycle(any_store_app: MockApp, token: str, api: str) -> None:
    vendor = VENDORS[api]
    spec = mock_state(any_store_app).specs[api]
    read, update = example_read(spec, vendor), example_update(spec, vendor)
    with any_store_app.test_client() as client, _cycles_kept() as cycles_kept:
        statuses = _answers(client, vendor, read, update, token)
        left = _ours(cycles_kept)
    assert statuses[:2] == [200, 200] and all(400 <= status < 500 for status in statuses[2:]), statuses
    assert left == []


def _answers(client: TestClient, vendor: Any, read: ExampleRequest, update: ExampleRequest, token: str) -> list[int]:
    headers = update.with_token(vendor, token)
    statuses = [
        _send(client, read, read.with_token(vendor, token), None),
        _send(client, update, headers, update.content),
        _send(client, update, headers, b"[5, {"),  # unreadable JSON
        _send(client, update, headers, b'"a string"'),  # a body of the wrong JSON type
        _send(client, read, read.with_token(vendor, "not-a-token"), None),
    ]
    gc.collect()
    return statuses


@pytest.fixture
def served(mock_app: MockApp) -> Iterator[int]:
    """The mock served by uvicorn in a thread of this process (so that its garbage is seen here): its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(mock_app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    yield listener.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


def test_a_served_request_leaves_no_reference_cycle(served: int, token: str, mock_app: MockApp) -> None:
    vendor = VENDORS["elevate"]
    read = example_read(mock_app.state.specs["elevate"], vendor)
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    connection.request("GET", read.path, headers=read.with_token(vendor, token))
    assert connection.getresponse().read() and connection.sock is not None
    gc.collect()  # the server's own start-up garbage, before this test looks
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):  # on one kept-alive connection, as a client sends them
            connection.request("GET", read.path, headers=read.with_token(vendor, token))
            response = connection.getresponse()
            assert response.status == 200 and response.read()
        connection.close()
        gc.collect()
        assert _ours(gc.garbage) == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
