"""All configuration of the mock, in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from vendor_facts import resources

DEFAULT_SPEC_DIR = resources.spec_dir()
DEFAULT_FIXTURES_DIR = resources.fixtures_dir()

# The fixtures describe contracts relative to this date (billing started or not, notice dates…),
# so the mock starts its clock here unless told otherwise; `--today system` follows the real date.
DEFAULT_TODAY = dt.date(2026, 11, 1)

MAX_BODY_BYTES = 1024 * 1024
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

    @property
    def admin_enabled(self) -> bool:
        return self.admin_token is not None or self.host in LOOPBACK_HOSTS
