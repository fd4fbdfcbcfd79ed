"""The Redis store on a real 3-master Redis Cluster (tests/support/redis_cluster.py): `--store redis-cluster://…`.

The Store contract's concurrency and tenancy tests and the proof runs of tests/vendors/test_elevate_workers.py
(two workers, two replicas, a worker killed mid-run) run here unchanged, on the cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.state.redis_store import RedisStore
from tests.support.redis_cluster import redis_cluster
from tests.test_store import (  # noqa: F401 (collected here: run on the cluster)
    test_a_failing_transaction_commits_nothing,
    test_concurrent_check_then_insert_transactions_never_duplicate,
    test_concurrent_creates_get_distinct_ids,
    test_concurrent_read_modify_write_updates_are_all_kept,
    test_counters_add_atomically_and_expire,
    test_delete_returns_the_record_and_refuses_a_missing_one,
    test_each_tenant_starts_from_its_own_copy_of_the_seed,
    test_journal_keeps_the_newest_and_filters_by_tenant,
    test_reset_one_tenant_or_all,
    test_snapshot_and_tenants,
    test_throttle_is_a_sliding_window,
    test_transaction_sees_its_own_writes_and_commits_them_together,
    test_values_per_tenant_and_server_wide,
)
from tests.vendors.test_elevate_workers import (  # noqa: F401 (collected here: run on the cluster)
    test_killing_a_worker_mid_run_loses_nothing_acknowledged,
    test_two_replicas_on_one_redis_are_one_mock,
    test_two_workers_behind_one_port_lose_nothing,
)


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    with redis_cluster() as url:
        yield url


def cluster_client(url: str) -> redis.RedisCluster:
    return redis.RedisCluster.from_url(url.replace("redis-cluster://", "redis://"))


@pytest.fixture
def make_store(cluster_url: str):
    """Stores on the cluster, each test under a key prefix of its own."""
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    return lambda seeds, **bounds: RedisStore.from_url(cluster_url, seeds, prefix=prefix, **bounds)


@pytest.fixture
def store(make_store):
    from tests.test_store import SEEDS

    return make_store(SEEDS)


@pytest.fixture
def store_url(cluster_url: str) -> str:
    """The proof runs' store: the whole cluster, emptied (they use the default key prefix)."""
    client = cluster_client(cluster_url)
    client.flushall()
    client.close()
    return cluster_url


def test_every_key_of_a_tenant_is_in_the_slot_of_its_hash_tag(cluster_url: str) -> None:
    prefix = f"slots-{uuid.uuid4().hex[:8]}:"
    store = RedisStore.from_url(cluster_url, {"api": {"items": {"1": {"id": 1}}}}, prefix=prefix)
    for tenant in ("alpha", "beta", "gamma"):
        store.update(tenant, "api", "items", 1, lambda record: {**record, "seen": True})
        store.set_value(tenant, "clock", {"offsetSeconds": 1})
        store.add(tenant, "calls", 1)
        store.throttle(tenant, "rate", 1.0, 60, 10)
    client = cluster_client(cluster_url)
    keys = [key.decode() for key in client.scan_iter(match=f"{prefix}t:*")]
    for tenant in ("alpha", "beta", "gamma"):
        own = [key for key in keys if "{" + tenant + "}" in key]
        assert len(own) >= 6, keys  # seed marker, highest ids, records, value, counter, throttle, registry
        assert {client.keyslot(key) for key in own} == {client.keyslot("{" + tenant + "}")}
    assert len(keys) == sum(1 for key in keys for tenant in ("alpha", "beta", "gamma") if "{" + tenant + "}" in key)
    assert sorted(store.tenants()) == ["alpha", "beta", "gamma"]
    client.close()


def test_the_mock_serves_from_the_cluster_and_a_second_app_sees_its_writes(cluster_url: str) -> None:
    settings = Settings(store_url=cluster_url, apis=("elevate",))
    token = {"Authorization": f"Bearer dev-token.{uuid.uuid4().hex[:8]}"}
    patch = [{"op": "replace", "path": "/name", "value": "On the cluster"}]
    with create_app(settings).test_client() as first, create_app(settings).test_client() as second:
        answered = first.patch(
            "/elevate/customer-contracts/1",
            json=patch,
            headers={**token, "Content-Type": "application/json-patch+json"},
        )
        assert answered.status_code == 200, answered.text
        assert second.get("/elevate/customer-contracts/1", headers=token).json()["name"] == "On the cluster"


def test_an_unreachable_cluster_is_a_clear_start_up_error() -> None:
    from mock_server.state.backends import store_from_settings
    from mock_server.state.store import StoreUnavailable

    with pytest.raises(StoreUnavailable, match=r"cannot reach the Redis Cluster at 127\.0\.0\.1:1\b"):
        store_from_settings(Settings(store_url="redis-cluster://127.0.0.1:1"), {})
