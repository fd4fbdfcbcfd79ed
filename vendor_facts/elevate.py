"""Elevate billing: what the vendor is (its behaviour is `mock_server.vendors.elevate`)."""

from __future__ import annotations

from vendor_facts.model import Resource, VendorFacts

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

FACTS = VendorFacts(
    name="elevate",
    title="Elevate billing",
    references=REFERENCES,
    resources={"/customer-contracts/{customer_contract_id}": Resource(CONTRACTS, CONTRACT_SCHEMA)},
)
