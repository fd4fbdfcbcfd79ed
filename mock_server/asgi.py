"""The app of one `--workers N` worker: uvicorn calls `create` in each (`factory=True`).

The settings are the ones `contract-mock serve` was given, handed over whole (`Settings.to_json`).
"""

from __future__ import annotations

import gc

from mock_server.app import MockApp, create_app
from mock_server.config import Settings


def create() -> MockApp:
    app = create_app(Settings.from_environment())
    freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Move what start-up built (the specs, validators, seeds: ~70 000 objects) out of the garbage collector's
    sight. Nothing of it is ever garbage, yet each full collection walked all of it: a ~45 ms pause on the
    event loop every few thousand requests, felt by every request in flight (bench/README.md, "Throughput")."""
    gc.collect()
    gc.freeze()
