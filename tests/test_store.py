"""The Store contract, stated once and run against every backend (`make_store`, tests/conftest.py)."""

from __future__ import annotations

import threading
import time

import pytest

from mock_server.state.store import SERVER_WIDE, InMemoryStore, RecordMissing, RecordsView, Transaction, clone

SEEDS = {
    "shop": {
        "items": {"1": {"id": 1, "tags": ["a"], "price": {"amount": 5}}, "7": {"id": 7, "tags": [], "price": {}}},
        "labels": {"x": {"name": "x"}},
    },
    "other": {"items": {"1": {"id": 1}}},
}


class Refused(Exception):
    """What a vendor rule raises (VendorError in the real handlers)."""


@pytest.fixture
def store(make_store):
    return make_store(SEEDS)


def grow(record):
    return {**record, "price": {"amount": record["price"]["amount"] + 1}}


def test_clone_is_deep():
    original = {"a": [{"b": 1}]}
    copied = clone(original)
    copied["a"][0]["b"] = 2
    assert original == {"a": [{"b": 1}]}


# -- records ---------------------------------------------------------------------------------------


def test_each_tenant_starts_from_its_own_copy_of_the_seed(store):
    store.update("t1", "shop", "items", 1, lambda r: {**r, "tags": ["changed"]})
    assert store.get("t1", "shop", "items", "1")["tags"] == ["changed"]
    assert store.get("t2", "shop", "items", "1")["tags"] == ["a"]
    assert store.get("t1", "other", "items", "1") == {"id": 1}
    assert SEEDS["shop"]["items"]["1"]["tags"] == ["a"]


def test_readers_get_copies_that_cannot_change_the_store(store):
    record = store.get("t", "shop", "items", 1)
    record["price"]["amount"] = 999
    store.all("t", "shop", "items")[0]["price"]["amount"] = 999
    assert store.get("t", "shop", "items", 1)["price"]["amount"] == 5


def test_a_failing_update_changes_nothing(store):
    def half_done(record):
        record["price"]["amount"] = 0
        raise ValueError("rule broken")

    with pytest.raises(ValueError):
        store.update("t", "shop", "items", 1, half_done)
    assert store.get("t", "shop", "items", 1)["price"]["amount"] == 5


def test_update_of_a_missing_record_raises(store):
    with pytest.raises(RecordMissing):
        store.update("t", "shop", "items", 999999, lambda r: r)


def test_update_returns_a_copy_of_what_was_stored(store):
    updated = store.update("t", "shop", "items", 1, grow)
    updated["price"]["amount"] = 0
    assert store.get("t", "shop", "items", 1)["price"]["amount"] == 6


@pytest.mark.parametrize("method", ["update", "replace"])
def test_concurrent_read_modify_write_updates_are_all_kept(store, method):
    view = RecordsView(store, "t", "shop")
    change = getattr(view, method)

    def increment():
        for _ in range(100):
            change("items", 1, grow)

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert view.get("items", 1)["price"]["amount"] == 5 + 8 * 100


def test_insert_and_all(store):
    view = RecordsView(store, "t", "shop")
    view.insert("items", 3, {"id": 3})
    assert sorted(r["id"] for r in view.all("items")) == [1, 3, 7]  # the order is not part of the contract
    assert view.exists("items", "3") and not view.exists("items", 4)


def test_any_asks_of_the_tenants_current_records(store):
    view = RecordsView(store, "t", "shop")
    assert view.any("items", lambda r: r["id"] == 7)
    assert not view.any("items", lambda r: r["id"] == 3) and not view.any("missing", lambda r: True)
    view.insert("items", 3, {"id": 3})
    view.delete("items", 7)
    assert view.any("items", lambda r: r["id"] == 3) and not view.any("items", lambda r: r["id"] == 7)
    assert not RecordsView(store, "u", "shop").any("items", lambda r: r["id"] == 3)


def test_summary_copies_the_members_asked_for(store):
    view = RecordsView(store, "t", "shop")
    summary = view.summary("items", 1, ("tags", "missing"))
    assert summary == {"tags": ["a"], "missing": None} and view.summary("items", 2, ("tags",)) is None
    summary["tags"].append("changed")
    assert view.get("items", 1)["tags"] == ["a"]


