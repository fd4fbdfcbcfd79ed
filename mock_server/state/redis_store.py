"""`RedisStore`: the `Store` on one Redis (or Valkey) server, shared by several workers and replicas.

Same guarantees as `InMemoryStore` (tests/test_store.py runs against both), but across processes:

- Keys: `<prefix>t:{<tenant>}:<api>:r:<collection>` a hash of record key -> JSON; `...:<api>:v` the
  version of that tenant's API data (it exists only once the seed copy is made: the marker);
  `...:<api>:hi` the highest id per collection; `...:vals` a hash of value name -> JSON (one read
  gets them all); `...:cnt:<name>`, `...:thr:<name>` counters and throttle windows; `...:keys` every
  key of the tenant (dropped together). The `{tenant}` hash tag keeps a tenant's keys in one Redis
  Cluster slot.
  `<prefix>{lru}:tenants` a sorted set of tenants by last use (the LRU), `<prefix>{lru}:evicted` the
  evicted ones, `<prefix>journal` the request journal (a capped list), `<prefix>issued:{<api>:<kind>}:…`
  the tokens the mock issued, by digest (`issued_tokens`; a reset keeps them, as in memory).
- One round trip per request read: the first call of a request (`RequestScope`, opened per request
  by the app) runs the open script, which touches the tenant and returns its values, the server-wide
  ones and the API's version, plus every record of the request's API unless the version is the one of
  the records this process kept from its last read or write of that tenant and API (a bounded cache,
  CACHED_SNAPSHOTS): the records cross the wire and are decoded only when another process changed
  them. The request's further reads are answered from that. A write is one more script: a record's
  compare-and-set, or a transaction's commit checked against the version read; each returns the new
  version when nothing else was written since the read, so the process keeps what it wrote. A request
  that changes nothing writes nothing.
- Versions: every write increments the API's version; a seed copy starts it at a random number below
  2**50, so a tenant reset (or evicted) and written again never shows a version a process already
  holds records for.
- Every script runs atomically in Redis. A read that finds no seed copy yet asks for one; the seed
  script makes it only if the marker is still missing, so two workers racing make one copy.
- `update(fn)` is optimistic: read, call `fn` in Python, then write only if the record is still the
  one read (a Lua compare-and-set, or WATCH/MULTI: `update_strategy`), else read again and retry.
  `transaction(fn)` does the same over the API's version: every write bumps it.
- On one server, the scripts also keep the LRU (they build other tenants' key names to evict them).
  On a Redis Cluster (`redis-cluster://HOST:PORT`, redis-py's `RedisCluster`), every script keeps to
  its tenant's slot: the LRU is one more script in its own slot, which a process runs at most once a
  second per tenant (TOUCH_INTERVAL_S), evicting then; the server-wide values are one more read.
"""

from __future__ import annotations

import json
import marshal
import math
import os
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, cast

import hiredis
import redis

from mock_server.state.issued import SharedIssued
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
    clone,
    clone_record,
    create_in,
    current_scope,
    delete_in,
    highest_id,
    numeric_id,
)

T = TypeVar("T")
Arg = str | bytes | int | float
UpdateStrategy = Literal["lua", "watch"]
MAX_ATTEMPTS = 10_000  # optimistic retries before giving up (each retry means another writer won)
CLUSTER_SCHEME = "redis-cluster://"
TOUCH_INTERVAL_S = 1.0  # on a Redis Cluster, a process moves a tenant up the LRU at most this often
CACHED_SNAPSHOTS = 256  # per process: the last records read of this many (tenant, API), reused while current
VERSION_START_BITS = 50  # a seed copy's version starts at a random number below 2**50 (see _seeded)
DECODED_RECORDS = 4096  # per process: records kept decoded (`_DecodedRecords`), by their JSON…
DECODED_RECORDS_BYTES = 16 * 1024 * 1024  # …in this many bytes at most (JSON, record and copy)
# marshal's format 2 writes equal JSON-like values as equal bytes; later ones mark objects shared or interned
MARSHAL_VERSION = 2
ISSUED_INFIX = "issued:"  # `<prefix>issued:{<api>:<kind>}:h` and `:o`, the issued tokens (`issued_tokens`)


class StoreContention(RuntimeError):
    """A write lost its race MAX_ATTEMPTS times in a row."""


