"""Loading each vendor's fixture folder: seed records and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mock_server.engine.auth import TokenRegistry
from mock_server.engine.references import dangling
from mock_server.state.store import Collections
from mock_server.vendors.base import Vendor
from openapi_model import load_yaml_file


class FixtureError(Exception):
    """A fixture folder that cannot be served: missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class VendorFixtures:
    seed: Collections
    tokens: TokenRegistry


def _read_yaml(path: Path, cache_dir: Path | None = None) -> Any:
    """The file's data; with `cache_dir`, parsed once per content (`openapi_model.load_yaml_file`)."""
    try:
        return load_yaml_file(path, cache_dir)
    except FileNotFoundError as exc:
        raise FixtureError(f"{path}: missing") from exc
    except yaml.YAMLError as exc:
        raise FixtureError(f"{path}: not valid YAML: {exc}") from exc


def load_seed(path: Path, cache_dir: Path | None = None) -> Collections:
    data = _read_yaml(path, cache_dir) or {}
    if not isinstance(data, dict):
        raise FixtureError(f"{path}: expected a mapping of collection -> id -> record")
    seed: Collections = {}
    for collection, rows in data.items():
        if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
            raise FixtureError(f"{path}: collection {collection!r} must map ids to records")
        seed[str(collection)] = {str(key): record for key, record in rows.items()}
    return seed


def dangling_references(vendor: Vendor, seed: Collections) -> list[str]:
    """Human-readable descriptions of references in the seed that point at missing records."""

    def exists(collection: str, key: object) -> bool:
        return str(key) in seed.get(collection, {})

    problems = []
    for collection, fields in vendor.references.items():
        for key, record in seed.get(collection, {}).items():
            for error in dangling(fields, record, exists):
                problems.append(f"{collection}[{key}].{error.dotted}: {error.message}")
    return problems


def load_fixtures(vendor: Vendor, fixtures_dir: Path, cache_dir: Path | None = None) -> VendorFixtures:
    """The vendor's seed and tokens; with `cache_dir`, each file is parsed once per content."""
    folder = fixtures_dir / vendor.name
    seed = load_seed(folder / "seed.yaml", cache_dir)
    problems = dangling_references(vendor, seed)
    if vendor.check_seed is not None:
        problems += vendor.check_seed(seed)
    if problems:
        raise FixtureError(f"{folder / 'seed.yaml'}: dangling references or broken rules:\n  " + "\n  ".join(problems))
    auth = _read_yaml(folder / "auth.yaml", cache_dir) or {}
    try:
        tokens = TokenRegistry.from_fixture(auth)
    except (KeyError, TypeError, AttributeError) as exc:
        raise FixtureError(f"{folder / 'auth.yaml'}: expected 'tokens: [{{token, principal, scopes}}]': {exc}") from exc
    return VendorFixtures(seed=seed, tokens=tokens)
