"""The store the settings name: in memory by default, Redis for `--store redis://…`.

Apart from `store.py` so that the interface does not import its Redis implementation (no cycle).
"""

from __future__ import annotations

from collections.abc import Callable

from mock_server.config import Settings
from mock_server.state.store import InMemoryStore, Seeds, Store, StoreUnavailable

# (settings, seeds) -> the store an app keeps its state in: `create_app(settings, store=...)`
StoreFactory = Callable[[Settings, Seeds], Store]

STORE_SCHEMES = ("redis://", "rediss://", "unix://", "redis-cluster://")


def store_from_settings(settings: Settings, seeds: Seeds) -> Store:
    """The backend the settings name: in memory by default, Redis for `store_url`."""
    if settings.store_url is None:
        return InMemoryStore(seeds, settings.max_tenants, settings.tenant_idle_ttl_seconds)
    if not settings.store_url.startswith(STORE_SCHEMES):
        raise StoreUnavailable(f"--store must be a URL starting with {', '.join(STORE_SCHEMES)}")
    from mock_server.state.redis_store import RedisStore  # only when asked for: redis-py stays unimported

    store = RedisStore.from_url(
        settings.store_url, seeds, max_tenants=settings.max_tenants, tenant_idle_ttl=settings.tenant_idle_ttl_seconds
    )
    store.check()
    return store
