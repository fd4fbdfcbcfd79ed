"""Tests of our own Zoho Desk client against the mock: writes, token refresh, no socket, async."""

from __future__ import annotations

import asyncio

CONTRACT = "10000000000001"  # a contract of the mock's Zoho Desk seed


def test_rename_is_stored(desk, contract_mock):
    renamed = desk.rename(CONTRACT, "Gold support 2027")
    assert renamed["contractName"] == "Gold support 2027"
    stored = contract_mock.admin.records("zoho-desk", "contracts")[CONTRACT]
    assert stored["contractName"] == "Gold support 2027"


def test_each_test_starts_from_the_seed(desk, contract_mock):
    seed_name = contract_mock.client("zoho-desk").get(f"/api/v1/contracts/{CONTRACT}").json()["contractName"]
    assert seed_name != "Gold support 2027"


def test_an_expired_token_is_refreshed(desk, contract_mock):
    desk.rename(CONTRACT, "Before expiry")
    contract_mock.admin.advance_days(1)  # access tokens live an hour on the mock's clock
    desk.rename(CONTRACT, "After expiry")
    assert desk.refreshes == 2
    statuses = [entry["status"] for entry in contract_mock.admin.requests()]
    assert statuses == [200, 200]  # the INVALID_OAUTHTOKEN answer in between is not in the mock's log


def test_without_a_socket(desk_in_process, contract_mock):
    desk_in_process.rename(CONTRACT, "In process")
    assert contract_mock.admin.records("zoho-desk", "contracts")[CONTRACT]["contractName"] == "In process"


def test_async_client_in_process(contract_mock):
    patch = [{"op": "replace", "path": "/renewalAlertDays", "value": 21}]

    async def renew() -> int:
        async with contract_mock.async_client("elevate") as client:
            response = await client.patch(
                "/customer-contracts/1", json=patch, headers={"Content-Type": "application/json-patch+json"}
            )
            return int(response.json()["renewalAlertDays"])

    assert asyncio.run(renew()) == 21
