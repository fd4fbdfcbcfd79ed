"""Union Street aBILLity: what the vendor is (its behaviour is `mock_server.vendors.abillity`)."""

from __future__ import annotations

from vendor_facts.model import Resource, VendorFacts

CONTRACTS = "contracts"
VIEW_SCHEMA = "ContractView"

REFERENCES = {
    CONTRACTS: {
        "CompanyID": "companies",
        "AccountManagerID": "account_managers",
        "AgentCompanyID": "agent_companies",
        "AgentContactID": "agent_contacts",
        "NetworkProviderID": "network_providers",
    },
    "agent_contacts": {"AgentCompanyID": "agent_companies"},
    "users": {"CompanyIDs[]": "companies"},
}

FACTS = VendorFacts(
    name="abillity",
    title="Union Street aBILLity",
    references=REFERENCES,
    resources={"/api/contract/{id}": Resource(CONTRACTS, VIEW_SCHEMA, id_member="ContractID")},
)
