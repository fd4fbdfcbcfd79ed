"""The app of one `--workers N` worker: uvicorn calls `create` in each (`factory=True`).

The settings are the ones `contract-mock serve` was given, handed over whole (`Settings.to_json`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server import _compat, startup
from mock_server.config import Settings

if TYPE_CHECKING:
    from mock_server.app import MockApp


def create() -> MockApp:
    with startup.collector_paused():  # as `contract-mock serve` builds its app
        _compat.defer_unused_imports()
        from mock_server.app import create_app

        return create_app(Settings.from_environment())
