"""Prism's `Prefer: code=NNN` / `Prefer: delay=MS`, as a fault for the one request that sends it.

A status must be one the spec declares for the operation (it is answered with the vendor's error
body); an undeclared one, or a delay beyond the longest the mock waits, is a 400 naming what is
allowed, whatever the vendor answers bad requests with: the header is the mock's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

from mock_server.engine.errors import VendorError
from mock_server.resilience.faults import MAX_DELAY_MS

if TYPE_CHECKING:
    from starlette.responses import Response

    from mock_server.engine.facts import RequestFacts
    from mock_server.engine.rendering import ErrorRendering
    from mock_server.engine.routes import Route


class Prefer:
    def __init__(self, rendering: ErrorRendering) -> None:
        self.rendering = rendering

    def refusal(self, headers: Headers, facts: RequestFacts, route: Route) -> Response | None:
        """Into `facts.preferred_fault`: the fault the request's `Prefer` asks for; or the 400 refusing it."""
        header = headers.get("prefer")
        if not header:
            return None
        fault, refusal = preferred_fault(header, route)
        if refusal is not None:
            return self.rendering.response(facts, refusal, status=400)
        facts.preferred_fault = fault
        return None


def preferred_fault(header: str, route: Route) -> tuple[dict[str, Any] | None, VendorError | None]:
    """The fault `Prefer: code=NNN, delay=MS` asks for (None: none), or the reason it is refused."""
    preferences = dict(part.strip().partition("=")[::2] for part in header.replace(";", ",").split(",") if "=" in part)
    fault: dict[str, Any] = {"id": "Prefer", "fault": "latency"}
    if "delay" in preferences:
        delay = preferences["delay"].strip()
        if not delay.isdigit() or int(delay) > MAX_DELAY_MS:
            return None, VendorError(
                400, "bad_request", f"Prefer: delay must be whole milliseconds up to {MAX_DELAY_MS}"
            )
        fault["latencyMs"] = int(delay)
    if "code" in preferences:
        code = preferences["code"].strip()
        declared = [str(status) for status in route.statuses]
        if code not in declared:
            message = f"Prefer: code={code} is not declared for {route}; declared: {', '.join(declared)}"
            return None, VendorError(400, "bad_request", message)
        if int(code) >= 400:
            fault.update({"fault": "status", "status": int(code)})
    if len(fault) == 2:
        return None, None
    return fault, None
