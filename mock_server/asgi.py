"""The app of one `--workers N` worker: uvicorn calls `create` in each (`factory=True`).

The settings are the ones `contract-mock serve` was given, handed over whole (`Settings.to_json`).
"""

from __future__ import annotations

from mock_server.app import MockApp, create_app
from mock_server.config import Settings


def create() -> MockApp:
    return create_app(Settings.from_environment())
