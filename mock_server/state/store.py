"""State of the mock: every tenant's records, values, counters and throttles, and the request journal.

`Store` is the interface the rest of the mock uses; `InMemoryStore` (one process) and `RedisStore`
(`mock_server.state.redis_store`, several workers or replicas) implement it with the same guarantees
(`mock_server.state.backends` picks one), which
`tests/test_store.py` states once for both. The store is the only place atomicity lives: vendor
modules never lock anything themselves (docs/ARCHITECTURE.md, "Concurrency").
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

Record = dict[str, Any]
Collections = dict[str, dict[str, Record]]
Seeds = Mapping[str, Mapping[str, Mapping[str, Record]]]  # api -> collection -> key -> record
T = TypeVar("T")

SERVER_WIDE = "*"  # the `tenant` of values that hold for every tenant
DEFAULT_MAX_TENANTS = 10_000
DEFAULT_TENANT_IDLE_TTL = 86_400.0


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (several times faster than `copy.deepcopy`)."""
    if isinstance(value, dict):
        return clone_record(value)
    if isinstance(value, list):
        return [clone(item) if isinstance(item, _CONTAINERS) else item for item in value]
    return value


def clone_record(record: Record) -> Record:
    # Scalars, most members of a record, are taken as they are without a call.
    return {key: clone(item) if isinstance(item, _CONTAINERS) else item for key, item in record.items()}


_CONTAINERS = (dict, list)


def numeric_id(key: str) -> int | None:
    """The integer a record key stands for, if it is one (ids allocated by `create` are)."""
    return int(key) if key.isdigit() else None


def highest_id(keys: Any) -> int:
    return max((n for n in map(numeric_id, keys) if n is not None), default=0)


class RecordMissing(KeyError):
    """`update` or `delete` was asked for a record that does not exist."""


class TransactionSource(Protocol):
    """What a `Transaction` reads through: one tenant's committed data of one API."""

    def read(self, collection: str, key: str) -> Record | None:
        """A copy of the record, the reader's own."""
        ...

    def peek(self, collection: str, key: str) -> Mapping[str, Any] | None:
        """The source's own record, to read and never to change."""
        ...

    def read_all(self, collection: str) -> dict[str, Record]:
        """The source's own records, to read and never to change."""
        ...

    def highest_id(self, collection: str) -> int: ...


_DELETED: Record = {}


class Transaction:
    """Reads see committed data plus this transaction's own writes; writes are kept until commit.

    The backend applies `writes` and `highest` atomically after the function returns, so a function
    that raises leaves nothing behind.
    """

    def __init__(self, source: TransactionSource) -> None:
        self._source = source
        self.writes: dict[tuple[str, str], Record] = {}  # _DELETED marks a deletion
        self.highest: dict[str, int] = {}  # collection -> highest id allocated or written here

    def get(self, collection: str, key: object) -> Record | None:
        ident = (collection, str(key))
        if ident in self.writes:
            written = self.writes[ident]
            return None if written is _DELETED else clone(written)
        return self._source.read(collection, str(key))

    def peek(self, collection: str, key: object) -> Mapping[str, Any] | None:
        """`get` without a copy, where the backend can: the record must not be changed."""
        ident = (collection, str(key))
        if ident in self.writes:
            written = self.writes[ident]
            return None if written is _DELETED else written
        return self._source.peek(collection, str(key))

    def all(self, collection: str) -> list[Record]:
        rows = dict(self._source.read_all(collection))
        for (name, key), record in self.writes.items():
            if name != collection:
                continue
            if record is _DELETED:
                rows.pop(key, None)
            else:
                rows[key] = record
        return [clone(r) for r in rows.values()]

    def put(self, collection: str, key: object, record: Record, *, copy: bool = True) -> None:
        """Writes `record` on commit; `copy=False` hands it over: the caller must not change it afterwards."""
        self.writes[(collection, str(key))] = clone(record) if copy else record
        number = numeric_id(str(key))
        if number is not None and number > self._highest(collection):
            self.highest[collection] = number

    def delete(self, collection: str, key: object) -> None:
        self.writes[(collection, str(key))] = _DELETED

    def next_id(self, collection: str) -> int:
        new_id = self._highest(collection) + 1
        self.highest[collection] = new_id
        return new_id

    def _highest(self, collection: str) -> int:
        if collection not in self.highest:
            self.highest[collection] = self._source.highest_id(collection)
        return self.highest[collection]

    def deleted(self, ident: tuple[str, str]) -> bool:
        return self.writes[ident] is _DELETED