# A store's constants are written into its scripts (fewer arguments to send each call): see `_prelude`.
_PRELUDE = """
local prefix, max_tenants, idle_ttl = @PREFIX@, @MAX_TENANTS@, @IDLE_TTL@
local tenant, now = ARGV[1], ARGV[2]
local tenants_key, evicted_key = prefix .. '{lru}:tenants', prefix .. '{lru}:evicted'
-- 0 tenants: the LRU lives in other slots (Redis Cluster) and the client keeps it (`_TOUCH`)
local lru = max_tenants > 0
local function tkey(who, suffix) return prefix .. 't:{' .. who .. '}:' .. suffix end
local function register(key)
  if tenant ~= '*' then redis.call('SADD', tkey(tenant, 'keys'), key) end
end
local function drop(who)
  local registry = tkey(who, 'keys')
  local keys = redis.call('SMEMBERS', registry)
  for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
  redis.call('DEL', registry)
  if lru then redis.call('ZREM', tenants_key, who) end
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
  if lru and tenant ~= '*' and redis.call('ZADD', tenants_key, now, tenant) == 1 then sweep() end
end
"""

_SEED = """
local api = ARGV[3]
local vkey, hikey = tkey(tenant, api .. ':v'), tkey(tenant, api .. ':hi')
touch()
if redis.call('EXISTS', vkey) == 1 then return 0 end
local seed = cjson.decode(ARGV[4])
for collection, rows in pairs(seed.r) do
  local hkey = tkey(tenant, api .. ':r:' .. collection)
  local fields = {}
  for key, value in pairs(rows) do fields[#fields + 1] = key; fields[#fields + 1] = value end
  for i = 1, #fields, 500 do redis.call('HSET', hkey, unpack(fields, i, math.min(i + 499, #fields))) end
  register(hkey)
end
for collection, high in pairs(seed.h) do redis.call('HSET', hikey, collection, high) end
redis.call('SET', vkey, ARGV[5])
register(vkey)
register(hikey)
return 1
"""

_OPEN = """
local api, cached, count = ARGV[3], ARGV[4], tonumber(ARGV[5])
local values = {}
if count > 0 then
  local own = redis.call('HMGET', tkey(tenant, 'vals'), unpack(ARGV, 6, 5 + count))
  local everyone = lru and redis.call('HMGET', tkey('*', 'vals'), unpack(ARGV, 6, 5 + count))
  for i = 1, count do
    values[#values + 1] = own[i]
    values[#values + 1] = everyone and everyone[i]
  end
end
local version = api ~= '' and redis.call('GET', tkey(tenant, api .. ':v'))
if not version then
  if lru and tenant ~= '*' and redis.call('ZSCORE', tenants_key, tenant) then
    redis.call('ZADD', tenants_key, now, tenant)
  end
  return {values, false}
end
touch()
if version == cached then return {values, version} end
local head, records = tkey(tenant, api .. ':r:'), {}
for _, key in ipairs(redis.call('SMEMBERS', tkey(tenant, 'keys'))) do
  if string.sub(key, 1, #head) == head then
    records[#records + 1] = string.sub(key, #head + 1)
    records[#records + 1] = redis.call('HGETALL', key)
  end
end
return {values, version, records, redis.call('HGETALL', tkey(tenant, api .. ':hi'))}
"""

_COMPARE_AND_SET = """
local vkey, hkey = tkey(tenant, ARGV[3] .. ':v'), tkey(tenant, ARGV[3] .. ':r:' .. ARGV[4])
local version = redis.call('GET', vkey)
if not version or redis.call('HGET', hkey, ARGV[5]) ~= ARGV[6] then return 0 end
redis.call('HSET', hkey, ARGV[5], ARGV[7])
local after = redis.call('INCR', vkey)
touch()
if version == ARGV[8] then return after end
return -1
"""

_COMMIT = """
local api = ARGV[3]
local vkey, hikey = tkey(tenant, api .. ':v'), tkey(tenant, api .. ':hi')
if redis.call('GET', vkey) ~= ARGV[4] then return 0 end
local changes = cjson.decode(ARGV[5])
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

_SET_VALUE = """
local key = tkey(tenant, 'vals')
touch()
if ARGV[4] == '' then redis.call('HDEL', key, ARGV[3]) else redis.call('HSET', key, ARGV[3], ARGV[4]); register(key) end
return 1
"""

_ADD = """
local key = tkey(tenant, 'cnt:' .. ARGV[3])
touch()
if redis.call('EXISTS', key) == 0 then
  local value = redis.call('INCRBY', key, ARGV[4])
  if ARGV[5] ~= '' then redis.call('PEXPIRE', key, ARGV[5]) end
  register(key)
  return value
end
return redis.call('INCRBY', key, ARGV[4])
"""

_THROTTLE = """
local key = tkey(tenant, 'thr:' .. ARGV[3])
local hit, window, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
touch()
register(key)
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.17g', hit - window))
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, ARGV[4], ARGV[7])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return false
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return string.format('%.17g', math.max(tonumber(oldest[2]) + window - hit, 1e-6))
"""

_RESET_TENANT = """
drop(tenant)
if lru then redis.call('ZREM', evicted_key, tenant) end
return 1
"""

_JOURNAL_APPEND = """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]))
return 1
"""

# Issued tokens of one kind: KEYS[1] a hash digest -> entry, KEYS[2] the digests oldest first (one slot: `{kind}`).
_ISSUED_PUT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local count = redis.call('RPUSH', KEYS[2], ARGV[1])
for _ = 1, count - tonumber(ARGV[3]) do redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2])) end
return 1
"""

