"""Proof that several processes on one Redis store are one mock: nothing lost, every write seen.

Real `contract-mock serve` processes: two uvicorn workers behind one port, and two replicas on two
ports. Concurrent clients increment `noticePeriodDays` of one contract with a JSON Patch
`test`+`replace` pair (a compare-and-set: the server applies it only if the value is still the one
the client read), so a lost update would show as two 2xx answers for one step. The final value must
be the seed's plus the number of 2xx answers, and a GET after a 2xx must see at least that value.

Default sizes keep the run short; CONTRACT_MOCK_PROOF=full runs 32 clients × 500 PATCHes
(CONTRACT_MOCK_PROOF=32x50 any other size).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import httpx
import psutil
import pytest
import redis

from launcher.servers import free_port, stop_process


def _sizes(setting: str) -> tuple[int, int]:
    """CONTRACT_MOCK_PROOF: unset (8 clients × 12 PATCHes), "full" (32 × 500) or "CLIENTSxPATCHES"."""
    if setting == "full":
        return 32, 500
    if setting:
        clients, _, patches = setting.partition("x")
        return int(clients), int(patches)
    return 8, 12


CLIENTS, PATCHES = _sizes(os.environ.get("CONTRACT_MOCK_PROOF", ""))
CONTRACT = "/elevate/customer-contracts/1"
FIELD = "noticePeriodDays"
TOKEN = "dev-token.workers-proof"


@contextmanager
def mock_process(store_url: str, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    command = [
        sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port), "--api", "elevate",
        "--store", store_url, "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        yield url, process
    finally:
        stop_process(process)


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"contract-mock exited with {process.returncode}")
        try:
            if httpx.get(url + CONTRACT, headers=_auth(), timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("contract-mock did not start")


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def store_url(redis_url: str) -> str:
    """A database of the session's Redis for this test alone (the servers use the default key prefix)."""
    url = redis_url[: redis_url.rindex("/")] + "/5"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@dataclass
class Tally:
    acknowledged: int = 0
    failed_transport: int = 0
    stale_reads: list[tuple[int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def increment(urls: list[str], patches: int, tally: Tally) -> None:
    """One client: read, compare-and-set +1, read again, each request to the next URL in turn."""
    turn = 0

    def next_url() -> str:
        nonlocal turn
        turn += 1
        return urls[turn % len(urls)]

    with httpx.Client(headers=_auth(), timeout=30) as client:
        for _ in range(patches):
            try:
                seen = client.get(next_url() + CONTRACT).json()[FIELD]
                step = [
                    {"op": "test", "path": f"/{FIELD}", "value": seen},
                    {"op": "replace", "path": f"/{FIELD}", "value": seen + 1},
                ]
                answer = client.patch(
                    next_url() + CONTRACT, json=step, headers={"Content-Type": "application/json-patch+json"}
                )
                if not answer.is_success:
                    continue
                with tally.lock:
                    tally.acknowledged += 1
                after = client.get(next_url() + CONTRACT).json()[FIELD]
                if after < seen + 1:
                    with tally.lock:
                        tally.stale_reads.append((seen + 1, after))
            except httpx.TransportError:
                with tally.lock:
                    tally.failed_transport += 1


def run_clients(urls: list[str], during: threading.Event | None = None) -> Tally:
    tally = Tally()
    threads = [threading.Thread(target=increment, args=(urls, PATCHES, tally)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    if during is not None:
        during.set()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads)
    print(
        f"{CLIENTS} clients x {PATCHES}: {tally.acknowledged} acknowledged, {tally.failed_transport} transport errors"
    )
    return tally


def current(url: str) -> int:
    value: int = httpx.get(url + CONTRACT, headers=_auth(), timeout=10).json()[FIELD]
    return value


def workers_of(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The server's worker processes (not multiprocessing's resource tracker, also a child)."""
    children = psutil.Process(process.pid).children()
    return [child for child in children if "resource_tracker" not in " ".join(child.cmdline())]


def test_two_workers_behind_one_port_lose_nothing(store_url: str) -> None:
    with mock_process(store_url, workers=2) as (url, process):
        start = current(url)
        assert len(workers_of(process)) == 2  # really two worker processes
        tally = run_clients([url])
        assert tally.acknowledged > 0 and tally.failed_transport == 0
        assert tally.stale_reads == []
        assert current(url) == start + tally.acknowledged


def test_two_replicas_on_one_redis_are_one_mock(store_url: str) -> None:
    with ExitStack() as stack:
        urls = [stack.enter_context(mock_process(store_url))[0] for _ in range(2)]
        start = current(urls[0])
        tally = run_clients(urls)
        assert tally.acknowledged > 0 and tally.failed_transport == 0
        assert tally.stale_reads == []  # a GET on one replica sees a PATCH acknowledged by the other
        assert current(urls[0]) == current(urls[1]) == start + tally.acknowledged


def test_killing_a_worker_mid_run_loses_nothing_acknowledged(store_url: str) -> None:
    with mock_process(store_url, workers=2) as (url, process):
        start = current(url)
        started = threading.Event()

        def kill_one_worker() -> None:
            started.wait(timeout=30)
            time.sleep(0.5)
            os.kill(workers_of(process)[0].pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        tally = run_clients([url], during=started)
        killer.join(timeout=30)
        final = current(url)
        # Every acknowledged PATCH is there; a PATCH whose answer was lost with the worker may be too.
        assert start + tally.acknowledged <= final <= start + tally.acknowledged + tally.failed_transport
        assert tally.stale_reads == []
