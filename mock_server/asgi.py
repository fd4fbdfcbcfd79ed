"""`mock_server.asgi:app` for uvicorn workers: settings come from CONTRACT_MOCK_SETTINGS (JSON)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from mock_server.app import create_app
from mock_server.config import Settings


def settings_from_env() -> Settings:
    raw = json.loads(os.environ.get("CONTRACT_MOCK_SETTINGS", "{}"))
    if not raw:
        return Settings(store_url=os.environ.get("CONTRACT_MOCK_STORE") or None)
    return Settings(
        host=raw["host"],
        port=raw["port"],
        apis=tuple(raw["apis"]),
        spec_dir=Path(raw["spec_dir"]),
        fixtures_dir=Path(raw["fixtures_dir"]),
        validate_responses=raw["validate_responses"],
        admin_token=raw["admin_token"],
        today=dt.date.fromisoformat(raw["today"]) if raw["today"] else None,
        store_url=raw.get("store_url"),
        max_tenants=raw.get("max_tenants", Settings.max_tenants),
        tenant_idle_ttl_seconds=raw.get("tenant_idle_ttl_seconds", Settings.tenant_idle_ttl_seconds),
        limits=raw.get("limits", True),
        faults_file=Path(raw["faults_file"]) if raw.get("faults_file") else None,
    )


app = create_app(settings_from_env())
