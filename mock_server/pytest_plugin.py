"""pytest plugin: the `contract_mock` fixture, the mock inside your own test suite.

Installed as a `pytest11` entry point, so pytest loads it in every run of the environment: it only
defines fixtures, and imports and starts nothing until a test asks for `contract_mock`. The mock is
then served once per session on a free loopback port; each test gets a tenant of its own.

    def test_rename(contract_mock):
        client = contract_mock.client("<api>")              # base URL and credentials set
        assert client.get("/<the vendor's path>").status_code == 200

Override `contract_mock_settings` (session scope) in a conftest.py to choose APIs, fixtures or today.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mock_server.config import Settings
    from mock_server.testing import ContractMock, MockServer


@pytest.fixture(scope="session")
def contract_mock_settings() -> Settings:
    """The mock's settings (host and port are chosen by the fixture)."""
    from mock_server.config import Settings

    return Settings()


@pytest.fixture(scope="session")
def contract_mock_server(contract_mock_settings: Settings) -> Iterator[MockServer]:
    """The mock on 127.0.0.1:<free port>, started on first use, stopped at the end of the session."""
    from mock_server.testing import MockServer

    with MockServer(contract_mock_settings) as server:
        yield server


@pytest.fixture
def contract_mock(contract_mock_server: MockServer) -> Iterator[ContractMock]:
    """The mock for one test: a fresh tenant, clients, in-process transports and admin helpers."""
    with contract_mock_server.tenant() as mock:
        yield mock
