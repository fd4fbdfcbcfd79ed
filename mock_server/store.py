"""State of the mock: every tenant's copy of every vendor's records.

`Store` is the interface the rest of the mock uses, so that a shared backend (for several uvicorn
workers) can be added later; `InMemoryStore` is the one backend there is today.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

Record = dict[str, Any]
Collections = dict[str, dict[str, Record]]
Seeds = Mapping[str, Mapping[str, Mapping[str, Record]]]  # api -> collection -> key -> record


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (several times faster than `copy.deepcopy`)."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


class Store(Protocol):
    def get(self, tenant: str, api: str, collection: str, key: object) -> Record | None: ...

    def all(self, tenant: str, api: str, collection: str) -> list[Record]: ...

    def update(
        self, tenant: str, api: str, collection: str, key: object, change: Callable[[Record], Record]
    ) -> Record: ...

    def insert(self, tenant: str, api: str, collection: str, key: object, record: Record) -> Record: ...

    def reset(self, tenant: str | None = None) -> None: ...

    def snapshot(self, tenant: str) -> dict[str, Collections]: ...

    def tenants(self) -> list[str]: ...


class RecordMissing(KeyError):
    """`update` was asked for a record that does not exist."""


class InMemoryStore:
    """Records in dicts. Each tenant gets a copy of the seed on first use.

    Records are never mutated in place: readers get copies, and `update` swaps in a new record
    while holding that record's lock, so concurrent updates to one record are serialised and none is lost.
    """

    def __init__(self, seeds: Seeds) -> None:
        self._seeds = {api: {c: dict(rows) for c, rows in colls.items()} for api, colls in seeds.items()}
        self._data: dict[tuple[str, str], Collections] = {}
        self._locks: dict[tuple[str, str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _collections(self, tenant: str, api: str) -> Collections:
        data = self._data.get((tenant, api))
        if data is None:
            with self._guard:
                data = self._data.get((tenant, api))
                if data is None:
                    seed = self._seeds.get(api, {})
                    data = {name: {k: clone(r) for k, r in rows.items()} for name, rows in seed.items()}
                    self._data[(tenant, api)] = data
        return data

    def _rows(self, tenant: str, api: str, collection: str) -> dict[str, Record]:
        return self._collections(tenant, api).setdefault(collection, {})

    def _lock(self, tenant: str, api: str, collection: str, key: str) -> threading.Lock:
        ident = (tenant, api, collection, key)
        lock = self._locks.get(ident)
        if lock is None:
            with self._guard:
                lock = self._locks.setdefault(ident, threading.Lock())
        return lock

    def get(self, tenant: str, api: str, collection: str, key: object) -> Record | None:
        record = self._rows(tenant, api, collection).get(str(key))
        return None if record is None else clone(record)

    def all(self, tenant: str, api: str, collection: str) -> list[Record]:
        return [clone(r) for r in list(self._rows(tenant, api, collection).values())]

    def update(self, tenant: str, api: str, collection: str, key: object, change: Callable[[Record], Record]) -> Record:
        rows = self._rows(tenant, api, collection)
        with self._lock(tenant, api, collection, str(key)):
            current = rows.get(str(key))
            if current is None:
                raise RecordMissing(key)
            updated = change(clone(current))
            rows[str(key)] = updated
            return clone(updated)

    def insert(self, tenant: str, api: str, collection: str, key: object, record: Record) -> Record:
        rows = self._rows(tenant, api, collection)
        with self._lock(tenant, api, collection, str(key)):
            rows[str(key)] = clone(record)
        return clone(record)

    def reset(self, tenant: str | None = None) -> None:
        with self._guard:
            if tenant is None:
                self._data.clear()
                self._locks.clear()
            else:
                for ident in [i for i in self._data if i[0] == tenant]:
                    del self._data[ident]

    def snapshot(self, tenant: str) -> dict[str, Collections]:
        return {
            api: {name: {k: clone(r) for k, r in rows.items()} for name, rows in colls.items()}
            for (owner, api), colls in list(self._data.items())
            if owner == tenant
        }

    def tenants(self) -> list[str]:
        return sorted({tenant for tenant, _ in self._data})


class RecordsView:
    """One tenant's records of one API: what a vendor handler sees as `ctx.records`."""

    def __init__(self, store: Store, tenant: str, api: str) -> None:
        self._store = store
        self._tenant = tenant
        self._api = api

    def get(self, collection: str, key: object) -> Record | None:
        return self._store.get(self._tenant, self._api, collection, key)

    def exists(self, collection: str, key: object) -> bool:
        return self.get(collection, key) is not None

    def all(self, collection: str) -> list[Record]:
        return self._store.all(self._tenant, self._api, collection)

    def update(self, collection: str, key: object, change: Callable[[Record], Record]) -> Record:
        return self._store.update(self._tenant, self._api, collection, key, change)

    def insert(self, collection: str, key: object, record: Record) -> Record:
        return self._store.insert(self._tenant, self._api, collection, key, record)