class RecordStore(Protocol):
    """Records of one tenant and one API."""

    def get(self, tenant: str, api: str, collection: str, key: object) -> Record | None: ...

    def all(self, tenant: str, api: str, collection: str) -> list[Record]: ...

    def peek(self, tenant: str, api: str, collection: str, key: object) -> Mapping[str, Any] | None:
        """`get` without a copy: the store's own record, to read and never to change."""
        ...

    def peek_all(self, tenant: str, api: str, collection: str) -> list[Mapping[str, Any]]:
        """`all` without copies (see `peek`)."""
        ...

    def update(
        self, tenant: str, api: str, collection: str, key: object, change: Callable[[Record], Record]
    ) -> Record: ...

    def replace(
        self, tenant: str, api: str, collection: str, key: object, change: Callable[[Mapping[str, Any]], Record]
    ) -> Mapping[str, Any]:
        """`update` without copies: `change` reads the stored record without changing it and returns a new
        one, which is stored as it is and returned (the caller must not change it afterwards)."""
        ...

    def insert(self, tenant: str, api: str, collection: str, key: object, record: Record) -> Record: ...

    def create(self, tenant: str, api: str, collection: str, build: Callable[[int], Record]) -> Record: ...

    def delete(self, tenant: str, api: str, collection: str, key: object) -> Record: ...

    def transaction(self, tenant: str, api: str, fn: Callable[[Transaction], T]) -> T: ...


class ValueStore(Protocol):
    """Values, counters, throttles (tenant = a fingerprint or SERVER_WIDE)."""

    def get_value(self, tenant: str, name: str) -> Any | None: ...

    def set_value(self, tenant: str, name: str, value: Any | None) -> None: ...

    def add(self, tenant: str, name: str, delta: int, ttl_seconds: float | None = None) -> int: ...

    def throttle(self, tenant: str, name: str, now: float, window_seconds: float, limit: int) -> float | None: ...


