"""The outermost middleware: works out each request's facts once (`mock_server.engine.facts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers

from mock_server.engine.auth import fingerprint
from mock_server.engine.facts import FACTS, Credentials, RequestFacts

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mock_server.engine.routes import RouteTable


class RequestFactsMiddleware:
    def __init__(self, app: ASGIApp, *, routes: RouteTable) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[FACTS] = request_facts(scope, receive, self.routes)
        try:
            await self.app(scope, receive, send)
        finally:
            # The facts refer back to the scope (and the server's `receive`, to its connection): left
            # in the scope, each answered request would be a reference cycle for the collector to find.
            del scope[FACTS]


def request_facts(scope: Scope, receive: Receive, routes: RouteTable) -> RequestFacts:
    method: str = scope["method"]
    path: str = scope["path"]
    credentials = Credentials.parse(Headers(scope=scope).get("authorization"))
    vendor = routes.vendor_for(path)
    return RequestFacts(
        method=method,
        path=path,
        vendor=vendor,
        route=routes.route_for(method, path, vendor) if vendor else None,
        credentials=credentials,
        tenant=fingerprint(credentials.token) if credentials and credentials.token else None,
        server_receive=receive,
    )