_ISSUED_TAKE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then redis.call('HDEL', KEYS[1], ARGV[1]) end
return entry
"""

# Redis Cluster only: the LRU of tenants, in its own slot. Returns the tenants to drop (evicted).
_TOUCH = """
local tenants_key, evicted_key = KEYS[1], KEYS[2]
local tenant, now, max_tenants, idle_ttl, only_known = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if only_known == '1' then
  redis.call('ZADD', tenants_key, 'XX', now, tenant)
  return {}
end
local doomed = {}
if redis.call('ZADD', tenants_key, now, tenant) == 1 then
  while true do
    local oldest = redis.call('ZRANGE', tenants_key, 0, 0, 'WITHSCORES')
    if #oldest == 0 or oldest[1] == tenant then break end
    local crowded = redis.call('ZCARD', tenants_key) > max_tenants
    if not crowded and tonumber(oldest[2]) >= tonumber(now) - idle_ttl then break end
    redis.call('ZREM', tenants_key, oldest[1])
    redis.call('ZADD', evicted_key, now, oldest[1])
    if redis.call('ZCARD', evicted_key) > max_tenants then redis.call('ZPOPMIN', evicted_key) end
    doomed[#doomed + 1] = oldest[1]
  end
end
return doomed
"""


def _prelude(prefix: str, max_tenants: str, idle_ttl: str) -> str:
    """The scripts' common start with this store's key prefix (a Lua string of decimal escapes) and LRU bounds."""
    literal = '"' + "".join(f"\\{byte}" for byte in prefix.encode()) + '"'
    filled = _PRELUDE.replace("@PREFIX@", literal).replace("@MAX_TENANTS@", str(int(max_tenants)))
    ttl = float(idle_ttl)
    return filled.replace("@IDLE_TTL@", repr(ttl) if math.isfinite(ttl) else "math.huge")


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _decoded_or_none(raw: Any) -> Any:
    return None if raw is None else json.loads(raw)


def _record(raw: Any) -> Record:
    record: Record = json.loads(raw)
    return record


class _DecodedRecords:
    """The records a process decoded, by their JSON. `shared` hands out one decoded record per JSON text, to
    read and never to change (as the in-memory store hands out its own records: `peek`); `copy` a copy of
    it of the caller's own, made with `marshal.loads` (a deep copy in C, several times faster than
    `json.loads`). A record read by every request, unchanged, is decoded once. Bounded: forgotten all at
    once when full."""

    def __init__(self, limit: int = DECODED_RECORDS, limit_bytes: int = DECODED_RECORDS_BYTES) -> None:
        self._decoded: dict[bytes, tuple[Record, bytes]] = {}
        self._limit, self._limit_bytes = limit, limit_bytes
        self._bytes = 0

    def shared(self, raw: bytes) -> Record:
        found = self._decoded.get(raw)  # `entry` written out: this is called for every record a rule reads
        return (found if found is not None else self._decode(raw))[0]

    def copy(self, raw: bytes) -> Record:
        copy: Record = marshal.loads(self.entry(raw)[1])
        return copy

    def entry(self, raw: bytes) -> tuple[Record, bytes]:
        """The shared record of `raw` and its `marshal` form."""
        found = self._decoded.get(raw)
        return found if found is not None else self._decode(raw)

    def _decode(self, raw: bytes) -> tuple[Record, bytes]:
        record: Record = json.loads(raw)
        entry = (record, marshal.dumps(record, MARSHAL_VERSION))
        size = 2 * len(raw) + len(entry[1])  # the JSON, the decoded record (about as big again) and its copy
        if len(self._decoded) >= self._limit or self._bytes + size > self._limit_bytes:
            self._decoded.clear()
            self._bytes = 0
        self._decoded[raw] = entry
        self._bytes += size
        return entry


def _key_order(key: str) -> tuple[int, int, str]:
    number = numeric_id(key)
    return (0, number, "") if number is not None else (1, 0, key)


class RedisStore:
    """The `Store` on Redis: see the module docstring for the layout and the guarantees."""

    def __init__(
        self,
        client: redis.Redis | redis.RedisCluster,
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
        self._clustered = isinstance(client, redis.RedisCluster)
        if self._clustered and update_strategy == "watch":
            raise ValueError("on a Redis Cluster, updates use the Lua compare-and-set (update_strategy='lua')")
        self._lru = (max_tenants, float(tenant_idle_ttl))
        # On a cluster the scripts keep to the tenant's slot and this client keeps the LRU (0 = not in scripts).
        self._bounds = ("0" if self._clustered else str(max_tenants), repr(float(tenant_idle_ttl)))
        self._tenants_key, self._evicted_key = f"{prefix}{{lru}}:tenants", f"{prefix}{{lru}}:evicted"
        self._touched: dict[str, float] = {}  # cluster only: tenant -> when this process last moved it up the LRU
        self._update_strategy = update_strategy
        self._value_names: set[str] = set()  # every value name asked for so far: one round trip reads them all
        # (tenant, api) -> the records this process last read or wrote, with their version (least recent first)
        self._cached: OrderedDict[tuple[str, str], _Snapshot] = OrderedDict()
        self._cache_guard = threading.Lock()
        self._connection: _ScriptConnection | None = None  # see `_call`
        self._seed_payloads = {
            api: _encode(
                {
                    "r": {c: {str(k): _encode(r) for k, r in rows.items()} for c, rows in colls.items()},
                    "h": {c: str(highest_id(str(k) for k in rows)) for c, rows in colls.items()},
                }
            )
            for api, colls in seeds.items()
        }
        script, prelude = client.register_script, _prelude(prefix, *self._bounds)
        self._seed = script(prelude + _SEED)
        self._open_script = script(prelude + _OPEN)
        self._compare_and_set = script(prelude + _COMPARE_AND_SET)
        self._commit = script(prelude + _COMMIT)
        self._set_value = script(prelude + _SET_VALUE)
        self._add = script(prelude + _ADD)
        self._throttle = script(prelude + _THROTTLE)
        self._reset_tenant = script(prelude + _RESET_TENANT)
        self._touch_script = script(_TOUCH)
        self._journal_append = script(_JOURNAL_APPEND)
        self._issued_put = script(_ISSUED_PUT)
        self._issued_take = script(_ISSUED_TAKE)

    @classmethod
    def from_url(cls, url: str, seeds: Seeds, **options: Any) -> RedisStore:
        """`redis://…`, `rediss://…`, `unix://…`, or `redis-cluster://HOST:PORT` (any node of a Redis Cluster)."""
        if url.startswith(CLUSTER_SCHEME):
            try:
                cluster = redis.RedisCluster.from_url("redis://" + url[len(CLUSTER_SCHEME) :])
            except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
                host = url[len(CLUSTER_SCHEME) :].rpartition("@")[2]
                raise StoreUnavailable(f"cannot reach the Redis Cluster at {host}: {type(exc).__name__}") from None
            return cls(cluster, seeds, **options)
        return cls(redis.Redis.from_url(url), seeds, **options)

    def check(self) -> None:
        """Raises StoreUnavailable unless the server answers (the URL's password is never shown)."""
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"cannot reach the Redis store at {self._place()}: {_reason(exc)}") from None

    def _place(self) -> str:
        if isinstance(self._redis, redis.RedisCluster):
            node = self._redis.get_default_node()  # type: ignore[no-untyped-call]
            return f"the cluster node {node.host}:{node.port}" if node else "the cluster"
        where = self._redis.connection_pool.connection_kwargs
        return f"{where.get('host', where.get('path', '?'))}:{where.get('port', '')}/{where.get('db', 0)}"

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._redis.close()

    # -- keys and scripts ------------------------------------------------------------------------

    def _key(self, tenant: str, suffix: str) -> str:
        return f"{self._prefix}t:{{{tenant}}}:{suffix}"

    def _args(self, tenant: str, *rest: Arg) -> list[Arg]:
        return [tenant, repr(time.time()), *rest]

    def _run(self, script: Any, tenant: str, *rest: Arg, idempotent: bool = False) -> Any:
        """A script on the tenant's keys (KEYS names one of them: a cluster routes by it)."""
        return self._eval(script, [self._key(tenant, "keys")], self._args(tenant, *rest), idempotent)

    def _eval(self, script: Any, keys: list[str], args: list[Arg], idempotent: bool = False) -> Any:
        """EVALSHA of a `register_script` script; loaded again if the server lost it (it restarted, another node)."""
        try:
            return self._call("EVALSHA", script.sha, len(keys), *keys, *args, idempotent=idempotent)
        except redis.exceptions.NoScriptError:
            script.sha = _text(self._redis.script_load(script.script))
            return self._call("EVALSHA", script.sha, len(keys), *keys, *args, idempotent=idempotent)

    def _call(self, *command: Arg, idempotent: bool = False) -> Any:
        """One command of the request path. On a cluster, through redis-py's client (it routes by key); on one
        server, through this process's own connection (`_ScriptConnection`), which sends an `idempotent`
        command once more on a fresh connection if the kept one turns out closed."""
        if not isinstance(self._redis, redis.Redis):  # a cluster (its `execute_command` is untyped)
            return cast(Any, self._redis).execute_command(*command)
        connection = self._connection
        if connection is None or connection.pid != os.getpid():  # first use, or a forked child
            with self._cache_guard:
                if self._connection is None or self._connection.pid != os.getpid():
                    self._connection = _ScriptConnection(self._redis.connection_pool)
                connection = self._connection
        return connection.call(command, idempotent)

    def _touch(self, tenant: str, only_known: bool = False) -> None:
        """Redis Cluster only: moves `tenant` up the LRU (adds it unless `only_known`), drops whom it evicts."""
        if not self._clustered or tenant == SERVER_WIDE:
            return
        now = time.time()
        if now - self._touched.get(tenant, -math.inf) < TOUCH_INTERVAL_S:
            return
        if len(self._touched) >= self._lru[0]:
            self._touched.clear()
        self._touched[tenant] = now
        bounds = (str(self._lru[0]), repr(self._lru[1]), "1" if only_known else "0")
        doomed = self._touch_script(keys=[self._tenants_key, self._evicted_key], args=[tenant, repr(now), *bounds])
        for evicted in doomed:
            self._run(self._reset_tenant, _text(evicted))
            self._touched.pop(_text(evicted), None)

    def _seeded(self, tenant: str, api: str) -> None:
        # A seed copy's version starts at a random number, not at 1: a process that cached records at some
        # version must never take a later copy (after a reset or an eviction) at that same version for it.
        start = str(secrets.randbits(VERSION_START_BITS) + 1)
        self._run(self._seed, tenant, api, self._seed_payloads.get(api, '{"r":{},"h":{}}'), start, idempotent=True)
        self._touched.pop(tenant, None)
        self._touch(tenant)

    # -- what one request read (one round trip: `_open`) ---------------------------------------

    def _reads(self) -> _Reads:
        """This request's reads (`RequestScope`); outside a request, a fresh one for each call."""
        scope = current_scope()
        if scope is None:
            return _Reads(None)
        reads: _Reads | None = scope.entries.get(self)
        if reads is None:
            reads = scope.entries[self] = _Reads(scope.api)
        return reads

    def _open(self, reads: _Reads, tenant: str, api: str | None) -> None:
        """One round trip: the values of `tenant` and the server-wide ones and, when `api` is given and
        the tenant has its seed copy, every record of that API with its version (the LRU touched). When
        the version is the one of the records this process cached, the records are not sent again."""
        names = sorted(self._value_names)
        cached = None if api is None else self._cached.get((tenant, api))
        known = b"" if cached is None or cached.version is None else cached.version
        reply = self._run(self._open_script, tenant, api or "", known, len(names), *names, idempotent=True)
        values, version = reply[0], reply[1]
        read_server_wide = not self._clustered or tenant == SERVER_WIDE  # another slot on a cluster
        for index, name in enumerate(names):
            reads.values.setdefault((tenant, name), _decoded_or_none(values[2 * index]))
            if read_server_wide:
                reads.values.setdefault((SERVER_WIDE, name), _decoded_or_none(values[2 * index + 1]))
        reads.opened.add(tenant)
        self._touch(tenant, only_known=version is None)
        if api is None or version is None:
            return
        if len(reply) == 2 and cached is not None and version == known:  # unchanged since cached
            reads.snapshots[(tenant, api)] = _Snapshot(version, cached.rows, cached.highest)
            self._remember(tenant, api, cached)
            return
        flat, highest = reply[2], reply[3]
        rows = {_text(flat[i]): _in_key_order(_pairs(flat[i + 1])) for i in range(0, len(flat), 2)}
        snapshot = _Snapshot(version, rows, {name: int(high) for name, high in _pairs(highest).items()})
        reads.snapshots[(tenant, api)] = snapshot
        self._remember(tenant, api, snapshot)

    def _remember(self, tenant: str, api: str, snapshot: _Snapshot) -> None:
        """Keeps what `snapshot` holds for the next requests of (tenant, api); forgets it if its version is unknown.

        Snapshots never change their dicts in place (a write makes new ones), so the cache and a
        request may share them."""
        with self._cache_guard:
            if snapshot.version is None:
                self._cached.pop((tenant, api), None)
                return
            self._cached[(tenant, api)] = _Snapshot(snapshot.version, snapshot.rows, snapshot.highest)
            self._cached.move_to_end((tenant, api))
            while len(self._cached) > CACHED_SNAPSHOTS:
                self._cached.popitem(last=False)

    def _snapshot(self, reads: _Reads, tenant: str, api: str) -> _Snapshot:
        """The tenant's records of `api` as this request read them; the first read makes the seed copy."""
        for _ in range(MAX_ATTEMPTS):
            found = reads.snapshots.get((tenant, api))
            if found is not None:
                return found
            self._open(reads, tenant, api)
            if (tenant, api) not in reads.snapshots:
                self._seeded(tenant, api)
        raise StoreContention(f"tenant data for {api} kept vanishing")

    # -- records ---------------------------------------------------------------------------------

    def get(self, tenant: str, api: str, collection: str, key: object) -> Record | None:
        raw = self._snapshot(self._reads(), tenant, api).rows.get(collection, {}).get(str(key))
        return None if raw is None else _RECORDS.copy(raw)

    def all(self, tenant: str, api: str, collection: str) -> list[Record]:
        rows = self._snapshot(self._reads(), tenant, api).rows.get(collection, {})
        return [_RECORDS.copy(raw) for raw in rows.values()]

    def peek(self, tenant: str, api: str, collection: str, key: object) -> Mapping[str, Any] | None:
        # `_reads` and `_snapshot` written out for a request's later reads: rules peek at a dozen records a request
        scope = current_scope()
        reads: _Reads | None = None if scope is None else scope.entries.get(self)
        snapshot = None if reads is None else reads.snapshots.get((tenant, api))
        if snapshot is None:
            snapshot = self._snapshot(self._reads(), tenant, api)
        raw = snapshot.rows.get(collection, {}).get(str(key))
        return None if raw is None else _RECORDS.shared(raw)

    def peek_all(self, tenant: str, api: str, collection: str) -> list[Mapping[str, Any]]:
        rows = self._snapshot(self._reads(), tenant, api).rows.get(collection, {})
        return [_RECORDS.shared(raw) for raw in rows.values()]  # in key order, as a snapshot keeps them

    def update(self, tenant: str, api: str, collection: str, key: object, change: Callable[[Record], Record]) -> Record:
        if self._update_strategy == "watch":
            return self._update_watching(tenant, api, collection, str(key), change)
        return clone_record(self._replace(tenant, api, collection, str(key), change, copy=True))

    def replace(
        self, tenant: str, api: str, collection: str, key: object, change: Callable[[Mapping[str, Any]], Record]
    ) -> Record:
        if self._update_strategy == "watch":
            return self._update_watching(tenant, api, collection, str(key), change)
        return self._replace(tenant, api, collection, str(key), change, copy=False)

    def _replace(
        self, tenant: str, api: str, collection: str, key: str, change: Callable[[Record], Record], copy: bool
    ) -> Record:
        """`change` (given a copy of the record, or the shared record when not `copy`) and a compare-and-set."""
        reads = self._reads()
        for _ in range(MAX_ATTEMPTS):
            snapshot = self._snapshot(reads, tenant, api)
            raw = snapshot.rows.get(collection, {}).get(key)
            if raw is None:
                raise RecordMissing(key)
            current, packed = _RECORDS.entry(raw)
            updated = change(marshal.loads(packed) if copy else current)
            if marshal.dumps(updated, MARSHAL_VERSION) == packed:  # the same values of the same types: no write
                return updated
            encoded = _encode(updated).encode()
            if encoded == raw:  # nothing changed: what this request read is the answer, no write
                return updated
            read_at = snapshot.version or b""
            written = self._run(self._compare_and_set, tenant, api, collection, key, raw, encoded, read_at)
            if written:  # the new version, or -1: another record was written since this request read
                snapshot.wrote(collection, key, encoded, str(written).encode() if written > 0 else None)
                self._remember(tenant, api, snapshot)
                self._touch(tenant)
                return updated
            reads.forget(tenant, api)  # another writer won: read again
        raise StoreContention(f"update of {collection}/{key} lost {MAX_ATTEMPTS} races")

    def _update_watching(
        self, tenant: str, api: str, collection: str, key: str, change: Callable[[Record], Record]
    ) -> Record:
        records, version = self._key(tenant, f"{api}:r:{collection}"), self._key(tenant, f"{api}:v")
        reads = self._reads()
        with self._redis.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(records)
                    raw = pipe.hget(records, key)
                    if raw is None:
                        pipe.reset()
                        # Not there, or the tenant's seed copy not made yet: asked again atomically (the
                        # open script reads after the seed copy is made), since another worker may be making it now.
                        reads.forget(tenant, api)
                        if self._snapshot(reads, tenant, api).rows.get(collection, {}).get(key) is None:
                            raise RecordMissing(key)
                        continue
                    updated = change(_record(raw))
                    pipe.multi()
                    pipe.hset(records, key, _encode(updated))
                    pipe.incr(version)
                    pipe.zadd(self._tenants_key, {tenant: time.time()})
                    pipe.execute()
                    reads.forget(tenant, api)
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
        reads = self._reads()
        for _ in range(MAX_ATTEMPTS):
            snapshot = self._snapshot(reads, tenant, api)
            if snapshot.version is None:  # this request wrote since it read: read the version again
                reads.forget(tenant, api)
                snapshot = self._snapshot(reads, tenant, api)
            tx = Transaction(snapshot)
            result = fn(tx)
            if not tx.writes:  # read only: consistent as of one version, nothing to commit
                return result
            writes = [
                [collection, key, None if tx.deleted((collection, key)) else _encode(record)]
                for (collection, key), record in tx.writes.items()
            ]
            changes = {"w": writes, "h": {collection: str(high) for collection, high in tx.highest.items()}}
            if self._run(self._commit, tenant, api, snapshot.version or b"", _encode(changes)):
                snapshot.committed(writes, tx.highest)
                self._remember(tenant, api, snapshot)
                self._touch(tenant)
                return result
            reads.forget(tenant, api)
        raise StoreContention(f"transaction on {api} lost {MAX_ATTEMPTS} races")

    # -- values, counters, throttles -------------------------------------------------------------

    def get_value(self, tenant: str, name: str) -> Any | None:
        reads = self._reads()
        if (tenant, name) not in reads.values:
            self._value_names.add(name)
            api = reads.api if tenant != SERVER_WIDE and tenant not in reads.opened else None
            self._open(reads, tenant, api)
        return clone(reads.values[(tenant, name)])

    def set_value(self, tenant: str, name: str, value: Any | None) -> None:
        self._run(self._set_value, tenant, name, "" if value is None else _encode(value))
        self._touch(tenant)
        self._reads().values[(tenant, name)] = clone(value)

    def add(self, tenant: str, name: str, delta: int, ttl_seconds: float | None = None) -> int:
        ttl = "" if ttl_seconds is None else str(max(1, math.ceil(ttl_seconds * 1000)))
        total = int(self._run(self._add, tenant, name, delta, ttl))
        self._touch(tenant)
        return total

    def throttle(self, tenant: str, name: str, now: float, window_seconds: float, limit: int) -> float | None:
        hit = uuid.uuid4().hex
        wait = self._run(self._throttle, tenant, name, repr(now), repr(float(window_seconds)), limit, hit)
        self._touch(tenant)
        return None if wait is None else float(wait)

    # -- journal ---------------------------------------------------------------------------------

    def journal_append(self, entry: dict[str, Any], cap: int) -> None:
        self._journal_append(keys=[f"{self._prefix}journal"], args=[_encode(entry), max(cap, 0) - 1])

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

    # -- issued tokens (mock_server/state/issued.py) ---------------------------------------------

    def issued_tokens(self, kind: str, limit: int) -> SharedIssued:
        """Issued tokens of one kind, kept by every process of this store; `limit` of them at most."""
        return _IssuedOnRedis(self, f"{self._prefix}{ISSUED_INFIX}{{{kind}}}", limit)

    # -- tenants ---------------------------------------------------------------------------------

    def reset(self, tenant: str | None = None) -> None:
        self._reads().clear()
        self._touched.clear()
        with self._cache_guard:
            self._cached.clear()
        if tenant is not None and tenant != SERVER_WIDE:
            self._run(self._reset_tenant, tenant)
            if self._clustered:
                self._redis.zrem(self._tenants_key, tenant)
                self._redis.zrem(self._evicted_key, tenant)
            return
        # `{\*}`: the server-wide "tenant" itself, not a glob (Redis patterns escape with a backslash)
        pattern = f"{self._prefix}t:{{\\*}}:*" if tenant == SERVER_WIDE else f"{self._prefix}*"
        # The journal stays, and so do issued tokens: as in memory, a reset leaves them working (each process
        # also keeps those it has seen).
        journal, issued = f"{self._prefix}journal".encode(), f"{self._prefix}{ISSUED_INFIX}".encode()
        doomed = [
            key
            for key in self._redis.scan_iter(match=pattern, count=1000)
            if key != journal and not key.startswith(issued)
        ]
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
        return sorted(_text(member) for member in self._redis.zrange(self._tenants_key, 0, -1))

    def evicted(self, tenant: str) -> bool:
        return self._redis.zscore(self._evicted_key, tenant) is not None


