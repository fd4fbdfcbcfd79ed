"""Refuses request paths no router should see (`mock_server.edge.hostile.path_error`), in the vendor's shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.edge.hostile import path_error

if TYPE_CHECKING:
    from starlette.responses import Response

    from mock_server.engine.facts import RequestFacts
    from mock_server.engine.rendering import ErrorRendering


class PathHygiene:
    def __init__(self, rendering: ErrorRendering) -> None:
        self.rendering = rendering

    def answer(self, facts: RequestFacts) -> Response | None:
        error = path_error(facts.path)
        return None if error is None else self.rendering.response(facts, error)
