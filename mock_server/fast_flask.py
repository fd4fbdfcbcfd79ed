"""Runs the Flask app on the event loop's thread instead of in a2wsgi's thread pool.

Connexion's FlaskApp hands every request to a2wsgi, which runs Flask in a worker thread and passes
each ASGI message across threads: four to five thread switches per request, under the GIL, cost more
than the mock's own work (profile in bench/README.md). The mock's handlers never wait on I/O — they
work on in-memory records — so they can run inline; a handler that blocked would stall the server.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from a2wsgi.wsgi import build_environ

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from connexion.types import WSGIApp


class InlineWSGI:
    """An ASGI app that calls a WSGI app directly; scopes other than HTTP go to `fallback`."""

    def __init__(self, app: WSGIApp, fallback: ASGIApp) -> None:
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        environ = build_environ(scope, io.BytesIO(await _request_body(receive)))  # type: ignore[arg-type]
        response = _Response()
        chunks = self.app(environ, response.start)
        try:
            response.body_parts.extend(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
        await send({"type": "http.response.body", "body": b"".join(response.body_parts)})


class _Response:
    """What the WSGI app starts: nothing is sent until it returns, so a later call may replace it."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body_parts: list[bytes] = []

    def start(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")) for name, value in headers]
        return self.body_parts.append


async def _request_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
