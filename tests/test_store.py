import threading

import pytest

from mock_server.store import InMemoryStore, RecordMissing, RecordsView, clone

SEEDS = {"shop": {"items": {"1": {"id": 1, "tags": ["a"], "price": {"amount": 5}}}}}


def test_clone_is_deep():
    original = {"a": [{"b": 1}]}
    copied = clone(original)
    copied["a"][0]["b"] = 2
    assert original == {"a": [{"b": 1}]}


def test_each_tenant_starts_from_its_own_copy_of_the_seed():
    store = InMemoryStore(SEEDS)
    store.update("t1", "shop", "items", 1, lambda r: {**r, "tags": ["changed"]})
    assert store.get("t1", "shop", "items", "1")["tags"] == ["changed"]
    assert store.get("t2", "shop", "items", "1")["tags"] == ["a"]
    assert SEEDS["shop"]["items"]["1"]["tags"] == ["a"]


def test_readers_get_copies_that_cannot_change_the_store():
    store = InMemoryStore(SEEDS)
    record = store.get("t", "shop", "items", 1)
    record["price"]["amount"] = 999
    assert store.get("t", "shop", "items", 1)["price"]["amount"] == 5


def test_a_failing_update_changes_nothing():
    store = InMemoryStore(SEEDS)

    def half_done(record):
        record["price"]["amount"] = 0
        raise ValueError("rule broken")

    with pytest.raises(ValueError):
        store.update("t", "shop", "items", 1, half_done)
    assert store.get("t", "shop", "items", 1)["price"]["amount"] == 5


def test_update_of_a_missing_record_raises():
    with pytest.raises(RecordMissing):
        InMemoryStore(SEEDS).update("t", "shop", "items", 999999, lambda r: r)


def test_concurrent_read_modify_write_updates_are_all_kept():
    store = InMemoryStore(SEEDS)
    view = RecordsView(store, "t", "shop")

    def increment():
        for _ in range(200):
            view.update("items", 1, lambda r: {**r, "price": {"amount": r["price"]["amount"] + 1}})

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert view.get("items", 1)["price"]["amount"] == 5 + 8 * 200


def test_reset_one_tenant_or_all():
    store = InMemoryStore(SEEDS)
    for tenant in ("t1", "t2"):
        store.update(tenant, "shop", "items", 1, lambda r: {**r, "tags": []})
    store.reset("t1")
    assert store.get("t1", "shop", "items", 1)["tags"] == ["a"]
    assert store.get("t2", "shop", "items", 1)["tags"] == []
    store.reset()
    assert store.get("t2", "shop", "items", 1)["tags"] == ["a"]


def test_snapshot_and_tenants():
    store = InMemoryStore(SEEDS)
    store.insert("t1", "shop", "items", 2, {"id": 2})
    assert store.tenants() == ["t1"]
    assert set(store.snapshot("t1")["shop"]["items"]) == {"1", "2"}
    assert store.snapshot("nobody") == {}
