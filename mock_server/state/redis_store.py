"""`RedisStore`: the `Store` on one Redis (or Valkey) server, shared by several workers and replicas.

Same guarantees as `InMemoryStore` (tests/test_store.py runs against both), but across processes:

- Keys: `<prefix>t:<tenant>:<api>:r:<collection>` a hash of record key -> JSON; `...:<api>:v` the
  version of that tenant's API data (it exists only once the seed copy is made: the marker);
  `...:<api>:hi` the highest id per collection; `...:val:<name>`, `...:cnt:<name>`, `...:thr:<name>`
  values, counters and throttle windows; `...:keys` every key of the tenant (dropped together).
  `<prefix>tenants` a sorted set of tenants by last use (the LRU), `<prefix>evicted` the evicted
  ones, `<prefix>journal` the request journal (a capped list).
- Every script runs atomically in Redis. A read that finds no seed copy yet asks for one; the seed
  script makes it only if the marker is still missing, so two workers racing make one copy.
- `update(fn)` is optimistic: read, call `fn` in Python, then write only if the record is still the
  one read (a Lua compare-and-set, or WATCH/MULTI: `update_strategy`), else read again and retry.
  `transaction(fn)` does the same over the API's version: every write bumps it.
- Scripts build the key names of other tenants (eviction), so this backend needs one Redis server,
  not a Redis Cluster.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import redis

from mock_server.state.store import (
    DEFAULT_MAX_TENANTS,
    DEFAULT_TENANT_IDLE_TTL,
    SERVER_WIDE,
    Collections,
    Record,
    RecordMissing,
    Seeds,
    StoreUnavailable,
    Transaction,
    clone_record,
    create_in,
    delete_in,
    highest_id,
    numeric_id,
)

T = TypeVar("T")
Arg = str | bytes | int | float
UpdateStrategy = Literal["lua", "watch"]
MAX_ATTEMPTS = 10_000  # optimistic retries before giving up (each retry means another writer won)


class StoreContention(RuntimeError):
    """A write lost its race MAX_ATTEMPTS times in a row."""


_PRELUDE = """
local prefix, tenant, now = ARGV[1], ARGV[2], ARGV[3]
local max_tenants, idle_ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local tenants_key, evicted_key = prefix .. 'tenants', prefix .. 'evicted'
local function tkey(who, suffix) return prefix .. 't:' .. who .. ':' .. suffix end
local function register(key)
  if tenant ~= '*' then redis.call('SADD', tkey(tenant, 'keys'), key) end
end
local function drop(who)
  local registry = tkey(who, 'keys')
  local keys = redis.call('SMEMBERS', registry)
  for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
  redis.call('DEL', registry)
  redis.call('ZREM', tenants_key, who)
end
local function sweep()
  while true do
    local oldest = redis.call('ZRANGE', tenants_key, 0, 0, 'WITHSCORES')
    if #oldest == 0 or oldest[1] == tenant then return end
    local crowded = redis.call('ZCARD', tenants_key) > max_tenants
    if not crowded and tonumber(oldest[2]) >= tonumber(now) - idle_ttl then return end
    drop(oldest[1])
    redis.call('ZADD', evicted_key, now, oldest[1])
    if redis.call('ZCARD', evicted_key) > max_tenants then redis.call('ZPOPMIN', evicted_key) end
  end
end
local function touch()
  if tenant ~= '*' and redis.call('ZADD', tenants_key, now, tenant) == 1 then sweep() end
