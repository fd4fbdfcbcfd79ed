"""Enforces the vendors' limits (`mock_server.resilience.limits`) on requests to an operation that carry a token.

A refused request gets the vendor's error and nothing else (no fault); an admitted one counts as in
flight, for the concurrency caps, until its answer is sent (a delayed one while it waits, too): the
edge (`mock_server.edge.stack`) calls the release it is given once the request is answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.resilience.limits import Release

if TYPE_CHECKING:
    from starlette.responses import Response

    from mock_server.engine.facts import RequestFacts
    from mock_server.engine.rendering import ErrorRendering
    from mock_server.engine.routes import Route
    from mock_server.resilience.limits import LimitsEngine


def _nothing() -> None:
    return None


class Admission:
    def __init__(self, limits: LimitsEngine, rendering: ErrorRendering) -> None:
        self.limits = limits
        self.rendering = rendering

    def admit(self, facts: RequestFacts, route: Route) -> tuple[Response | None, Release]:
        """(the refusal to answer, nothing to release) or (None, what releases the admitted request)."""
        if facts.tenant is None:
            return None, _nothing
        refused, release = self.limits.admit(facts.tenant, route.vendor)
        if refused is None:
            return None, release
        facts.notes["limit"] = refused.limit
        return self.rendering.response(facts, refused.error), _nothing
