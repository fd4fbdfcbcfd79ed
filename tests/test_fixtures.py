"""Fixture folders load, reference only records that exist, and hold the ids docs and checks use."""

import pytest

from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.fixtures import dangling_references, load_fixtures, load_seed
from mock_server.spec import SpecView
from mock_server.vendors import discover

VENDORS = discover()

# (api, path, headers beyond the token) of records that issue #2 requires to exist
REQUIRED_RECORDS = [
    ("elevate", "/customer-contracts/1"),
    ("elevate", "/customer-contracts/2"),
    ("abillity", "/api/contract/1"),
    ("zoho-desk", "/api/v1/contracts/10000000000001"),
    ("revnue", "/api/v2/contract/1"),
    ("revnue", "/api/v2/contract/2"),
]
MISSING = {
    "elevate": "/customer-contracts/999999",
    "abillity": "/api/contract/999999",
    "zoho-desk": "/api/v1/contracts/999999",
    "revnue": "/api/v2/contract/999999",
}


def headers_for(api: str, token: str = "dev-token") -> dict[str, str]:
    vendor = VENDORS[api]
    auth_prefix = SpecView.load(DEFAULT_SPEC_DIR / f"{api}.yaml").auth_prefix
    headers = {"Authorization": f"{auth_prefix} {token}"}
    if vendor.org_header:
        headers[vendor.org_header] = "60000000001"
    return headers


@pytest.mark.parametrize("api", sorted(VENDORS))
def test_fixture_folder_loads_without_dangling_references(api):
    vendor = VENDORS[api]
    fixtures = load_fixtures(vendor, DEFAULT_FIXTURES_DIR)
    assert fixtures.seed and dangling_references(vendor, fixtures.seed) == []
    assert fixtures.tokens.lookup("dev-token") is not None
    assert fixtures.tokens.lookup("readonly-token") is not None


@pytest.mark.parametrize("api", sorted(VENDORS))
def test_every_declared_reference_names_a_seeded_collection(api):
    seed = load_seed(DEFAULT_FIXTURES_DIR / api / "seed.yaml")
    for collection, fields in VENDORS[api].references.items():
        assert collection in seed
        assert set(fields.values()) <= set(seed), fields


@pytest.mark.parametrize("api, path", REQUIRED_RECORDS)
def test_required_records_exist(client, api, path):
    assert client.get(f"/{api}{path}", headers=headers_for(api)).status_code == 200


@pytest.mark.parametrize("api", sorted(MISSING))
def test_id_999999_exists_in_no_api(client, api):
    assert client.get(f"/{api}{MISSING[api]}", headers=headers_for(api)).status_code == 404


@pytest.mark.parametrize("api", sorted(VENDORS))
def test_readonly_token_reads_everywhere(client, api):
    path = next(p for a, p in REQUIRED_RECORDS if a == api)
    assert client.get(f"/{api}{path}", headers=headers_for(api, "readonly-token")).status_code == 200
