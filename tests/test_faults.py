"""Faults on demand, observed by a real httpx client against the mock on loopback."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launcher.servers import serving
from mock_server import _compat
from mock_server.app import StartupError, create_app, mock_state
from mock_server.config import Settings
from mock_server.engine.auth import fingerprint
from mock_server.engine.routes import RouteTable
from mock_server.resilience.faults import FAULT_KINDS, Faults
from tests.support.operations import Operation, operations

OPERATIONS = operations()
READS = [op for op in OPERATIONS if op.method == "get"]
WRITES = [op for op in OPERATIONS if op.examples and op.method in ("put", "patch")]  # updates of one record


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(create_app(Settings())) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
        client.delete("/__admin/faults")


@pytest.fixture
def token() -> str:
    return f"dev-token.faults-{uuid.uuid4().hex[:10]}"


def _install(http: httpx.Client, token: str | None, **fault: object) -> dict[str, object]:
    headers = {"X-Tenant-Token": token} if token else {}
    response = http.post("/__admin/faults", json=fault, headers=headers)
    assert response.status_code == 201, response.text
    installed: dict[str, object] = response.json()["faults"][0]
    return installed


def _filters(op: Operation) -> dict[str, str]:
    return {"api": op.vendor.name, "method": op.method.upper(), "path": op.template}


def _read_of(op: Operation) -> Operation:
    return next(r for r in READS if r.vendor is op.vendor and r.template == op.template)


@pytest.mark.parametrize("op", READS, ids=str)
def test_a_declared_status_is_answered_with_the_vendors_error_body(
    http: httpx.Client, token: str, op: Operation
) -> None:
    status = max(s for s in _declared(http, op) if s >= 400)
    _install(http, token, fault="status", status=status, count=1, **_filters(op))
    faulted = http.get(op.url, headers=op.with_token(token))
    unauthenticated = http.get(op.url)  # a real error of the same API, for its shape
    assert faulted.status_code == status
    assert set(faulted.json()) == set(unauthenticated.json())
    assert http.get(op.url, headers=op.with_token(token)).status_code == 200  # count 1: the next one is served


def _declared(http: httpx.Client, op: Operation) -> list[int]:
    response = http.post("/__admin/faults", json={"fault": "status", "status": 599, **_filters(op)})
    assert response.status_code == 400
    declared = response.json()["error"].rsplit("declared: ", 1)[1]
    return [int(code) for code in declared.split(", ")]


def test_an_undeclared_status_is_refused_naming_the_declared_ones(http: httpx.Client) -> None:
    op = READS[0]
    response = http.post("/__admin/faults", json={"fault": "status", "status": 599, **_filters(op)})
    assert response.status_code == 400
    assert "599 is not declared" in response.text and "declared: 400" in response.text
    assert http.get("/__admin/faults").json()["faults"] == []


def test_invalid_faults_are_refused_with_every_problem(http: httpx.Client) -> None:
    response = http.post(
        "/__admin/faults",
        json={"faults": [{"fault": "latency"}, {"fault": "nap"}, {"fault": "reset", "api": "no-such-api"}]},
    )
    problems = response.json()["problems"]
    assert response.status_code == 400 and len(problems) == 3
    assert "latencyMs" in problems[0] and "nap" in problems[1] and "no operation" in problems[2]


@pytest.mark.parametrize("op", READS, ids=str)
def test_prefer_code_and_delay(http: httpx.Client, token: str, op: Operation) -> None:
    declared = _declared(http, op)
    code = max(s for s in declared if s >= 400)
    assert http.get(op.url, headers={**op.with_token(token), "Prefer": f"code={code}"}).status_code == code
    refused = http.get(op.url, headers={**op.with_token(token), "Prefer": "code=418"})
    assert refused.status_code == 400 and all(str(s) in refused.text for s in declared)
    started = time.monotonic()
    assert http.get(op.url, headers={**op.with_token(token), "Prefer": "delay=300"}).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_makes_a_client_time_out_and_is_journalled(http: httpx.Client, token: str) -> None:
    op = READS[0]
    _install(http, token, fault="latency", latencyMs=800, **_filters(op))
    with pytest.raises(httpx.ReadTimeout):
        http.get(op.url, headers=op.with_token(token), timeout=0.2)
    started = time.monotonic()
    assert http.get(op.url, headers=op.with_token(token), timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.8
    assert http.get(op.url, headers=op.headers()).status_code == 200  # another tenant: no fault
    entries = http.get("/__admin/requests", params={"limit": 10}).json()["requests"]
    faulted = [e["fault"] for e in entries if "fault" in e]
    assert faulted and faulted[-1]["kind"] == "latency" and faulted[-1]["latencyMs"] == 800


def _latencies(http: httpx.Client, token: str, op: Operation, seed: int) -> list[float]:
    http.post("/__admin/reset", json={"token": token})
    http.post("/__admin/reset")  # clears the journal too
    _install(
        http, token, fault="latency", latencyMs={"lognormal": {"median": 5, "sigma": 1}}, probability=0.5, seed=seed
    )
    for _ in range(12):
        assert http.get(op.url, headers=op.with_token(token)).status_code == 200
    entries = http.get("/__admin/requests", params={"limit": 50}).json()["requests"]
    return [e["fault"]["latencyMs"] if "fault" in e else 0.0 for e in entries]


def test_seeded_faults_repeat_exactly(http: httpx.Client, token: str) -> None:
    op = READS[0]
    first, again, other = (_latencies(http, token, op, seed) for seed in (7, 7, 8))
    assert first == again and len(first) == 12
    assert 0 < sum(1 for ms in first if ms) < 12  # probability 0.5: some fired, some did not
    assert first != other


def test_a_429_fault_is_retried_after_its_retry_after(http: httpx.Client, token: str) -> None:
    op = READS[0]
    _install(http, token, fault="throttle", retryAfter=1, count=1, **_filters(op))
    started = time.monotonic()
    response = http.get(op.url, headers=op.with_token(token))
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    for _ in range(3):  # a client that honours Retry-After
        if response.status_code != 429:
            break
        time.sleep(int(response.headers["Retry-After"]))
        response = http.get(op.url, headers=op.with_token(token))
    assert response.status_code == 200 and time.monotonic() - started >= 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [("reset", httpx.ReadError), ("empty", httpx.RemoteProtocolError), ("truncated", httpx.RemoteProtocolError)],
)
def test_connection_faults(http: httpx.Client, token: str, kind: str, error: type[Exception]) -> None:
    op = READS[0]
    _install(http, token, fault=kind, count=1, **_filters(op))
    with pytest.raises(error):
        http.get(op.url, headers=op.with_token(token))
    assert http.get(op.url, headers=op.with_token(token)).status_code == 200


def test_a_reset_is_a_tcp_reset(base_url: str, token: str, http: httpx.Client) -> None:
    """The `_compat` internal: uvicorn's transport is found, and the client sees ECONNRESET."""
    import socket

    op = READS[0]
    _install(http, token, fault="reset", count=1, **_filters(op))
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        headers = "".join(f"{k}: {v}\r\n" for k, v in op.with_token(token).items())
        sock.sendall(f"GET {op.url} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        with pytest.raises(ConnectionResetError):
            assert sock.recv(1024) == b"" and False, "closed without a reset"
    assert (
        _compat.CHECKED_UVICORN[0] <= _compat._version(__import__("uvicorn").__version__) < _compat.CHECKED_UVICORN[1]
    )


def test_malformed_json_is_a_complete_response_that_does_not_parse(http: httpx.Client, token: str) -> None:
    op = READS[0]
    _install(http, token, fault="malformed", count=1, **_filters(op))
    response = http.get(op.url, headers=op.with_token(token))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


@pytest.mark.parametrize("op", WRITES, ids=str)
def test_a_reset_before_the_write_changes_nothing_and_a_delayed_write_is_applied_after_the_delay(
    http: httpx.Client, op: Operation
) -> None:
    media_type = next(mt for mt in op.media_types if "json" in mt)
    read = _read_of(op)
    body = _a_changing_example(http, op, read, media_type)
    token = f"dev-token.write-{uuid.uuid4().hex[:8]}"
    before = http.get(read.url, headers=read.with_token(token)).json()
    for kind in ("reset", "truncated", "status", "throttle", "malformed", "empty"):
        extra = {"status": max(_declared(http, op))} if kind == "status" else {}
        _install(http, token, fault=kind, count=1, **extra, **_filters(op))
        with contextlib.suppress(httpx.HTTPError):
            http.request(op.method, op.url, content=body, headers=op.with_token(token, media_type))
        assert http.get(read.url, headers=read.with_token(token)).json() == before, kind
    _install(http, token, fault="latency", latencyMs=1500, count=1, **_filters(op))
    answer: list[httpx.Response] = []
    writer = threading.Thread(
        target=lambda: answer.append(
            http.request(op.method, op.url, content=body, headers=op.with_token(token, media_type))
        )
    )
    writer.start()
    time.sleep(0.3)
    assert http.get(read.url, headers=read.with_token(token)).json() == before  # not yet applied
    writer.join(timeout=10)
    assert answer and answer[0].status_code == 200, answer[0].text if answer else "no answer"
    assert http.get(read.url, headers=read.with_token(token)).json() != before


def _a_changing_example(http: httpx.Client, op: Operation, read: Operation, media_type: str) -> str:
    """The first of the spec's request examples that changes the record (each tried in a tenant of its own)."""
    for example in op.examples:
        token = f"dev-token.try-{uuid.uuid4().hex[:8]}"
        before = http.get(read.url, headers=read.with_token(token)).json()
        body = json.dumps(example)
        written = http.request(op.method, op.url, content=body, headers=op.with_token(token, media_type))
        if written.status_code == 200 and http.get(read.url, headers=read.with_token(token)).json() != before:
            return body
    raise AssertionError(f"no request example of {op} changes its record")


def test_faults_file_loads_at_start_and_a_bad_one_is_exit_2(tmp_path: Path) -> None:
    op = READS[0]
    good = tmp_path / "faults.yaml"
    good.write_text(f"faults:\n  - fault: status\n    status: 404\n    api: {op.vendor.name}\n    method: GET\n")
    app = create_app(Settings(faults_file=good))
    with app.test_client() as client:
        assert client.get(op.url, headers=op.headers()).status_code == 404
        listed = client.get("/__admin/faults").json()["faults"]
        assert [(f["id"], f["status"]) for f in listed] == [("file-1", 404)]
    state = mock_state(app)  # a second worker sharing the store loads the file again: nothing doubles
    Faults(state.store, RouteTable(state.vendors, state.specs)).install_file(good)
    assert len(Faults(state.store, RouteTable(state.vendors, state.specs)).listed("*")) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - fault: status\n    status: 599\n  - fault: nap\n")
    with pytest.raises(StartupError, match="599 is not declared"):
        create_app(Settings(faults_file=bad))
    run = subprocess.run(
        [sys.executable, "-m", "mock_server.cli", "serve", "--port", "1", "--faults", str(bad)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2 and "nap" in run.stderr and "599" in run.stderr


def test_every_fault_kind_is_covered() -> None:
    covered = {"latency", "status", "throttle", "reset", "empty", "truncated", "malformed"}
    assert covered == set(FAULT_KINDS)


# --- faults scoped and listed truthfully: one id space; GET lists global and tenant faults with their
# scope; DELETE clears what it says ---

READ = next(op for op in operations() if op.method == "get")
THROTTLE = {"fault": "throttle", "api": READ.vendor.name, "method": "GET", "path": READ.template}


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
