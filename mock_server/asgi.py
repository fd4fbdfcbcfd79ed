"""The app `contract-mock serve` runs: `create` in each `--workers N` worker (uvicorn calls it, `factory=True`),
and `served`, which both serving paths wrap the app in.

The settings are the ones `contract-mock serve` was given, handed over whole (`Settings.to_json`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server import _compat, startup
from mock_server.config import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mock_server.app import MockApp


def create() -> ASGIApp:
    with startup.collector_paused():  # as `contract-mock serve` builds its app
        _compat.defer_unused_imports()
        from mock_server.app import create_app

        return served(create_app(Settings.from_environment()))


def served(app: MockApp) -> ASGIApp:
    """The app as served: on a Redis store, with each request's first read awaited before it runs."""
    prefetched = getattr(app.state.store, "prefetched", None)  # `RedisStore` (not imported for the memory store)
    return app if prefetched is None else FirstReadAwaited(app, prefetched)


class FirstReadAwaited:
    """A request to an API, with a token of the API's own, finds its first read of the store made, and the
    worker served others while Redis answered it (`RedisStore.prefetched`). Any other request (an issued
    token, the admin API…) reads as it would without."""

    def __init__(self, app: MockApp, prefetched: Any) -> None:
        from mock_server.engine.auth import fingerprint  # here: Connexion's imports are deferred first (`create`)
        from mock_server.engine.facts import Credentials

        self.app = app
        self.state = app.state
        self._prefetched = prefetched
        self._fingerprint, self._credentials = fingerprint, Credentials.parse
        self._apis = [(vendor.prefix.rstrip("/") + "/", name) for name, vendor in app.state.vendors.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope) if scope["type"] == "http" else None
        if target is None:
            await self.app(scope, receive, send)
            return
        async with self._prefetched(*target):
            await self.app(scope, receive, send)

    def _target(self, scope: Scope) -> tuple[str, str] | None:
        """(tenant, API) of a request to an API with a token the API knows, else None."""
        path = scope["path"] + "/"
        api = next((name for prefix, name in self._apis if path.startswith(prefix)), None)
        if api is None:
            return None
        header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        credentials = self._credentials(header.decode("latin-1")) if header is not None else None
        if credentials is None or not credentials.token or self.state.tokens[api].lookup(credentials.token) is None:
            return None
        return self._fingerprint(credentials.token), api
