"""The mock inside a test suite: the `contract_mock` fixture (loaded through the pytest11 entry
point, as users get it), its transports and admin helpers, and the example project under examples/pytest."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mock_server.engine.auth import fingerprint
from mock_server.testing import ContractMock
from mock_server.vendors import discover
from tests.support.spec_examples import example_read, example_update

VENDORS = discover()
ROOT = Path(__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT = 120


def update(mock: ContractMock, api: str, client: httpx.Client) -> httpx.Response:
    vendor, spec = VENDORS[api], mock.server.state.specs[api]
    example = example_update(spec, vendor)
    path = example.path.removeprefix(vendor.prefix)
    headers = {**example.headers, "Content-Type": example.content_type or ""}
    return client.request(example.method, path, content=example.content, headers=headers)


def read_path(mock: ContractMock, api: str) -> str:
    vendor = VENDORS[api]
    return example_read(mock.server.state.specs[api], vendor).path.removeprefix(vendor.prefix)


@pytest.mark.parametrize("api", list(VENDORS))
def test_a_write_in_process_is_seen_over_loopback_in_the_same_tenant(contract_mock, api):
    in_process = contract_mock.client(api, in_process=True)
    written = update(contract_mock, api, in_process)
    assert written.status_code == 200
    over_http = contract_mock.client(api)
    assert str(over_http.base_url).startswith("http://127.0.0.1:")
    assert over_http.get(read_path(contract_mock, api)).json() == written.json()
    assert contract_mock.admin.state()[api]


@pytest.mark.parametrize("api", list(VENDORS))
def test_async_transport(contract_mock, api):
    async def write_then_read() -> tuple[httpx.Response, httpx.Response]:
        async with contract_mock.async_client(api) as client:
            vendor, spec = VENDORS[api], contract_mock.server.state.specs[api]
            example = example_update(spec, vendor)
            headers = {**example.headers, "Content-Type": example.content_type or ""}
            path = example.path.removeprefix(vendor.prefix)
            written = await client.request(example.method, path, content=example.content, headers=headers)
            return written, await client.get(read_path(contract_mock, api), headers=example.headers)

    written, read = asyncio.run(write_then_read())
    assert written.status_code == 200
    assert read.json() == written.json()


def test_each_test_has_a_tenant_of_its_own(contract_mock):
    other = contract_mock.server.tenant()
    api = next(iter(VENDORS))
    try:
        assert contract_mock.token(api) != other.token(api)
        assert contract_mock.token(api).endswith("." + contract_mock.suffix)
        update(contract_mock, api, contract_mock.client(api))
        assert contract_mock.admin.state()[api]
        assert other.admin.state() == {}
    finally:
        other.close()


def test_headers_carry_the_credentials_and_organisation(contract_mock):
    for api, vendor in VENDORS.items():
        headers = contract_mock.headers(api)
        auth_prefix = contract_mock.server.state.specs[api].auth_prefix
        assert headers["Authorization"] == f"{auth_prefix} {contract_mock.token(api)}"
        assert (vendor.org_header in headers) == bool(vendor.org_header)


def test_unknown_api_is_named(contract_mock):
    with pytest.raises(KeyError, match="no API 'nope'"):
        contract_mock.base_url("nope")


def test_admin_reset_state_and_requests(contract_mock):
    api = next(iter(VENDORS))
    client = contract_mock.client(api)
    written = update(contract_mock, api, client).json()
    assert client.get(read_path(contract_mock, api)).json() == written
    logged = contract_mock.admin.requests()
    assert [entry["method"] for entry in logged][-2:] == [update_method(contract_mock, api), "GET"]
    assert {entry["tenant"] for entry in logged} == {fingerprint(contract_mock.token(api))}
    contract_mock.admin.reset()
    assert contract_mock.admin.state() == {}
    assert client.get(read_path(contract_mock, api)).json() != written


def update_method(mock: ContractMock, api: str) -> str:
    return example_update(mock.server.state.specs[api], VENDORS[api]).method


def test_clock_helpers_move_the_clock_and_closing_puts_it_back(contract_mock_server):
    with contract_mock_server.tenant() as mock:
        start = mock.admin.today()
        assert mock.admin.advance_days(3) == start + dt.timedelta(days=3)
        assert mock.admin.set_today(dt.date(2027, 1, 31)) == dt.date(2027, 1, 31)
    with contract_mock_server.tenant() as after:
        assert after.admin.today() == start


def test_closing_resets_the_tenant_and_closes_its_clients(contract_mock_server):
    mock = contract_mock_server.tenant()
    api = next(iter(VENDORS))
    client = mock.client(api)
    update(mock, api, client)
    mock.close()
    assert client.is_closed
    with contract_mock_server.tenant(mock.suffix) as same_tenant:
        assert same_tenant.admin.state() == {}


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )


def test_example_project_passes_with_the_installed_plugin():
    result = run_pytest(ROOT / "examples" / "pytest")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_plugin_is_inert_for_suites_that_do_not_use_it():
    """pytest imports the plugin in every run: it must load nothing of the mock until a test asks for it."""
    check = (
        "import sys, mock_server.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('mock_server', 'connexion', 'uvicorn', 'httpx'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=True
    )
    assert result.stdout.strip() == "['mock_server', 'mock_server.pytest_plugin']"


def test_transport_resolves_relative_urls_against_the_api(contract_mock):
    """The README's sync example: your own client, no socket, no absolute URL."""
    headers = contract_mock.headers("elevate")
    with httpx.Client(transport=contract_mock.transport("elevate"), headers=headers) as client:
        assert client.get("/customer-contracts/1").json()["id"] == 1
    with httpx.Client(transport=contract_mock.transport("elevate"), base_url="/customer-contracts") as client:
        assert client.get("/1", headers=headers).json()["id"] == 1
    with httpx.Client(transport=contract_mock.transport(), headers=headers) as client:  # the mock's root
        assert client.get("/elevate/customer-contracts/1").json()["id"] == 1


@pytest.mark.anyio
async def test_async_transport_in_an_anyio_test(contract_mock):
    """The README's async example: `pytest.mark.anyio` (anyio's pytest plugin comes with httpx)."""
    transport = contract_mock.async_transport("elevate")
    async with httpx.AsyncClient(transport=transport, headers=contract_mock.headers("elevate")) as client:
        response = await client.get("/customer-contracts/1")
    assert response.status_code == 200
    assert response.json()["id"] == 1
