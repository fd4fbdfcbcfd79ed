from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.state.backends import StoreFactory, store_from_settings
from mock_server.state.redis_store import RedisStore
from mock_server.state.store import InMemoryStore, Seeds, Store
from tests.support import widgets
from tests.support.redis_server import redis_server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-backend",
        choices=("memory", "redis"),
        default="memory",
        help="the store every app built with default settings uses (`make test` runs tests/vendors on both)",
    )


@pytest.fixture(scope="session", autouse=True)
def store_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """With --store-backend redis, mocks started as processes (`CONTRACT_MOCK_STORE`) and apps built with
    `create_app(..., store=app_store)` keep their state on a real redis-server."""
    backend = request.config.getoption("--store-backend")
    if backend == "memory":
        yield backend
        return
    url = request.getfixturevalue("redis_url")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONTRACT_MOCK_STORE", url[: url.rindex("/")] + "/1")
        yield backend


@pytest.fixture(scope="session")
def app_store(store_backend: str, request: pytest.FixtureRequest) -> StoreFactory | None:
    """The store of the apps the vendor tests build (`create_app`'s seam): the settings' own, or Redis."""
    if store_backend == "memory":
        return None
    url = request.getfixturevalue("redis_url")

    def redis_store(settings: Settings, seeds: Seeds) -> Store:
        if settings.store_url is not None:
            return store_from_settings(settings, seeds)
        return RedisStore.from_url(
            url,
            seeds,
            prefix=f"app-{uuid.uuid4().hex[:12]}:",
            max_tenants=settings.max_tenants,
            tenant_idle_ttl=settings.tenant_idle_ttl_seconds,
        )

    return redis_store


@pytest.fixture(scope="session")
def widgets_app():
    return create_app(widgets.SETTINGS, vendors={"widgets": widgets.VENDOR})


@pytest.fixture
def widgets_client(widgets_app) -> Iterator[TestClient]:
    with widgets_app.test_client() as client:
        yield client


@pytest.fixture(scope="session")
def mock_app():
    """The real mock with every vendor, validating its own responses against the specs."""
    return create_app(Settings(validate_responses=True))


@pytest.fixture
def client(mock_app) -> Iterator[TestClient]:
    with mock_app.test_client() as test_client:
        yield test_client


@pytest.fixture
def token() -> str:
    """A derived token of dev-token: every grant, and a tenant of its own for this test."""
    return f"dev-token.{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """One real redis-server for the whole session; tests keep apart by key prefix (`redis_prefix`)."""
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", "redis", "redis-watch"])
def make_store(request):
    """A factory of empty stores of each backend: `make_store(seeds, max_tenants=..., tenant_idle_ttl=...)`."""
    if request.param == "memory":
        return InMemoryStore
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    client = redis.Redis.from_url(url)
    request.addfinalizer(client.close)
    strategy = "watch" if request.param == "redis-watch" else "lua"
    return lambda seeds, **bounds: RedisStore(client, seeds, prefix=prefix, update_strategy=strategy, **bounds)


@pytest.fixture(scope="session")
def recordings(tmp_path_factory):
    """Recordings of the same calls through the proxy to each API's mock, as documented and departing."""
    from tests.support.departures import Recordings

    with ExitStack() as stack:
        yield Recordings(tmp_path_factory.mktemp("recordings"), stack)
