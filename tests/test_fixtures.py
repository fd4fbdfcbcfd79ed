"""Fixture folders load, reference only records that exist, and hold the ids docs and checks use."""

import pytest

from conformance.apis import discover as discover_apis
from mock_server.config import DEFAULT_FIXTURES_DIR
from mock_server.state.fixtures import dangling_references, load_fixtures, load_seed
from mock_server.vendors import discover
from tests.conformance import records

VENDORS = discover()

APIS = discover_apis()
# Records the scenarios change (their `restore:` paths) and the spec's example record must exist.
REQUIRED_RECORDS = sorted(
    {
        (name, path)
        for name, api in APIS.items()
        for path in {records.record_path(api), *records.restored_record_paths(api)}
    }
)


def headers_for(api: str, token: str = "dev-token") -> dict[str, str]:
    return records.bundled_headers(APIS[api], token)


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


@pytest.mark.parametrize("api", sorted(APIS))
def test_the_fixture_folders_missing_id_exists_nowhere(client, api):
    assert client.get(f"/{api}{records.missing_record_path(APIS[api])}", headers=headers_for(api)).status_code == 404


@pytest.mark.parametrize("api", sorted(VENDORS))
def test_readonly_token_reads_everywhere(client, api):
    path = records.record_path(APIS[api])
    assert client.get(f"/{api}{path}", headers=headers_for(api, "readonly-token")).status_code == 200


@pytest.mark.parametrize("api", sorted(VENDORS))
def test_fixtures_kept_parsed_are_the_fixtures_parsed(api, tmp_path):
    """`load_fixtures` with a cache (as `serve` loads them) reads the same seed and tokens, parsing each
    file once per content."""
    fresh = load_fixtures(VENDORS[api], DEFAULT_FIXTURES_DIR)
    first, again = (load_fixtures(VENDORS[api], DEFAULT_FIXTURES_DIR, tmp_path) for _ in range(2))
    assert fresh.seed == first.seed == again.seed
    assert again.seed is not first.seed
    assert sorted(fresh.tokens.tokens()) == sorted(again.tokens.tokens())
    for token in fresh.tokens.tokens():
        assert fresh.tokens.lookup(token) == again.tokens.lookup(token)
    assert len(list((tmp_path / "yaml").iterdir())) == 2  # seed.yaml and auth.yaml