_RECORDS = _DecodedRecords()  # shared by the stores of a process (the same JSON is the same record)


class _Snapshot:
    """One tenant's records of one API as one round trip read them (raw JSON, each collection in key
    order), plus this request's writes.

    It is the `TransactionSource` of transactions: their commit checks `version` is still current.
    Its dicts are never changed in place (a write replaces them), so a process's cache can share them.
    """

    def __init__(self, version: bytes | None, rows: dict[str, dict[str, bytes]], highest: dict[str, int]) -> None:
        self.version = version  # None: this request wrote without learning the new version
        self.rows = rows
        self.highest = highest

    def read(self, collection: str, key: str) -> Record | None:
        raw = self.rows.get(collection, {}).get(key)
        return None if raw is None else _RECORDS.copy(raw)

    def peek(self, collection: str, key: str) -> Record | None:
        raw = self.rows.get(collection, {}).get(key)
        return None if raw is None else _RECORDS.shared(raw)

    def read_all(self, collection: str) -> dict[str, Record]:
        """The records of `collection` in key order, shared: to read, not to change."""
        return {key: _RECORDS.shared(raw) for key, raw in self.rows.get(collection, {}).items()}

    def highest_id(self, collection: str) -> int:
        return self.highest.get(collection, 0)

    def wrote(self, collection: str, key: str, raw: bytes, version: bytes | None) -> None:
        """One record replaced; `version` the API's version after it (None: unknown, others wrote too)."""
        self.rows = {**self.rows, collection: {**self.rows.get(collection, {}), key: raw}}
        self.version = version

    def committed(self, writes: list[list[Any]], highest: dict[str, int]) -> None:
        rows = dict(self.rows)
        for collection in {write[0] for write in writes}:
            rows[collection] = dict(rows.get(collection, {}))
        for collection, key, encoded in writes:
            if encoded is None:
                rows[collection].pop(key, None)
            else:
                added = key not in rows[collection]
                rows[collection][key] = encoded.encode()
                if added:
                    rows[collection] = _in_key_order(rows[collection])
        self.rows = rows
        self.highest = {**self.highest, **{c: max(high, self.highest.get(c, 0)) for c, high in highest.items()}}
        self.version = None if self.version is None else str(int(self.version) + 1).encode()