end
"""

_SEED = """
local api = ARGV[6]
local vkey, hikey = tkey(tenant, api .. ':v'), tkey(tenant, api .. ':hi')
touch()
if redis.call('EXISTS', vkey) == 1 then return 0 end
local seed = cjson.decode(ARGV[7])
for collection, rows in pairs(seed.r) do
  local hkey = tkey(tenant, api .. ':r:' .. collection)
  local fields = {}
  for key, value in pairs(rows) do fields[#fields + 1] = key; fields[#fields + 1] = value end
  for i = 1, #fields, 500 do redis.call('HSET', hkey, unpack(fields, i, math.min(i + 499, #fields))) end
  register(hkey)
end
for collection, high in pairs(seed.h) do redis.call('HSET', hikey, collection, high) end
redis.call('SET', vkey, 1)
register(vkey)
register(hikey)
return 1
"""

_READ_ONE = """
if redis.call('EXISTS', tkey(tenant, ARGV[6] .. ':v')) == 0 then return {0} end
touch()
return {1, redis.call('HGET', tkey(tenant, ARGV[6] .. ':r:' .. ARGV[7]), ARGV[8])}
"""

_READ_ALL = """
if redis.call('EXISTS', tkey(tenant, ARGV[6] .. ':v')) == 0 then return {0} end
touch()
return {1, redis.call('HGETALL', tkey(tenant, ARGV[6] .. ':r:' .. ARGV[7]))}
"""

_COMPARE_AND_SET = """
local vkey, hkey = tkey(tenant, ARGV[6] .. ':v'), tkey(tenant, ARGV[6] .. ':r:' .. ARGV[7])
if redis.call('EXISTS', vkey) == 0 or redis.call('HGET', hkey, ARGV[8]) ~= ARGV[9] then return 0 end
redis.call('HSET', hkey, ARGV[8], ARGV[10])
redis.call('INCR', vkey)
touch()
return 1
"""

_BEGIN = """
local version = redis.call('GET', tkey(tenant, ARGV[6] .. ':v'))
if not version then return {0} end
touch()
return {1, version}
"""

_COMMIT = """
local api = ARGV[6]
local vkey, hikey = tkey(tenant, api .. ':v'), tkey(tenant, api .. ':hi')
if redis.call('GET', vkey) ~= ARGV[7] then return 0 end
local changes = cjson.decode(ARGV[8])
for _, write in ipairs(changes.w) do
  local hkey = tkey(tenant, api .. ':r:' .. write[1])
  if write[3] == cjson.null then
    redis.call('HDEL', hkey, write[2])
  else
    redis.call('HSET', hkey, write[2], write[3])
    register(hkey)
  end
end
for collection, high in pairs(changes.h) do
  if tonumber(high) > tonumber(redis.call('HGET', hikey, collection) or '0') then
    redis.call('HSET', hikey, collection, high)
  end
end
redis.call('INCR', vkey)
touch()
return 1
"""

_GET_VALUE = """
if tenant ~= '*' and redis.call('ZSCORE', tenants_key, tenant) then redis.call('ZADD', tenants_key, now, tenant) end
return redis.call('GET', tkey(tenant, 'val:' .. ARGV[6]))
"""

_SET_VALUE = """
local key = tkey(tenant, 'val:' .. ARGV[6])
touch()
if ARGV[7] == '' then redis.call('DEL', key) else redis.call('SET', key, ARGV[7]); register(key) end
return 1
"""

_ADD = """
local key = tkey(tenant, 'cnt:' .. ARGV[6])
touch()
if redis.call('EXISTS', key) == 0 then
  local value = redis.call('INCRBY', key, ARGV[7])
  if ARGV[8] ~= '' then redis.call('PEXPIRE', key, ARGV[8]) end
  register(key)
  return value
end
return redis.call('INCRBY', key, ARGV[7])
"""

_THROTTLE = """
local key = tkey(tenant, 'thr:' .. ARGV[6])
local hit, window, limit = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
touch()
register(key)
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.17g', hit - window))
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, ARGV[7], ARGV[10])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return false
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return string.format('%.17g', math.max(tonumber(oldest[2]) + window - hit, 1e-6))
"""

_RESET_TENANT = """
drop(tenant)
redis.call('ZREM', evicted_key, tenant)
return 1
"""


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _decoded(raw: Any) -> Any:
    return json.loads(raw)


def _record(raw: Any) -> Record:
    record: Record = json.loads(raw)
    return record


def _key_order(key: str) -> tuple[int, int, str]:
    number = numeric_id(key)
    return (0, number, "") if number is not None else (1, 0, key)


class RedisStore:
    """The `Store` on Redis: see the module docstring for the layout and the guarantees."""

    def __init__(
        self,
        client: redis.Redis,
        seeds: Seeds,
        *,
        prefix: str = "contract-mock:",
        max_tenants: int = DEFAULT_MAX_TENANTS,
        tenant_idle_ttl: float = DEFAULT_TENANT_IDLE_TTL,
        update_strategy: UpdateStrategy = "lua",
    ) -> None:
        if max_tenants < 1:
            raise ValueError("max_tenants must be at least 1")
        self._redis = client
        self._prefix = prefix
        self._bounds = (str(max_tenants), repr(float(tenant_idle_ttl)))
        self._update_strategy = update_strategy
        self._seed_payloads = {
            api: _encode(
                {
                    "r": {c: {str(k): _encode(r) for k, r in rows.items()} for c, rows in colls.items()},
                    "h": {c: str(highest_id(str(k) for k in rows)) for c, rows in colls.items()},
                }
            )
            for api, colls in seeds.items()
        }
        script = client.register_script
        self._seed = script(_PRELUDE + _SEED)
        self._read_one = script(_PRELUDE + _READ_ONE)
        self._read_all = script(_PRELUDE + _READ_ALL)
        self._compare_and_set = script(_PRELUDE + _COMPARE_AND_SET)
        self._begin = script(_PRELUDE + _BEGIN)
        self._commit = script(_PRELUDE + _COMMIT)
        self._get_value = script(_PRELUDE + _GET_VALUE)
        self._set_value = script(_PRELUDE + _SET_VALUE)
        self._add = script(_PRELUDE + _ADD)
        self._throttle = script(_PRELUDE + _THROTTLE)
        self._reset_tenant = script(_PRELUDE + _RESET_TENANT)

    @classmethod
    def from_url(cls, url: str, seeds: Seeds, **options: Any) -> RedisStore:
        return cls(redis.Redis.from_url(url), seeds, **options)

    def check(self) -> None:
        """Raises StoreUnavailable unless the server answers (the URL's password is never shown)."""
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            where = self._redis.connection_pool.connection_kwargs
            place = f"{where.get('host', where.get('path', '?'))}:{where.get('port', '')}/{where.get('db', 0)}"
            raise StoreUnavailable(f"cannot reach the Redis store at {place}: {_reason(exc)}") from None

    def close(self) -> None:
        self._redis.close()

    # -- keys and scripts ------------------------------------------------------------------------

    def _key(self, tenant: str, suffix: str) -> str:
        return f"{self._prefix}t:{tenant}:{suffix}"

    def _args(self, tenant: str, *rest: Arg) -> list[Arg]:
        return [self._prefix, tenant, repr(time.time()), *self._bounds, *rest]

    def _seeded(self, tenant: str, api: str) -> None:
        self._seed(args=self._args(tenant, api, self._seed_payloads.get(api, '{"r":{},"h":{}}')))

    def _until_seeded(self, tenant: str, api: str, call: Callable[[], list[Any]]) -> Any:
        """Runs a read script; a tenant without its seed copy gets one, then the read runs again."""
        for _ in range(MAX_ATTEMPTS):
            found, *result = call()
            if found:
                return result[0] if result else None
            self._seeded(tenant, api)
        raise StoreContention(f"tenant data for {api} kept vanishing")

    def _raw_one(self, tenant: str, api: str, collection: str, key: str) -> bytes | None:
        read = self._read_one
        raw: bytes | None = self._until_seeded(tenant, api, lambda: read(args=self._args(tenant, api, collection, key)))
        return raw

    def _raw_all(self, tenant: str, api: str, collection: str) -> dict[str, bytes]:
        read = self._read_all
        flat: list[bytes] = self._until_seeded(tenant, api, lambda: read(args=self._args(tenant, api, collection)))
        rows = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
        return {key: rows[key] for key in sorted(rows, key=_key_order)}

    # -- records ---------------------------------------------------------------------------------

    def get(self, tenant: str, api: str, collection: str, key: object) -> Record | None:
        raw = self._raw_one(tenant, api, collection, str(key))
        return None if raw is None else _record(raw)

    def all(self, tenant: str, api: str, collection: str) -> list[Record]:
        return [_record(raw) for raw in self._raw_all(tenant, api, collection).values()]

    def update(self, tenant: str, api: str, collection: str, key: object, change: Callable[[Record], Record]) -> Record:
        if self._update_strategy == "watch":
            return self._update_watching(tenant, api, collection, str(key), change)
        for _ in range(MAX_ATTEMPTS):
            raw = self._raw_one(tenant, api, collection, str(key))
            if raw is None:
                raise RecordMissing(key)
            updated = change(_record(raw))
            encoded = _encode(updated)
            if self._compare_and_set(args=self._args(tenant, api, collection, str(key), raw, encoded)):
                return clone_record(updated)
        raise StoreContention(f"update of {collection}/{key} lost {MAX_ATTEMPTS} races")

    def _update_watching(
        self, tenant: str, api: str, collection: str, key: str, change: Callable[[Record], Record]
    ) -> Record:
        records, version = self._key(tenant, f"{api}:r:{collection}"), self._key(tenant, f"{api}:v")
        with self._redis.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(records)  # type: ignore[no-untyped-call]
                    raw = pipe.hget(records, key)
                    if raw is None:
                        pipe.reset()
                        # Not there, or the tenant's seed copy not made yet: asked again atomically (the
                        # read script makes the copy first), since another worker may be making it now.
                        if self._raw_one(tenant, api, collection, key) is None:
                            raise RecordMissing(key)
                        continue
                    updated = change(_record(raw))
                    pipe.multi()
                    pipe.hset(records, key, _encode(updated))
                    pipe.incr(version)
                    pipe.zadd(f"{self._prefix}tenants", {tenant: time.time()})
                    pipe.execute()
                    return clone_record(updated)
                except redis.WatchError:
                    continue
        raise StoreContention(f"update of {collection}/{key} lost {MAX_ATTEMPTS} races")

    def insert(self, tenant: str, api: str, collection: str, key: object, record: Record) -> Record:
        def put(tx: Transaction) -> Record:
            tx.put(collection, key, record)
            return clone_record(record)

        result: Record = self.transaction(tenant, api, put)
        return result

    def create(self, tenant: str, api: str, collection: str, build: Callable[[int], Record]) -> Record:
        return self.transaction(tenant, api, lambda tx: create_in(tx, collection, build))

    def delete(self, tenant: str, api: str, collection: str, key: object) -> Record:
        return self.transaction(tenant, api, lambda tx: delete_in(tx, collection, key))

    def transaction(self, tenant: str, api: str, fn: Callable[[Transaction], T]) -> T:
        for _ in range(MAX_ATTEMPTS):
            version: bytes = self._until_seeded(tenant, api, lambda: self._begin(args=self._args(tenant, api)))
            tx = Transaction(_RedisSource(self, tenant, api))
            result = fn(tx)
            changes = {
                "w": [
                    [collection, key, None if tx.deleted((collection, key)) else _encode(record)]
                    for (collection, key), record in tx.writes.items()
                ],
                "h": {collection: str(high) for collection, high in tx.highest.items()},
            }
            if self._commit(args=self._args(tenant, api, version, _encode(changes))):
                return result
        raise StoreContention(f"transaction on {api} lost {MAX_ATTEMPTS} races")

    def highest_id(self, tenant: str, api: str, collection: str) -> int:
        raw = self._redis.hget(self._key(tenant, f"{api}:hi"), collection)
        return int(raw) if raw is not None else 0

    # -- values, counters, throttles -------------------------------------------------------------

    def get_value(self, tenant: str, name: str) -> Any | None:
        raw = self._get_value(args=self._args(tenant, name))
        return None if raw is None else _decoded(raw)

    def set_value(self, tenant: str, name: str, value: Any | None) -> None:
        self._set_value(args=self._args(tenant, name, "" if value is None else _encode(value)))

    def add(self, tenant: str, name: str, delta: int, ttl_seconds: float | None = None) -> int:
        ttl = "" if ttl_seconds is None else str(max(1, math.ceil(ttl_seconds * 1000)))
        return int(self._add(args=self._args(tenant, name, delta, ttl)))

    def throttle(self, tenant: str, name: str, now: float, window_seconds: float, limit: int) -> float | None:
        hit = uuid.uuid4().hex
        wait = self._throttle(args=self._args(tenant, name, repr(now), repr(float(window_seconds)), limit, hit))
        return None if wait is None else float(wait)

    # -- journal ---------------------------------------------------------------------------------

    def journal_append(self, entry: dict[str, Any], cap: int) -> None:
        key = f"{self._prefix}journal"
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, _encode(entry))
            pipe.ltrim(key, 0, max(cap, 0) - 1)
            pipe.execute()

    def journal(self, limit: int, tenant: str | None = None) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        key = f"{self._prefix}journal"
        if tenant is None:
            return [_record(raw) for raw in self._redis.lrange(key, 0, limit - 1)]
        entries = (_record(raw) for raw in self._redis.lrange(key, 0, -1))
        return [e for e in entries if e.get("tenant") == tenant][:limit]

    def journal_clear(self) -> None:
        self._redis.delete(f"{self._prefix}journal")

    # -- tenants ---------------------------------------------------------------------------------

    def reset(self, tenant: str | None = None) -> None:
        if tenant is not None and tenant != SERVER_WIDE:
            self._reset_tenant(args=self._args(tenant))
            return
        pattern = f"{self._prefix}t:*:val:*" if tenant == SERVER_WIDE else f"{self._prefix}*"
        keep = f"{self._prefix}journal".encode()
        doomed = [key for key in self._redis.scan_iter(match=pattern, count=1000) if key != keep]
        for start in range(0, len(doomed), 500):
            self._redis.unlink(*doomed[start : start + 500])

    def snapshot(self, tenant: str) -> dict[str, Collections]:
        head = self._key(tenant, "")
        found: dict[str, Collections] = {}
        for raw_key in sorted(self._redis.smembers(self._key(tenant, "keys"))):
            api, marker, collection = _text(raw_key)[len(head) :].partition(":r:")
            if marker:
                rows = {_text(k): v for k, v in self._redis.hgetall(raw_key).items()}
                ordered = sorted(rows, key=_key_order)
                found.setdefault(api, {})[collection] = {k: _record(rows[k]) for k in ordered}
        return found

    def tenants(self) -> list[str]:
        return sorted(_text(member) for member in self._redis.zrange(f"{self._prefix}tenants", 0, -1))

    def evicted(self, tenant: str) -> bool:
        return self._redis.zscore(f"{self._prefix}evicted", tenant) is not None


class _RedisSource:
    """What a transaction reads: committed data, checked at commit through the API's version."""

    def __init__(self, store: RedisStore, tenant: str, api: str) -> None:
        self._store, self._tenant, self._api = store, tenant, api

    def read(self, collection: str, key: str) -> Record | None:
        return self._store.get(self._tenant, self._api, collection, key)

    def read_all(self, collection: str) -> dict[str, Record]:
        raw = self._store._raw_all(self._tenant, self._api, collection)
        return {key: _record(value) for key, value in raw.items()}

    def highest_id(self, collection: str) -> int:
        return self._store.highest_id(self._tenant, self._api, collection)


def _reason(exc: BaseException) -> str:
    """The operating system's reason behind a connection error (`Connection refused`), else the error's class."""
    cause: BaseException | None = exc
    for _ in range(10):  # a chain of causes is short; bounded all the same
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__
