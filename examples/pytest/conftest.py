"""The example project's fixtures: its own client, pointed at the `contract_mock` fixture's mock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from desk_client import DeskContracts

from mock_server.config import Settings
from mock_server.testing import ContractMock

DESK = "zoho-desk"


@pytest.fixture(scope="session")
def contract_mock_settings() -> Settings:
    """Serve only the APIs this project talks to."""
    return Settings(apis=(DESK, "elevate"))


def desk_for(contract_mock: ContractMock, http: httpx.Client) -> DeskContracts:
    return DeskContracts(
        http,
        accounts_url=contract_mock.base_url(DESK),  # the mock serves Zoho accounts' /oauth/v2/token there
        org_id=contract_mock.headers(DESK)["orgId"],
        client_id="example-client",
        client_secret="example-secret",
        refresh_token=contract_mock.token(DESK),  # this test's tenant
    )


@pytest.fixture
def desk(contract_mock: ContractMock) -> Iterator[DeskContracts]:
    """Our client over real HTTP to the mock on loopback."""
    with httpx.Client(timeout=10) as http:
        yield desk_for(contract_mock, http)


@pytest.fixture
def desk_in_process(contract_mock: ContractMock) -> Iterator[DeskContracts]:
    """The same client with no socket at all: httpx serves the mock in this process."""
    with httpx.Client(transport=contract_mock.transport(), timeout=10) as http:
        yield desk_for(contract_mock, http)
