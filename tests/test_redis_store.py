"""What only several processes can show: one seed copy and no lost update when workers race on Redis."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
import redis

from mock_server.state.redis_store import RedisStore

SEEDS = {"api": {"items": {"1": {"id": 1, "count": 0}}}}
PROCESSES, UPDATES = 4, 40


def _race(url: str, prefix: str, strategy: str, start: multiprocessing.synchronize.Event) -> None:
    store = RedisStore(redis.Redis.from_url(url), SEEDS, prefix=prefix, update_strategy=strategy)  # type: ignore[arg-type]
    start.wait(timeout=30)
    for _ in range(UPDATES):  # the first one of each process races for the tenant's seed copy
        store.update("fresh", "api", "items", 1, lambda r: {**r, "count": r["count"] + 1})


@pytest.mark.parametrize("strategy", ["lua", "watch"])
def test_processes_racing_on_a_new_tenant_make_one_seed_copy_and_lose_nothing(redis_url: str, strategy: str) -> None:
    prefix = f"race-{uuid.uuid4().hex[:8]}:"
    context = multiprocessing.get_context("fork")  # no re-import: the children only talk to Redis
    start = context.Event()
    workers = [context.Process(target=_race, args=(redis_url, prefix, strategy, start)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    store = RedisStore(redis.Redis.from_url(redis_url), SEEDS, prefix=prefix)
    assert store.get("fresh", "api", "items", 1) == {"id": 1, "count": PROCESSES * UPDATES}
    assert store.tenants() == ["fresh"]