def test_peek_reads_the_current_records(store):
    view = RecordsView(store, "t", "shop")
    assert view.peek("items", 1) == {"id": 1, "tags": ["a"], "price": {"amount": 5}}
    assert view.peek("items", 2) is None and view.peek("missing", 1) is None
    view.update("items", 1, grow)
    assert view.peek("items", "1")["price"] == {"amount": 6}
    assert sorted(r["id"] for r in view.peek_all("items")) == [1, 7] and view.peek_all("missing") == []
    assert RecordsView(store, "u", "shop").peek("items", 1)["price"] == {"amount": 5}


def test_replace_stores_what_the_change_returns_and_a_failing_one_nothing(store):
    view = RecordsView(store, "t", "shop")
    seen = []

    def grow_read_only(record):
        seen.append(clone(record))
        return {**record, "price": {"amount": record["price"]["amount"] + 1}}

    assert view.replace("items", 1, grow_read_only)["price"] == {"amount": 6}
    assert seen == [{"id": 1, "tags": ["a"], "price": {"amount": 5}}]
    assert view.get("items", 1)["price"] == {"amount": 6}

    def refuse(record):
        raise Refused("rule broken")

    with pytest.raises(Refused):
        view.replace("items", 1, refuse)
    with pytest.raises(RecordMissing):
        view.replace("items", 999, grow_read_only)
    assert view.get("items", 1)["price"] == {"amount": 6} and not view.exists("items", 999)


def test_a_view_reads_what_the_store_holds_after_a_reset_or_an_eviction(make_store):
    store = make_store(SEEDS, max_tenants=1)
    view = RecordsView(store, "t", "shop")
    view.update("items", 1, grow)
    assert view.peek("items", 1)["price"] == {"amount": 6}
    store.reset("t")
    assert view.peek("items", 1)["price"] == {"amount": 5} and view.exists("items", 7)
    view.update("items", 1, grow)
    store.get("other", "shop", "items", 1)  # evicts t
    assert view.get("items", 1)["price"] == {"amount": 5}
    assert [r["price"] for r in view.all("items") if r["id"] == 1] == [{"amount": 5}]


def test_transaction_peek_sees_committed_records_and_its_own_writes(store):
    view = RecordsView(store, "t", "shop")

    def rename(tx: Transaction) -> None:
        assert tx.peek("items", 1)["tags"] == ["a"] and tx.peek("items", 99) is None
        tx.put("items", 1, {"id": 1, "tags": ["b"]}, copy=False)
        assert tx.peek("items", 1) == {"id": 1, "tags": ["b"]}
        tx.delete("items", 7)
        assert tx.peek("items", 7) is None

    view.transaction(rename)
    assert view.get("items", 1) == {"id": 1, "tags": ["b"]} and not view.exists("items", 7)


def test_create_allocates_the_next_id_after_the_highest_ever_present(store):
    view = RecordsView(store, "t", "shop")
    first = view.create("items", lambda new_id: {"id": new_id})
    assert first == {"id": 8}
    view.delete("items", 8)
    assert view.create("items", lambda new_id: {"id": new_id}) == {"id": 9}  # 8 is never reused
    view.insert("items", 20, {"id": 20})
    assert view.create("items", lambda new_id: {"id": new_id})["id"] == 21
    assert view.create("fresh", lambda new_id: {"id": new_id})["id"] == 1
    assert RecordsView(store, "u", "shop").create("items", lambda new_id: {"id": new_id})["id"] == 8


def test_a_failing_create_stores_nothing(store):
    view = RecordsView(store, "t", "shop")

    def refuse(new_id: int) -> dict:
        raise Refused(new_id)

    with pytest.raises(Refused):
        view.create("items", refuse)
    assert [r["id"] for r in view.all("items")] == [1, 7]


def test_concurrent_creates_get_distinct_ids(store):
    view = RecordsView(store, "t", "shop")
    made: list[int] = []

    def make():
        for _ in range(25):
            made.append(view.create("items", lambda new_id: {"id": new_id})["id"])

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(made) == list(range(8, 108))
    assert len(view.all("items")) == 102


