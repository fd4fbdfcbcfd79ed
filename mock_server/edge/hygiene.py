"""Refuses request paths no router should see (`mock_server.edge.hostile.path_error`), in the vendor's shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.edge.hostile import path_error
from mock_server.engine.facts import facts_of

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mock_server.engine.rendering import ErrorRendering


class PathHygiene:
    def __init__(self, app: ASGIApp, *, rendering: ErrorRendering) -> None:
        self.app = app
        self.rendering = rendering

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = path_error(scope["path"]) if scope["type"] == "http" else None
        if error is None:
            await self.app(scope, receive, send)
            return
        await self.rendering.response(facts_of(scope), error)(scope, receive, send)
