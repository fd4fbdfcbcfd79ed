"""All configuration of the mock, in one place: one `Settings`, built once (from flags by `cli.py`, or
from the environment by a worker), passed to `create_app`, and handed to workers whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_facts import resources

DEFAULT_SPEC_DIR = resources.spec_dir()
DEFAULT_FIXTURES_DIR = resources.fixtures_dir()

# The fixtures describe contracts relative to this date (billing started or not, notice dates…),
# so the mock starts its clock here unless told otherwise; `--today system` follows the real date.
DEFAULT_TODAY = dt.date(2026, 11, 1)

MAX_BODY_BYTES = 1024 * 1024
SETTINGS_ENV = "CONTRACT_MOCK_SETTINGS"  # the whole Settings as JSON, for `--workers N` workers
STORE_ENV = "CONTRACT_MOCK_STORE"  # the default --store
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    apis: tuple[str, ...] = ()  # empty = every vendor found
    spec_dir: Path = DEFAULT_SPEC_DIR
    fixtures_dir: Path = DEFAULT_FIXTURES_DIR
    validate_responses: bool = False
    admin_token: str | None = None
    today: dt.date | None = DEFAULT_TODAY  # None = the system date
    max_body_bytes: int = MAX_BODY_BYTES
    request_log_size: int = 200
    swagger_ui: bool = True
    store_url: str | None = None  # None = in memory; redis://HOST:PORT/DB = shared by workers and replicas
    max_tenants: int = 10_000
    tenant_idle_ttl_seconds: float = 86_400.0
    limits: bool = True  # enforce the vendors' documented limits (`--limits off`)
    faults_file: Path | None = None  # faults installed at start (`--faults FILE.yaml`)
    # where start-up may remember what it computed from the specs (None: nowhere; `serve`: the user's cache)
    cache_dir: Path | None = None

    @property
    def admin_enabled(self) -> bool:
        return self.admin_token is not None or self.host in LOOPBACK_HOSTS

    def to_json(self) -> str:
        """Every setting, as JSON: `Settings.from_json` gives this object back."""
        return json.dumps({field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        raw: dict[str, Any] = json.loads(text)
        hints = typing.get_type_hints(cls)
        return cls(**{name: _typed(hints[name], value) for name, value in raw.items()})

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """A worker's settings: the ones its parent process serialised, or the defaults and the store URL."""
        if environ.get(SETTINGS_ENV):
            return cls.from_json(environ[SETTINGS_ENV])
        return cls(store_url=environ.get(STORE_ENV) or None)


def user_cache_dir() -> Path:
    """The kit's folder in the user's cache (XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "contract-mock-kit"


def _plain(value: Any) -> Any:
    if isinstance(value, Path | dt.date):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _typed(hint: Any, value: Any) -> Any:
    """`value` read from JSON as the type the field declares (`_plain` in reverse)."""
    kinds = {typing.get_origin(hint) or hint, *typing.get_args(hint)}
    if value is None:
        return None
    if Path in kinds:
        return Path(value)
    if dt.date in kinds:
        return dt.date.fromisoformat(value)
    if tuple in kinds:
        return tuple(value)
    return value


__all__ = ["DEFAULT_FIXTURES_DIR", "DEFAULT_SPEC_DIR", "DEFAULT_TODAY", "Settings"]
