"""Enforces the vendors' limits (`mock_server.resilience.limits`) on requests to an operation that carry a token.

A refused request gets the vendor's error and nothing else (no fault); an admitted one counts as in
flight, for the concurrency caps, until its answer is sent (a delayed one while it waits, too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.engine.facts import facts_of

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mock_server.engine.rendering import ErrorRendering
    from mock_server.resilience.limits import LimitsEngine


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, *, limits: LimitsEngine, rendering: ErrorRendering) -> None:
        self.app = app
        self.limits = limits
        self.rendering = rendering

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        facts = facts_of(scope) if scope["type"] == "http" else None
        if facts is None or facts.route is None or facts.tenant is None:
            await self.app(scope, receive, send)
            return
        refused, release = self.limits.admit(facts.tenant, facts.route.vendor)
        if refused is not None:
            facts.notes["limit"] = refused.limit
            await self.rendering.response(facts, refused.error)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            release()
