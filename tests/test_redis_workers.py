"""`contract-mock serve --workers 2` on Redis: connections spread over both workers, and tokens issued by
one worker work on the other. Real processes on a loopback port, a real redis-server.

(The proofs that nothing is lost or read stale across workers are in tests/vendors/test_elevate_workers.py.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import psutil
import pytest
import redis

from launcher.servers import free_port, stop_process
from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.engine.spec import SpecView
from mock_server.vendors import discover
from tests.support.spec_examples import example_read
from tests.vendors import test_elevate_workers as proof

CONTRACT = "/elevate/customer-contracts/1"
TOKEN = "dev-token.workers-spread"
ELEVATE_USER = {"username": "dev@example.com", "password": "dev-password"}  # fixtures: dev-token
CONNECTIONS = 32


@pytest.fixture
def store_url(redis_url: str) -> str:
    """A database of the session's Redis for this test alone."""
    url = redis_url[: redis_url.rindex("/")] + "/6"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def serve(port: int, store_url: str, *options: str) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port), "--store", store_url,
        "--no-access-log", "--log-level", "warning", *options,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@contextmanager
def two_workers(store_url: str, *options: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    process = serve(port, store_url, "--workers", "2", *options)
    try:
        wait_until_both_workers_serve(port, process)
        yield port, process
    finally:
        stop_process(process)


def wait_until_both_workers_serve(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        if len(workers_listening(process, port)) == 2:
            return
        time.sleep(0.1)
    raise AssertionError("two workers did not listen in time")


def workers_listening(process: subprocess.Popen[Any], port: int) -> set[int]:
    """The worker processes with a socket listening on `port` (not multiprocessing's resource tracker)."""
    listening = set()
    for worker in psutil.Process(process.pid).children():
        try:
            connections = worker.net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections):
            listening.add(worker.pid)
    return listening


def answering_workers(
    process: subprocess.Popen[str], port: int, count: int, busy: bool = False, request: bytes | None = None
) -> list[int]:
    """Opens `count` connections at once, sends `request` (a GET of Elevate's contract 1) on each and
    reads its answer, which must be a 200; the worker holding each connection (by its server end), in the
    order the connections were opened.

    `busy`: the workers are stopped while the connections arrive (as when they are busy serving others),
    then go on one after the other: the first to go on must not take every waiting connection."""
    workers = [psutil.Process(pid) for pid in sorted(workers_listening(process, port))]
    with ExitStack() as stack:
        if busy:
            for worker in workers:
                worker.suspend()
                stack.callback(worker.resume)
        clients = [stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30)) for _ in range(count)]
        request = request or get_request(CONTRACT, {"Authorization": f"Bearer {TOKEN}"})
        for client in clients:
            client.sendall(request)
        for worker in workers if busy else []:
            worker.resume()
            time.sleep(0.3)
        for client in clients:
            assert client.recv(12).startswith(b"HTTP/1.1 200")
        holders = {}
        for worker in psutil.Process(process.pid).children():
            for connection in worker.net_connections(kind="tcp"):
                if connection.raddr and connection.laddr.port == port:
                    holders[connection.raddr.port] = worker.pid
        return [holders[client.getsockname()[1]] for client in clients]


@pytest.fixture(scope="module")
def serving_two(redis_url: str) -> Iterator[tuple[int, subprocess.Popen[str], str]]:
    """Two workers on Redis, for the tests that leave them running."""
    url = redis_url[: redis_url.rindex("/")] + "/10"
    with two_workers(url, "--api", "elevate") as (port, process):
        yield port, process, url


