"""Revnue Contracts API v2: what the vendor is (its behaviour is `mock_server.vendors.revnue`)."""

from __future__ import annotations

from vendor_facts.model import Limits, RateLimit, Resource, VendorFacts

CONTRACTS = "contracts"
RESPONSE = "Contract"  # the contract as clients read it
REFERENCES = {
    CONTRACTS: {
        "company": "companies",
        "parent_contract": "contracts",
        "customer": "customers",
        "supplier": "suppliers",
        "country": "countries",
        "category.id": "categories",
        "business_unit": "business_units",
        "template.id": "custom_field_templates",
    }
}
# relations a response expands into an object, stored (and written) as the related record's id
EXPANDED_RELATIONS = ("parent_contract", "customer", "supplier", "business_unit")

FACTS = VendorFacts(
    name="revnue",
    title="Revnue",
    references=REFERENCES,
    limits=Limits(rate=RateLimit(requests=100, window_seconds=60)),  # "100 requests per minute per account"
    resources={"/api/v2/contract/{id}": Resource(CONTRACTS, RESPONSE, expanded=EXPANDED_RELATIONS)},
)