class _ScriptConnection:
    """One connection of a store's pool, kept by the process for the request path's commands.

    redis-py's client spends about 40 µs of CPU a command (checking a connection out of the pool and back,
    encoding each argument in Python, its observability hooks); packing the command with hiredis and
    using the connection's own `send_packed_command` and `read_response` spends about 15. A worker serves
    one request at a time, so one connection is enough; a lock serialises threads.

    A connection error closes the socket (the next command opens another) after the connection's own
    `retry` policy, as redis-py's client does. A kept connection can have been closed by the server
    meanwhile (a restart, its idle `timeout`): an idempotent command, as every request's first one is
    (the open script), is then sent once more. Any other is not, since it may have run before the
    connection broke: its error is the caller's.
    """

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pid = os.getpid()
        self._pool = pool
        self._connection: Any = pool.get_connection()  # redis-py's connections are untyped
        self._lock = threading.Lock()

    def call(self, command: tuple[Arg, ...], idempotent: bool) -> Any:
        packed = [hiredis.pack_command(cast(Any, command))]  # its stub wants a 1-tuple
        connection = self._connection

        def attempt() -> Any:
            connection.send_packed_command(packed)
            return connection.read_response()

        with self._lock:
            try:
                return connection.retry.call_with_retry(attempt, lambda error: connection.disconnect())
            except (redis.ConnectionError, redis.TimeoutError):
                if not idempotent:
                    raise
            return attempt()

    def close(self) -> None:
        with self._lock:
            self._pool.release(self._connection)


