"""Works out each request's facts once (`mock_server.engine.facts`), first of the edge's steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers

from mock_server.engine.auth import fingerprint
from mock_server.engine.facts import Credentials, RequestFacts

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

    from mock_server.engine.routes import RouteTable


def request_facts(scope: Scope, receive: Receive, routes: RouteTable, headers: Headers | None = None) -> RequestFacts:
    """`headers`: the request's, when the caller has them already."""
    method: str = scope["method"]
    path: str = scope["path"]
    credentials = Credentials.parse((headers or Headers(scope=scope)).get("authorization"))
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
