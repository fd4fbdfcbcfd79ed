"""Elevate billing: what the vendor is (its behaviour is `mock_server.vendors.elevate`)."""

from __future__ import annotations

import datetime as dt

from vendor_facts.model import LoginDescription, Resource, VendorFacts

CONTRACTS = "customerContracts"
CONTRACT_SCHEMA = "CustomerContract"

REFERENCES = {
    CONTRACTS: {
        "customerId": "customers",
        "siteId": "sites",
        "contractProfileId": "contractProfiles",
        "rolloverContractProfileId": "contractProfiles",
        "previousCustomerContractId": CONTRACTS,
        "renewedCustomerContractId": CONTRACTS,
    },
    "sites": {"customerId": "customers"},
}

# vendors.md: "tokens from POST /authenticate, valid 15 min" (the body's members are x-likely: see the spec).
LOGIN = LoginDescription(
    operation_id="authenticate",
    path="/authenticate",
    credentials_schema="Credentials",
    token_lifetime=dt.timedelta(minutes=15),
)

FACTS = VendorFacts(
    name="elevate",
    title="Elevate billing",
    references=REFERENCES,
    resources={"/customer-contracts/{customer_contract_id}": Resource(CONTRACTS, CONTRACT_SCHEMA)},
    login=LOGIN,
)