def get_request(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: x", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_connections_spread_over_both_workers(serving_two: tuple[int, subprocess.Popen[str], str], busy: bool) -> None:
    port, process, _ = serving_two
    workers = workers_listening(process, port)
    holders = answering_workers(process, port, CONNECTIONS, busy)
    assert set(holders) == workers  # both answer
    assert min(holders.count(pid) for pid in workers) >= CONNECTIONS // 8  # not all but a few on one


def test_a_second_server_on_the_port_of_two_workers_is_refused(
    serving_two: tuple[int, subprocess.Popen[str], str],
) -> None:
    port, _, url = serving_two
    second = serve(port, url, "--workers", "2", "--api", "elevate")
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 2
    assert stderr.strip().splitlines() == [f"contract-mock: cannot start: 127.0.0.1:{port}: Address already in use"]


def test_a_killed_worker_is_replaced_and_listens_again(store_url: str) -> None:
    with two_workers(store_url, "--api", "elevate") as (port, process):
        survivor, victim = (psutil.Process(pid) for pid in sorted(workers_listening(process, port)))
        victim.kill()
        victim.wait(timeout=10)
        wait_until_both_workers_serve(port, process)
        workers = workers_listening(process, port)
        assert survivor.pid in workers and victim.pid not in workers
        assert set(answering_workers(process, port, CONNECTIONS)) == workers


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_supervisor_and_its_workers(store_url: str, stop: signal.Signals) -> None:
    with two_workers(store_url, "--api", "elevate") as (port, process):
        workers = [psutil.Process(pid) for pid in workers_listening(process, port)]
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert alive == []
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_login_token_issued_by_one_worker_works_on_every_connection(redis_url: str) -> None:
    url = redis_url[: redis_url.rindex("/")] + "/8"
    with two_workers(url, "--api", "elevate", "--log-level", "info") as (port, process):
        base = f"http://127.0.0.1:{port}"
        login = httpx.post(f"{base}/elevate/authenticate", json=ELEVATE_USER, timeout=30)
        assert login.status_code == 200
        token = login.json()["token"]
        request = get_request(CONTRACT, {"Authorization": f"Bearer {token}"})
        holders = answering_workers(process, port, CONNECTIONS, busy=True, request=request)
        assert set(holders) == workers_listening(process, port)  # the worker that did not issue it too
        assert_nowhere_in_redis(url, token)
    assert token not in process.communicate()[1]  # nor in the log


def test_oauth_codes_and_tokens_issued_by_one_worker_work_on_every_connection(redis_url: str) -> None:
    url = redis_url[: redis_url.rindex("/")] + "/9"
    with two_workers(url, "--api", "zoho-desk") as (port, process):
        base = f"http://127.0.0.1:{port}/zoho-desk"
        form = {
            "response_type": "code",
            "client_id": "c",
            "redirect_uri": "http://127.0.0.1:9/cb",
            "token": "dev-token",
        }
        redirect = httpx.post(f"{base}/oauth/v2/auth", data=form, timeout=30)
        assert redirect.status_code == 302
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect.headers["location"]).query))["code"]
        exchange = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "c",
            "redirect_uri": form["redirect_uri"],
        }
        # Each on a connection of its own: whichever worker takes it, the code is known, and used only once.
        answers = [httpx.post(f"{base}/oauth/v2/token", data=exchange, timeout=30) for _ in range(4)]
        assert ["access_token" in answer.json() for answer in answers] == [True, False, False, False]
        assert [answer.json().get("error") for answer in answers[1:]] == ["invalid_code"] * 3
        issued = answers[0].json()
        refreshed = [
            httpx.post(
                f"{base}/oauth/v2/token",
                data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"], "client_id": "c"},
                timeout=30,
            )
            for _ in range(4)
        ]
        assert all("access_token" in answer.json() for answer in refreshed)
        for token in [issued["access_token"], *(answer.json()["access_token"] for answer in refreshed)]:
            read = example_read(SpecView.load(DEFAULT_SPEC_DIR / "zoho-desk.yaml"), discover()["zoho-desk"])
            request = get_request(read.path, {**read.headers, "Authorization": f"{read.auth_prefix} {token}"})
            holders = answering_workers(process, port, CONNECTIONS // 2, busy=True, request=request)
            assert set(holders) == workers_listening(process, port)
            assert_nowhere_in_redis(url, token)


def assert_nowhere_in_redis(url: str, token: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(count=1000):
            assert token.encode() not in key
            kind = client.type(key)
            if kind == b"hash":
                assert all(token.encode() not in field + value for field, value in client.hgetall(key).items())
            elif kind == b"list":
                assert all(token.encode() not in item for item in client.lrange(key, 0, -1))
            elif kind == b"string":
                assert token.encode() not in (client.get(key) or b"")
    finally:
        client.close()


def test_killing_a_listening_worker_mid_run_loses_nothing_acknowledged(store_url: str) -> None:
    """tests/vendors/test_elevate_workers.py's proof, with the worker killed one that listens (a supervisor's
    first child is multiprocessing's resource tracker) while the clients run."""
    with proof.mock_process(store_url, workers=2) as (url, process):
        port = int(url.rsplit(":", 1)[1])
        start = proof.current(url)
        tally = proof.Tally()
        clients = [threading.Thread(target=proof.increment, args=([url], 60, tally)) for _ in range(8)]
        for client in clients:
            client.start()
        time.sleep(0.3)
        victim = min(workers_listening(process, port))
        os.kill(victim, signal.SIGKILL)
        killed_mid_run = any(client.is_alive() for client in clients)
        for client in clients:
            client.join(timeout=600)
        final = proof.current(url)
        assert killed_mid_run and tally.acknowledged > 0
        assert start + tally.acknowledged <= final <= start + tally.acknowledged + tally.failed_transport
        assert tally.stale_reads == []
