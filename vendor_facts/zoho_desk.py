"""Zoho Desk: what the vendor is (its behaviour is `mock_server.vendors.zoho_desk`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from vendor_facts.model import Edition, ErrorAnswer, Limits, OAuthDescription, Resource, VendorFacts

CONTRACTS = "contracts"

REFERENCES = {
    CONTRACTS: {
        "associatedSLAId": "slas",
        "accountId": "accounts",
        "departmentId": "departments",
        "productId": "products",
        "ownerId": "agents",
        "notificationAgentIds[]": "agents",
        "createdBy": "agents",
        "modifiedBy": "agents",
    },
    "slas": {"departmentId": "departments"},
    "agents": {"associatedDepartmentIds[]": "departments"},
}

# Request attributes that echo the related records: the service derives them from the ids.
ECHOED_RELATIONS = ("sla", "account", "product")

# Editions documented with their limits (the ones between Free and Enterprise are not).
EDITIONS = {
    "free": Edition(concurrent_calls=5, daily_credits=5_000),
    "enterprise": Edition(concurrent_calls=25, daily_credits=100_000),
}

# Zoho accounts (accounts.zoho.com/oauth/v2/...): access tokens live an hour; a bad or used grant code
# or refresh token is `{"error": "invalid_code"}`, answered with a 200 (x-likely: widely reported, not
# in the seed); an expired access token is INVALID_OAUTHTOKEN on the API.
OAUTH = OAuthDescription(
    token_path="/oauth/v2/token",
    authorize_path="/oauth/v2/auth",
    expired_token=ErrorAnswer(
        401, "invalid_token", "The OAuth Token you provided is invalid or has expired.", code="INVALID_OAUTHTOKEN"
    ),
    access_token_lifetime=dt.timedelta(hours=1),
    error_status=200,
)


def parsed_date(value: str) -> dt.date | None:
    """A `YYYY-MM-DD` date, or None for anything else."""
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def notify_on(end_date: str | None, notify_before: int | None) -> str | None:
    """`notifyOn`: `notifyBefore` days before the `endDate`."""
    end = None if end_date is None else parsed_date(end_date)
    if end is None or notify_before is None:
        return None
    return (end - dt.timedelta(days=notify_before)).isoformat()


def notify_on_of_view(view: Mapping[str, Any]) -> str | None:
    """`notifyOn` as it follows from the `endDate` and `notifyBefore` a client reads."""
    notify_before = view.get("notifyBefore")
    if notify_before is None or not str(notify_before).isdigit():
        return None
    return notify_on(view.get("endDate"), int(notify_before))


FACTS = VendorFacts(
    name="zoho-desk",
    title="Zoho Desk",
    org_header="orgId",
    references=REFERENCES,
    limits=Limits(editions=EDITIONS, default_edition="enterprise"),
    resources={
        "/api/v1/contracts/{contract_id}": Resource(
            CONTRACTS, "Contract", derived={"notifyOn": notify_on_of_view}, expanded=ECHOED_RELATIONS
        )
    },
    oauth=OAUTH,
)
