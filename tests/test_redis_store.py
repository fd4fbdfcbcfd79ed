"""What only several processes can show: one seed copy and no lost update when workers race on Redis."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
import redis

from mock_server.state.redis_store import RedisStore
from mock_server.state.store import request_scope

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


def _two_processes(redis_url: str, prefix: str) -> tuple[RedisStore, RedisStore]:
    """Two stores on one Redis: what two workers see (each keeps its own cache of what it read)."""
    return (
        RedisStore(redis.Redis.from_url(redis_url), SEEDS, prefix=prefix),
        RedisStore(redis.Redis.from_url(redis_url), SEEDS, prefix=prefix),
    )


def _read(store: RedisStore, key: int = 1) -> object:
    with request_scope("api"):  # one request, as the app opens it
        return store.get("t", "api", "items", key)


def test_a_process_reads_what_another_process_wrote_after_its_own_last_read(redis_url: str) -> None:
    first, second = _two_processes(redis_url, f"cache-{uuid.uuid4().hex[:8]}:")
    assert _read(first) == {"id": 1, "count": 0}  # `first` keeps these records
    second.update("t", "api", "items", 1, lambda r: {**r, "count": 5})
    assert _read(first) == {"id": 1, "count": 5}
    second.create("t", "api", "items", lambda new_id: {"id": new_id, "count": 9})
    with request_scope("api"):
        assert [r["count"] for r in first.all("t", "api", "items")] == [5, 9]
    first.update("t", "api", "items", 1, lambda r: {**r, "count": r["count"] + 1})  # its own write, then another's
    second.update("t", "api", "items", 2, lambda r: {**r, "count": 10})
    with request_scope("api"):
        assert [r["count"] for r in first.all("t", "api", "items")] == [6, 10]


def test_a_tenant_reset_and_written_again_is_never_taken_for_the_copy_a_process_read_before(redis_url: str) -> None:
    first, second = _two_processes(redis_url, f"cache-{uuid.uuid4().hex[:8]}:")
    first.update("t", "api", "items", 1, lambda r: {**r, "count": 1})  # `first` keeps the copy after one write
    second.reset("t")  # a new seed copy follows; then as many writes as `first` saw, with another value
    second.update("t", "api", "items", 1, lambda r: {**r, "count": 2})
    assert _read(first) == {"id": 1, "count": 2}


def _add_in_child(store: RedisStore, times: int) -> None:
    for _ in range(times):
        store.update("forked", "api", "items", 1, lambda r: {**r, "count": r["count"] + 1})


def test_a_store_used_before_a_fork_keeps_working_in_parent_and_child(redis_url: str) -> None:
    store = RedisStore(redis.Redis.from_url(redis_url), SEEDS, prefix=f"fork-{uuid.uuid4().hex[:8]}:")
    _add_in_child(store, 1)  # the parent's connection for scripts is open before the fork
    child = multiprocessing.get_context("fork").Process(target=_add_in_child, args=(store, UPDATES))
    child.start()
    _add_in_child(store, UPDATES)  # at the same time: a shared socket would mix the two processes' replies
    child.join(timeout=120)
    assert child.exitcode == 0
    assert store.get("forked", "api", "items", 1) == {"id": 1, "count": 1 + 2 * UPDATES}


def test_issued_tokens_are_kept_by_digest_bounded_and_survive_a_reset(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store, other = (RedisStore(client, SEEDS, prefix=redis_prefix) for _ in range(2))  # two processes' stores
    kept, seen_elsewhere = store.issued_tokens("api:access", 3), other.issued_tokens("api:access", 3)
    for n in range(5):
        kept.put(f"digest-{n}", f"entry-{n}")
    assert [seen_elsewhere.get(f"digest-{n}") for n in range(5)] == [None, None, "entry-2", "entry-3", "entry-4"]
    assert (
        len(client.keys(f"{redis_prefix}issued:*")) == 2 and client.llen(f"{redis_prefix}issued:{{api:access}}:o") == 3
    )
    store.reset()
    assert seen_elsewhere.take("digest-4") == "entry-4"
    assert kept.take("digest-4") is None and kept.get("digest-4") is None  # taken once
    client.close()


def test_the_kept_connection_is_opened_again_after_the_server_drops_it(redis_url: str) -> None:
    """The store keeps one connection for its scripts; Redis closing it (a restart, a timeout, CLIENT
    KILL) costs the next call a reconnection, not an error."""
    store = RedisStore.from_url(redis_url, SEEDS, prefix=f"kill-{uuid.uuid4().hex[:8]}:")
    assert _read(store) == {"id": 1, "count": 0}
    admin = redis.Redis.from_url(redis_url)
    assert admin.client_kill_filter(skipme=True) >= 1  # every other client of the server, the store's among them
    store.update("t", "api", "items", 1, lambda r: {**r, "count": 1})
    assert _read(store) == {"id": 1, "count": 1}


def test_scripts_the_server_forgot_are_loaded_again(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, SEEDS, prefix=f"flush-{uuid.uuid4().hex[:8]}:")
    assert _read(store) == {"id": 1, "count": 0}
    redis.Redis.from_url(redis_url).script_flush()  # as a restarted server, or another node, would
    store.update("t", "api", "items", 1, lambda r: {**r, "count": 2})
    assert _read(store) == {"id": 1, "count": 2}


@pytest.mark.parametrize("changed", [True, 1.0, "1"], ids=["bool", "float", "text"])
def test_a_value_that_changes_only_its_type_is_written(redis_url: str, changed: object) -> None:
    """Python calls `1 == True == 1.0`; JSON does not: such an update is a change, and another process reads it."""
    first, second = _two_processes(redis_url, f"type-{uuid.uuid4().hex[:8]}:")
    first.update("t", "api", "items", 1, lambda r: {**r, "count": 1})
    assert first.update("t", "api", "items", 1, lambda r: {**r, "count": changed})["count"] == changed
    read = _read(second)
    assert isinstance(read, dict) and read["count"] == changed and type(read["count"]) is type(changed)
