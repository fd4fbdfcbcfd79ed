"""`vendor_facts`: what each vendor is, stated once, read alike by the mock and the harness."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.apis import discover as discover_apis
from conformance.exchange_spec import contract_for
from mock_server.vendors import discover as discover_mock_vendors
from openapi_model import ApiSpec, load_yaml
from vendor_facts import VendorFacts, discover, resources

FACTS = discover()


def test_every_api_has_facts_and_a_mock_module() -> None:
    assert set(FACTS) == set(discover_apis()) == set(discover_mock_vendors())


@pytest.mark.parametrize("name", sorted(FACTS))
def test_the_mock_behaves_as_the_vendor_the_facts_describe(name: str) -> None:
    vendor = discover_mock_vendors()[name]
    facts = {field.name: getattr(vendor, field.name) for field in dataclasses.fields(VendorFacts)}
    assert VendorFacts(**facts) == FACTS[name]


@pytest.mark.parametrize("name", sorted(FACTS))
def test_the_harness_reads_the_same_facts(name: str) -> None:
    assert contract_for(discover_apis()[name]).vendor is FACTS[name]


@pytest.mark.parametrize("name", sorted(FACTS))
def test_resources_name_what_the_spec_and_the_seed_have(name: str) -> None:
    spec = ApiSpec.load(resources.spec_path(name))
    seed = load_yaml((resources.fixture_dir(name) / "seed.yaml").read_text(encoding="utf-8"))
    paths = {operation.path for operation in spec.operations}
    for template, resource in FACTS[name].resources.items():
        members = spec.property_names(resource.view_schema)
        assert template in paths
        assert resource.collection in seed
        assert {resource.id_member, *resource.derived, *resource.expanded} <= set(members)
