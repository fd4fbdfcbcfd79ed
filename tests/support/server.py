"""Serving an app object of this process on a free loopback port, for tests that must reach into it
(the requests a wrapper recorded, the engine's own protocol tests).

Everything else starts servers as processes with `launcher.servers.bundled_mock`: the mock as
`contract-mock serve` runs it, or a broken variant of it (`tests/conformance/variant_server.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from launcher.servers import free_port

__all__ = ["free_port", "serving"]


@contextmanager
def serving(app: Any, startup_timeout: float = 10.0, **options: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread; `options` go to `uvicorn.Config` (e.g. `http=`)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False, **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