class JournalStore(Protocol):
    """The request journal, shared by every worker."""

    def journal_append(self, entry: dict[str, Any], cap: int) -> None: ...

    def journal(self, limit: int, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def journal_clear(self) -> None: ...


class Tenancy(Protocol):
    """Tenants as a whole: reset, inspect, list, and whether one was evicted."""

    def reset(self, tenant: str | None = None) -> None: ...

    def snapshot(self, tenant: str) -> dict[str, Collections]: ...

    def tenants(self) -> list[str]: ...

    def evicted(self, tenant: str) -> bool: ...


class Store(RecordStore, ValueStore, JournalStore, Tenancy, Protocol):
    """Everything the mock keeps; callers that need one job can ask for its small protocol."""


class RequestScope:
    """What one request has read from a shared store, kept until the request ends.

    A store that talks to a server (Redis) reads everything a request needs in one round trip on the
    first call and answers the request's further reads from here; its own writes update it. Nothing
    outlives the request, so the next request reads again (no stale read across requests).
    `api` is the API the request is for, when known: the first read can then bring its records too.
    """

    def __init__(self, api: str | None = None) -> None:
        self.api = api
        self.entries: dict[object, Any] = {}  # per store: what that store kept


_REQUEST_SCOPE: ContextVar[RequestScope | None] = ContextVar("contract_mock_request_scope", default=None)


@contextmanager
def request_scope(api: str | None = None) -> Iterator[RequestScope]:
    """Reads made inside are kept for the rest of the block (one request; see `RequestScope`)."""
    scope = RequestScope(api)
    token = _REQUEST_SCOPE.set(scope)
    try:
        yield scope
    finally:
        _REQUEST_SCOPE.reset(token)


current_scope: Callable[[], RequestScope | None] = _REQUEST_SCOPE.get  # the request's scope (no Python frame)


def throttle_hits(hits: list[float], now: float, window_seconds: float, limit: int) -> tuple[list[float], float | None]:
    """DRF's sliding window over `hits` (oldest first): the hits kept, and the wait (None = allowed)."""
    kept = [hit for hit in hits if hit > now - window_seconds]
    if len(kept) < limit:
        kept.append(now)
        return kept, None
    return kept, max(kept[0] + window_seconds - now, 1e-6)


@dataclass
class _Counter:
    value: int
    expires_at: float | None  # time.time() based


@dataclass
class _TenantState:
    """Everything one tenant holds; dropped whole by reset or eviction."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    apis: dict[str, Collections] = field(default_factory=dict)
    highest: dict[tuple[str, str], int] = field(default_factory=dict)  # (api, collection) -> id high-water
    values: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, _Counter] = field(default_factory=dict)
    hits: dict[str, list[float]] = field(default_factory=dict)
    used: float = 0.0  # time.monotonic() of the last use


class _TenantSource:
    def __init__(self, data: Collections, highest: Callable[[str], int]) -> None:
        self._data = data
        self._highest = highest

    def read(self, collection: str, key: str) -> Record | None:
        record = self._data.get(collection, {}).get(key)
        return None if record is None else clone(record)

    def peek(self, collection: str, key: str) -> Record | None:
        return self._data.get(collection, {}).get(key)

    def read_all(self, collection: str) -> dict[str, Record]:
        return self._data.get(collection, {})

    def highest_id(self, collection: str) -> int:
        return self._highest(collection)


class InMemoryStore:
    """Everything in dicts, for one process (threads or one event loop).

    A tenant gets its own copy of the seed on first use (shallow: records are never mutated in place,
    readers get copies, writers swap in new records). Every write holds the tenant's lock, so a
    read-modify-write is atomic and nothing is lost; a transaction or a failing `update` changes
    nothing until its function returns. At most `max_tenants` tenants are kept; the least recently
    used one goes first, and a tenant idle for `tenant_idle_ttl` seconds goes too.
    """

    def __init__(
        self,
        seeds: Seeds,
        max_tenants: int = DEFAULT_MAX_TENANTS,
        tenant_idle_ttl: float = DEFAULT_TENANT_IDLE_TTL,
    ) -> None:
        if max_tenants < 1:
            raise ValueError("max_tenants must be at least 1")
        self._seeds: dict[str, Collections] = {
            api: {c: {str(k): clone(r) for k, r in rows.items()} for c, rows in colls.items()}
            for api, colls in seeds.items()
        }
        self._max_tenants = max_tenants
        self._idle_ttl = tenant_idle_ttl
        self._tenants: OrderedDict[str, _TenantState] = OrderedDict()  # least recently used first
        self._server = _TenantState()
        self._evicted: OrderedDict[str, None] = OrderedDict()  # bounded: at most max_tenants remembered
        self._idle_before = 0.0  # no tenant can be idle (evictable for its age) before this time.monotonic()
        self._journal: deque[dict[str, Any]] = deque()
        self._guard = threading.Lock()
        # Bumped whenever a tenant's state is dropped (reset, eviction): what `tenant_collections`
        # returned before may then be a dropped tenant's.
        self.generation = 0

    # -- tenants ---------------------------------------------------------------------------------

    def _state(self, tenant: str, create: bool = True) -> _TenantState | None:
        if tenant == SERVER_WIDE:
            return self._server
        now = time.monotonic()
        with self._guard:
            state = self._tenants.get(tenant)
            if state is None:
                if not create:
                    return None
                state = self._tenants[tenant] = _TenantState(used=now)
                self._evict_beyond_bounds(now)
            else:
                state.used = now
                self._tenants.move_to_end(tenant)
                if now > self._idle_before:  # else no tenant can be idle yet, and none was added
                    self._evict_beyond_bounds(now)
        return state

    def _evict_beyond_bounds(self, now: float) -> None:
        while self._tenants:
            oldest, state = next(iter(self._tenants.items()))
            if len(self._tenants) <= self._max_tenants and state.used >= now - self._idle_ttl:
                # Every other tenant was used after the oldest: none is idle before this.
                self._idle_before = state.used + self._idle_ttl
                return
            del self._tenants[oldest]
            self.generation += 1
            self._evicted[oldest] = None
            self._evicted.move_to_end(oldest)
            if len(self._evicted) > self._max_tenants:
                self._evicted.popitem(last=False)

    def _tenant(self, tenant: str) -> _TenantState:
        state = self._state(tenant)
        assert state is not None
        return state

    def _collections(self, state: _TenantState, api: str) -> Collections:
        data = state.apis.get(api)
        if data is None:
            with state.lock:
                data = state.apis.get(api)
                if data is None:
                    seed = self._seeds.get(api, {})
                    data = {name: dict(rows) for name, rows in seed.items()}
                    for name, rows in seed.items():
                        state.highest[(api, name)] = highest_id(rows)
                    state.apis[api] = data
        return data

    def tenant_collections(self, tenant: str, api: str) -> Collections:
        """One tenant's collections of one API, marked as used, to read as `get` does (without the lock).

        They stay the tenant's until it is dropped (reset, eviction), which bumps `generation`."""
        return self._collections(self._tenant(tenant), api)

    def _rows(self, tenant: str, api: str, collection: str) -> dict[str, Record]:
        return self._collections(self._tenant(tenant), api).setdefault(collection, {})

    # -- records ---------------------------------------------------------------------------------

    def get(self, tenant: str, api: str, collection: str, key: object) -> Record | None:
        record = self._rows(tenant, api, collection).get(str(key))
        return None if record is None else clone(record)

    def all(self, tenant: str, api: str, collection: str) -> list[Record]:
        return [clone(r) for r in list(self._rows(tenant, api, collection).values())]

    def peek(self, tenant: str, api: str, collection: str, key: object) -> Mapping[str, Any] | None:
        return self._rows(tenant, api, collection).get(str(key))

    def peek_all(self, tenant: str, api: str, collection: str) -> list[Mapping[str, Any]]:
        return list(self._rows(tenant, api, collection).values())

    def update(self, tenant: str, api: str, collection: str, key: object, change: Callable[[Record], Record]) -> Record:
        def on_copies(current: Mapping[str, Any]) -> Record:
            return clone_record(change(clone_record(cast(Record, current))))  # the stored record is a dict

        return clone_record(self.replace(tenant, api, collection, key, on_copies))

    def replace(
        self, tenant: str, api: str, collection: str, key: object, change: Callable[[Mapping[str, Any]], Record]
    ) -> Record:
        state = self._tenant(tenant)
        rows = self._collections(state, api).setdefault(collection, {})
        with state.lock:
            current = rows.get(str(key))
            if current is None:
                raise RecordMissing(key)
            updated = change(current)
            rows[str(key)] = updated
            return updated

    def insert(self, tenant: str, api: str, collection: str, key: object, record: Record) -> Record:
        def put(tx: Transaction) -> Record:
            tx.put(collection, key, record)
            return clone_record(record)

        return self.transaction(tenant, api, put)

    def create(self, tenant: str, api: str, collection: str, build: Callable[[int], Record]) -> Record:
        return self.transaction(tenant, api, lambda tx: create_in(tx, collection, build))

    def delete(self, tenant: str, api: str, collection: str, key: object) -> Record:
        return self.transaction(tenant, api, lambda tx: delete_in(tx, collection, key))

    def transaction(self, tenant: str, api: str, fn: Callable[[Transaction], T]) -> T:
        state = self._tenant(tenant)
        data = self._collections(state, api)
        with state.lock:
            tx = Transaction(_TenantSource(data, lambda c: state.highest.get((api, c), 0)))
            result = fn(tx)
            for (collection, key), record in tx.writes.items():
                rows = data.setdefault(collection, {})
                if tx.deleted((collection, key)):
                    rows.pop(key, None)
                else:
                    rows[key] = record
            for collection, high in tx.highest.items():
                state.highest[(api, collection)] = max(high, state.highest.get((api, collection), 0))
        return result

    # -- values, counters, throttles -------------------------------------------------------------

    def get_value(self, tenant: str, name: str) -> Any | None:
        state = self._state(tenant, create=False)
        value = None if state is None else state.values.get(name)
        return None if value is None else clone(value)

    def set_value(self, tenant: str, name: str, value: Any | None) -> None:
        state = self._tenant(tenant)
        with state.lock:
            if value is None:
                state.values.pop(name, None)
            else:
                state.values[name] = clone(value)

    def add(self, tenant: str, name: str, delta: int, ttl_seconds: float | None = None) -> int:
        state = self._tenant(tenant)
        now = time.time()
        with state.lock:
            counter = state.counters.get(name)
            if counter is None or (counter.expires_at is not None and counter.expires_at <= now):
                counter = _Counter(0, None if ttl_seconds is None else now + ttl_seconds)
                state.counters[name] = counter
            counter.value += delta
            return counter.value

    def throttle(self, tenant: str, name: str, now: float, window_seconds: float, limit: int) -> float | None:
        state = self._tenant(tenant)
        with state.lock:
            kept, wait = throttle_hits(state.hits.get(name, []), now, window_seconds, limit)
            state.hits[name] = kept
            return wait

    # -- journal ---------------------------------------------------------------------------------

    def journal_append(self, entry: dict[str, Any], cap: int) -> None:
        with self._guard:
            self._journal.append(clone(entry))
            while len(self._journal) > max(cap, 0):
                self._journal.popleft()

    def journal(self, limit: int, tenant: str | None = None) -> list[dict[str, Any]]:
        with self._guard:
            entries = list(self._journal)
        newest_first = [e for e in reversed(entries) if tenant is None or e.get("tenant") == tenant]
        return [clone(e) for e in newest_first[: max(limit, 0)]]

    def journal_clear(self) -> None:
        with self._guard:
            self._journal.clear()

    # -- tenants ---------------------------------------------------------------------------------

    def reset(self, tenant: str | None = None) -> None:
        with self._guard:
            self.generation += 1
            if tenant is None:
                self._tenants.clear()
                self._evicted.clear()
                self._server = _TenantState()
            elif tenant == SERVER_WIDE:
                self._server = _TenantState()
            else:
                self._tenants.pop(tenant, None)
                self._evicted.pop(tenant, None)

    def snapshot(self, tenant: str) -> dict[str, Collections]:
        state = self._state(tenant, create=False)
        if state is None:
            return {}
        with state.lock:
            return {
                api: {name: {k: clone(r) for k, r in rows.items()} for name, rows in colls.items()}
                for api, colls in state.apis.items()
            }

    def tenants(self) -> list[str]:
        with self._guard:
            return sorted(self._tenants)

    def evicted(self, tenant: str) -> bool:
        """The tenant's state was dropped (idle or least recently used) since it was last reset."""
        with self._guard:
            return tenant in self._evicted


def create_in(tx: Transaction, collection: str, build: Callable[[int], Record]) -> Record:
    new_id = tx.next_id(collection)
    record = build(new_id)
    tx.put(collection, new_id, record)
    return clone_record(record)


def delete_in(tx: Transaction, collection: str, key: object) -> Record:
    record = tx.get(collection, key)
    if record is None:
        raise RecordMissing(key)
    tx.delete(collection, key)
    return record


class RecordsView:
    """One tenant's records of one API: what a vendor handler sees as `ctx.records`.

    On the in-memory store, reads look the tenant up once per view (a view lives for one request) and
    again only after the store has dropped a tenant; writes always go through the store and its lock.
    """

    def __init__(self, store: Store, tenant: str, api: str) -> None:
        self._store = store
        self._tenant = tenant
        self._api = api
        self._memory = store if isinstance(store, InMemoryStore) else None
        self._data: Collections | None = None  # the in-memory tenant's collections, once looked up
        self._generation = -1  # the in-memory store's `generation` when they were

    def _memory_rows(self, collection: str) -> dict[str, Record] | None:
        """The in-memory store's own rows of `collection` (not to be changed here); None on another store."""
        store = self._memory
        if store is None:
            return None
        data = self._data
        if data is None or self._generation != store.generation:
            self._generation = store.generation  # read first: a drop while looking up is seen next time
            data = self._data = store.tenant_collections(self._tenant, self._api)
        rows = data.get(collection)
        return rows if rows is not None else data.setdefault(collection, {})

    def get(self, collection: str, key: object) -> Record | None:
        rows = self._memory_rows(collection)
        if rows is None:
            return self._store.get(self._tenant, self._api, collection, key)
        record = rows.get(str(key))
        return None if record is None else clone_record(record)

    def peek(self, collection: str, key: object) -> Mapping[str, Any] | None:
        """A record to read, not to change: the store's own, without a copy (`Store.peek`)."""
        rows = self._memory_rows(collection)
        if rows is None:
            return self._store.peek(self._tenant, self._api, collection, key)
        return rows.get(str(key))

    def peek_all(self, collection: str) -> list[Mapping[str, Any]]:
        """The records of `collection` to read, not to change (see `peek`)."""
        rows = self._memory_rows(collection)
        if rows is None:
            return self._store.peek_all(self._tenant, self._api, collection)
        return list(rows.values())

    def summary(self, collection: str, key: object, members: Iterable[str]) -> Record | None:
        """Copies of `members` of a record (None for one it lacks), or None when there is no such record."""
        record = self.peek(collection, key)
        if record is None:
            return None
        return {member: clone(record.get(member)) for member in members}

    def exists(self, collection: str, key: object) -> bool:
        rows = self._memory_rows(collection)
        if rows is None:
            return self.peek(collection, key) is not None
        return str(key) in rows

    def all(self, collection: str) -> list[Record]:
        rows = self._memory_rows(collection)
        if rows is None:
            return self._store.all(self._tenant, self._api, collection)
        return [clone_record(record) for record in list(rows.values())]

    def any(self, collection: str, predicate: Callable[[Mapping[str, Any]], bool]) -> bool:
        """Whether `predicate` (which must not change its argument) holds for a record of `collection`,
        read without copies."""
        return any(predicate(r) for r in self.peek_all(collection))

    def update(self, collection: str, key: object, change: Callable[[Record], Record]) -> Record:
        return self._store.update(self._tenant, self._api, collection, key, change)

    def replace(self, collection: str, key: object, change: Callable[[Mapping[str, Any]], Record]) -> Mapping[str, Any]:
        """`update` for a `change` that never changes its argument and returns a record of its own: the
        store then copies nothing (`Store.replace`). The record returned is to read, not to change."""
        return self._store.replace(self._tenant, self._api, collection, key, change)

    def insert(self, collection: str, key: object, record: Record) -> Record:
        return self._store.insert(self._tenant, self._api, collection, key, record)

    def create(self, collection: str, build: Callable[[int], Record]) -> Record:
        return self._store.create(self._tenant, self._api, collection, build)

    def delete(self, collection: str, key: object) -> Record:
        return self._store.delete(self._tenant, self._api, collection, key)

    def transaction(self, fn: Callable[[Transaction], T]) -> T:
        return self._store.transaction(self._tenant, self._api, fn)


class StoreUnavailable(Exception):
    """The configured store cannot be used (an unknown URL scheme, an unreachable server)."""
