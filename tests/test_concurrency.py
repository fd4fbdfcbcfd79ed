"""Concurrency: many PATCHes over real HTTP lose nothing, and the store keeps read-modify-write atomic.

Multi-process proofs (several workers and replicas on one Redis) are in tests/vendors/test_elevate_workers.py;
connections spread over workers and tokens shared by them in tests/test_redis_workers.py.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from launcher.servers import serving
from mock_server.state.store import RecordsView

URL = "/widgets/widgets/1"


def test_concurrent_patches_never_lose_an_update(widgets_app):
    headers = {"Authorization": "Bearer dev-token.concurrency"}
    with serving(widgets_app) as base_url, httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        start = client.get(URL).json()["size"]

        def grow(_: int) -> int:
            return client.patch(URL, json={"grow": 1}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(grow, range(300)))
        assert statuses == [200] * 300
        assert client.get(URL).json()["size"] == start + 300


# -- the store is where atomicity lives: a check that catches a store that loses it ----------------

SEEDS = {"shop": {"items": {"1": {"id": 1, "count": 0}}}}
THREADS, INCREMENTS = 8, 25


class YieldingStore:
    """Wraps a store and sleeps between reading a record and writing it back, widening every race.

    `atomic=True` passes the slow change to the store's own `update` (what the handlers do);
    `atomic=False` is the bug this suite must catch: read, change, write as three separate steps.
    """

    def __init__(self, inner, atomic: bool) -> None:
        self._inner = inner
        self._atomic = atomic

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def update(self, tenant, api, collection, key, change):
        def slow(record):
            time.sleep(0.001)
            return change(record)

        if self._atomic:
            return self._inner.update(tenant, api, collection, key, slow)
        updated = slow(self._inner.get(tenant, api, collection, key))
        return self._inner.insert(tenant, api, collection, key, updated)


def lost_updates(store) -> int:
    """Increments one record from several threads at once; returns how many increments vanished."""
    view = RecordsView(store, "t", "shop")

    def increment() -> None:
        for _ in range(INCREMENTS):
            view.update("items", 1, lambda r: {**r, "count": r["count"] + 1})

    threads = [threading.Thread(target=increment) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return THREADS * INCREMENTS - view.get("items", 1)["count"]


def test_the_store_keeps_every_update_even_when_changes_are_slow(make_store):
    assert lost_updates(YieldingStore(make_store(SEEDS), atomic=True)) == 0


def test_the_check_catches_a_store_that_is_not_atomic(make_store):
    assert lost_updates(YieldingStore(make_store(SEEDS), atomic=False)) > 0