def test_delete_returns_the_record_and_refuses_a_missing_one(store):
    view = RecordsView(store, "t", "shop")
    assert view.delete("items", 7)["id"] == 7
    assert view.get("items", 7) is None
    with pytest.raises(RecordMissing):
        view.delete("items", 7)


def test_transaction_sees_its_own_writes_and_commits_them_together(store):
    view = RecordsView(store, "t", "shop")

    def roll_over(tx: Transaction) -> int:
        new_id = tx.next_id("items")
        tx.put("items", new_id, {"id": new_id, "from": 1})
        tx.put("items", 1, {**tx.get("items", 1), "renewedBy": new_id})
        tx.delete("labels", "x")
        assert tx.get("items", new_id) == {"id": new_id, "from": 1}
        assert tx.get("labels", "x") is None and tx.all("labels") == []
        assert [r["id"] for r in tx.all("items")] == [1, 7, new_id]
        return new_id

    new_id = view.transaction(roll_over)
    assert new_id == 8
    assert view.get("items", 1)["renewedBy"] == 8
    assert view.get("items", 8) == {"id": 8, "from": 1}
    assert view.all("labels") == []


def test_a_failing_transaction_commits_nothing(store):
    view = RecordsView(store, "t", "shop")

    def half_done(tx: Transaction) -> None:
        tx.put("items", 1, {"id": 1, "broken": True})
        tx.delete("items", 7)
        tx.next_id("items")
        raise Refused("duplicate")

    with pytest.raises(Refused):
        view.transaction(half_done)
    assert view.get("items", 1)["tags"] == ["a"]
    assert view.exists("items", 7)


def test_concurrent_check_then_insert_transactions_never_duplicate(store):
    """Each thread inserts a label only if no label of that name exists: exactly one must win."""
    view = RecordsView(store, "t", "shop")
    results: list[bool] = []

    def add_once(tx: Transaction) -> bool:
        if any(r["name"] == "unique" for r in tx.all("labels")):
            return False
        time.sleep(0.001)  # widen the window between the check and the write
        tx.put("labels", f"k{threading.get_ident()}", {"name": "unique"})
        return True

    def worker():
        for _ in range(5):
            results.append(view.transaction(add_once))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results.count(True) == 1
    assert [r["name"] for r in view.all("labels")].count("unique") == 1


# -- values, counters, throttles -------------------------------------------------------------------


def test_values_per_tenant_and_server_wide(store):
    assert store.get_value("t1", "faults") is None
    store.set_value("t1", "faults", [{"status": 503}])
    store.set_value(SERVER_WIDE, "faults", {"all": True})
    got = store.get_value("t1", "faults")
    got[0]["status"] = 0
    assert store.get_value("t1", "faults") == [{"status": 503}]
    assert store.get_value("t2", "faults") is None
    assert store.get_value(SERVER_WIDE, "faults") == {"all": True}
    store.set_value("t1", "faults", None)
    assert store.get_value("t1", "faults") is None


def test_counters_add_atomically_and_expire(store):
    assert store.add("t", "inflight", 1) == 1
    assert store.add("t", "inflight", 1) == 2
    assert store.add("t", "inflight", -1) == 1
    assert store.add("u", "inflight", 1) == 1
    assert store.add("t", "credits", 5, ttl_seconds=0.3) == 5
    assert store.add("t", "credits", 1, ttl_seconds=0.3) == 6
    time.sleep(0.5)
    assert store.add("t", "credits", 1, ttl_seconds=0.3) == 1

    def bump():
        for _ in range(100):
            store.add("t", "shared", 1)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert store.add("t", "shared", 0) == 400


def test_throttle_is_a_sliding_window(store):
    now = 1000.0
    assert store.throttle("t", "rpm", now, 60, 2) is None
    assert store.throttle("t", "rpm", now + 10, 60, 2) is None
    assert store.throttle("t", "rpm", now + 20, 60, 2) == pytest.approx(40)
    assert store.throttle("u", "rpm", now + 20, 60, 2) is None  # another tenant has its own window
    assert store.throttle("t", "rpm", now + 60.5, 60, 2) is None  # the first hit left the window
    assert store.throttle("t", "rpm", now + 61, 60, 2) == pytest.approx(9)


