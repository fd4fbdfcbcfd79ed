from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.store import InMemoryStore
from tests.support import widgets


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


@pytest.fixture(params=["memory"])
def make_store(request):
    """A factory of empty stores of each backend: `make_store(seeds, max_tenants=..., tenant_idle_ttl=...)`."""

    def make(seeds, **bounds):
        return InMemoryStore(seeds, **bounds)

    return make
