"""Two per-request costs of Connexion's FlaskApp that the mock does without (profiles in bench/README.md).

- Connexion hands every request to a2wsgi, which runs Flask in a worker thread and passes each ASGI
  message across threads: four to five thread switches per request, under the GIL, cost more than
  the mock's own work. The mock's handlers never wait on I/O — they work on in-memory records — so
  Flask runs inline on the event loop; a handler that blocked would stall the server.
- Connexion's view function builds its decorator chain, a URI parser and an inspection of the
  handler's signature on every call, though none of them depends on the request: they are built
  on the first call of each operation instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from a2wsgi.wsgi import build_environ
from connexion.apps.flask import FlaskOperation
from connexion.decorators import FlaskDecorator

if TYPE_CHECKING:
    from connexion import FlaskApp
    from connexion.types import WSGIApp
    from starlette.types import ASGIApp, Receive, Scope, Send


def speed_up(app: FlaskApp) -> None:
    """Call before the app first serves: that is when Connexion registers its view functions."""
    flask_asgi = app._middleware_app  # Connexion keeps its a2wsgi bridge here, with no option to change it
    flask_asgi.asgi_app = InlineWSGI(app.app.wsgi_app, fallback=flask_asgi.asgi_app)  # type: ignore[attr-defined]
    app.app.view_functions = PreparingViews(app.app.view_functions)


class PreparingViews(dict[str, Callable[..., Any]]):
    """Flask's endpoint -> view mapping, in which each Connexion operation is stored prepared."""

    def __setitem__(self, endpoint: str, view: Callable[..., Any]) -> None:
        super().__setitem__(endpoint, PreparedOperation(view) if isinstance(view, FlaskOperation) else view)


class PreparedOperation:
    """Does what a `FlaskOperation` does, with the parts that do not depend on the request built once."""

    def __init__(self, operation: FlaskOperation) -> None:
        self.operation = operation
        self._view: Callable[..., Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._view is None:
            self._view = _prepared(self.operation)
        return self._view()


def _prepared(operation: FlaskOperation) -> Callable[[], Any]:
    decorator = FlaskDecorator(pythonic_params=operation.pythonic_params, jsonifier=operation.jsonifier)
    uri_parser = decorator.uri_parser  # built from the operation being served: the same on every call
    handler = decorator.decorate(operation._fn)

    def view() -> Any:
        # Like Connexion's own view, this ignores Flask's path arguments: the request carries them.
        return handler(decorator.framework.get_request(uri_parser=uri_parser))

    return view


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
        self.headers = [
            (name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")) for name, value in headers
        ]
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