class _IssuedOnRedis:
    """`SharedIssued` on a RedisStore's server: `<name>:h` a hash digest -> entry, `<name>:o` the digests in
    the order they were issued (trimmed to `limit` as each is added)."""

    def __init__(self, store: RedisStore, name: str, limit: int) -> None:
        self._store = store
        self._keys = [f"{name}:h", f"{name}:o"]
        self._limit = limit

    def put(self, digest: str, entry: str) -> None:
        self._store._eval(self._store._issued_put, self._keys, [digest, entry, self._limit])

    def get(self, digest: str) -> str | None:
        found = self._store._call("HGET", self._keys[0], digest, idempotent=True)
        return None if found is None else _text(found)

    def take(self, digest: str) -> str | None:
        found = self._store._eval(self._store._issued_take, self._keys, [digest])
        return None if found is None else _text(found)


class _Reads:
    """What one request read from one RedisStore (kept in its `RequestScope`)."""

    def __init__(self, api: str | None) -> None:
        self.api = api
        self.values: dict[tuple[str, str], Any] = {}
        self.opened: set[str] = set()  # tenants whose values were read
        self.snapshots: dict[tuple[str, str], _Snapshot] = {}

    def forget(self, tenant: str, api: str) -> None:
        self.snapshots.pop((tenant, api), None)

    def clear(self) -> None:
        self.values.clear()
        self.opened.clear()
        self.snapshots.clear()


def _in_key_order(rows: dict[str, bytes]) -> dict[str, bytes]:
    """`rows` iterating in key order (numeric ids first, by number): a snapshot's rows always do."""
    return {key: rows[key] for key in sorted(rows, key=_key_order)}


def _pairs(flat: list[Any]) -> dict[str, Any]:
    return {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


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