# -- journal ---------------------------------------------------------------------------------------


def test_journal_keeps_the_newest_and_filters_by_tenant(store):
    for n in range(5):
        store.journal_append({"n": n, "tenant": "t" if n % 2 else "u"}, cap=4)
    assert [e["n"] for e in store.journal(10)] == [4, 3, 2, 1]
    assert [e["n"] for e in store.journal(1)] == [4]
    assert [e["n"] for e in store.journal(10, tenant="t")] == [3, 1]
    store.journal_clear()
    assert store.journal(10) == []


# -- tenants ---------------------------------------------------------------------------------------


def test_reset_one_tenant_or_all(store):
    for tenant in ("t1", "t2"):
        store.update(tenant, "shop", "items", 1, lambda r: {**r, "tags": []})
        store.set_value(tenant, "clock", {"offset": 1})
        store.add(tenant, "calls", 3)
    store.set_value(SERVER_WIDE, "clock", {"offset": 2})
    store.reset("t1")
    assert store.get("t1", "shop", "items", 1)["tags"] == ["a"]
    assert store.get_value("t1", "clock") is None and store.add("t1", "calls", 0) == 0
    assert store.get("t2", "shop", "items", 1)["tags"] == []
    assert store.get_value("t2", "clock") == {"offset": 1} and store.add("t2", "calls", 0) == 3
    store.reset()
    assert store.get("t2", "shop", "items", 1)["tags"] == ["a"]
    assert store.get_value("t2", "clock") is None and store.get_value(SERVER_WIDE, "clock") is None


def test_a_server_wide_reset_leaves_every_tenant_as_it_was(store):
    store.set_value("t1", "clock", {"offset": 1})
    store.add("t1", "calls", 3)
    store.set_value(SERVER_WIDE, "clock", {"offset": 2})
    store.add(SERVER_WIDE, "calls", 5)
    store.reset(SERVER_WIDE)
    assert store.get_value(SERVER_WIDE, "clock") is None and store.add(SERVER_WIDE, "calls", 0) == 0
    assert store.get_value("t1", "clock") == {"offset": 1} and store.add("t1", "calls", 0) == 3


def test_snapshot_and_tenants(store):
    store.insert("t1", "shop", "items", 2, {"id": 2})
    assert store.tenants() == ["t1"]
    assert set(store.snapshot("t1")["shop"]["items"]) == {"1", "2", "7"}
    assert store.snapshot("nobody") == {}
    assert store.tenants() == ["t1"]


def test_least_recently_used_tenant_is_evicted_and_starts_again_from_the_seed(make_store):
    store = make_store(SEEDS, max_tenants=2)
    store.update("t1", "shop", "items", 1, grow)
    store.update("t2", "shop", "items", 1, grow)
    store.get("t1", "shop", "items", 1)  # t1 is now used more recently than t2
    store.get("t3", "shop", "items", 1)
    assert store.tenants() == ["t1", "t3"]
    assert store.evicted("t2") and not store.evicted("t1")
    assert store.get("t1", "shop", "items", 1)["price"]["amount"] == 6
    assert store.get("t2", "shop", "items", 1)["price"]["amount"] == 5  # back, from the seed; t3 goes
    assert store.tenants() == ["t1", "t2"]
    store.reset("t2")
    assert not store.evicted("t2")


def test_idle_tenants_are_evicted(make_store):
    store = make_store(SEEDS, tenant_idle_ttl=1.0)
    store.update("idle", "shop", "items", 1, grow)
    store.set_value("idle", "faults", [1])
    time.sleep(1.3)
    store.get("busy", "shop", "items", 1)
    assert "idle" not in store.tenants()
    assert store.evicted("idle")
    assert store.get_value("idle", "faults") is None
    assert store.get("idle", "shop", "items", 1)["price"]["amount"] == 5


def test_in_memory_store_refuses_no_room():
    with pytest.raises(ValueError):
        InMemoryStore(SEEDS, max_tenants=0)
