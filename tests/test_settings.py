"""One `Settings`, handed whole to `--workers N` workers: a worker runs with every setting the single process has."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mock_server import _compat, asgi, cli
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, SETTINGS_ENV, Settings


def every_setting_changed(tmp_path: Path, store_url: str) -> Settings:
    """Settings that differ from the defaults in every field, and still start (real specs and fixtures)."""
    (tmp_path / "specs").symlink_to(DEFAULT_SPEC_DIR, target_is_directory=True)
    (tmp_path / "fixtures").symlink_to(DEFAULT_FIXTURES_DIR, target_is_directory=True)
    faults = tmp_path / "faults.yaml"
    faults.write_text("faults:\n  - fault: status\n    status: 429\n    api: revnue\n    method: GET\n")
    changed: dict[str, Any] = {
        "host": "127.0.0.2",
        "port": 9999,
        "apis": ("revnue", "elevate"),
        "spec_dir": tmp_path / "specs",
        "fixtures_dir": tmp_path / "fixtures",
        "validate_responses": True,
        "admin_token": "admin-secret",
        "today": dt.date(2027, 2, 3),
        "max_body_bytes": 4096,
        "request_log_size": 7,
        "swagger_ui": False,
        "store_url": store_url,
        "max_tenants": 3,
        "tenant_idle_ttl_seconds": 60.0,
        "limits": False,
        "faults_file": faults,
        "cache_dir": tmp_path / "cache",
    }
    # a new setting fails here until it has a value above: every one is checked below
    assert set(changed) == {field.name for field in dataclasses.fields(Settings)}
    settings = Settings(**changed)
    assert all(getattr(settings, name) != getattr(Settings(), name) for name in changed)
    return settings


def test_settings_survive_the_hand_over_whole(tmp_path: Path) -> None:
    settings = every_setting_changed(tmp_path, "redis://127.0.0.1:1/0")
    assert Settings.from_environment({SETTINGS_ENV: settings.to_json()}) == settings


def test_without_handed_over_settings_a_worker_takes_the_defaults_and_the_store_url() -> None:
    assert Settings.from_environment({}) == Settings()
    assert Settings.from_environment({"CONTRACT_MOCK_STORE": "redis://h:1/2"}) == Settings(store_url="redis://h:1/2")


def test_a_worker_builds_its_app_from_every_setting_serve_was_given(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = every_setting_changed(tmp_path, redis_url)
    started: dict[str, Any] = {}
    # uvicorn's process manager is not started: what it would import in each worker is called here instead
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    monkeypatch.setattr(  # the same, where each worker listens on a socket of its own
        _compat,
        "serve_workers",
        lambda config: started.update(app=config.app, factory=config.factory, workers=config.workers),
    )
    monkeypatch.setenv(SETTINGS_ENV, "")  # restored afterwards: serve() sets it for the workers

    assert cli.serve(settings, workers=2) == 0

    assert (started["app"], started["factory"], started["workers"]) == ("mock_server.asgi:create", True, 2)
    worker = asgi.create()
    assert worker.state.settings == settings
