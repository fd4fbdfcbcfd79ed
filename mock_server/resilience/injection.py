"""Injects the fault that fires for a request: Prism's `Prefer` for this one request, else the first
installed fault that fires (`mock_server.resilience.faults`: the tenant's, then those for all).

A `latency` fault delays the request, then lets it through. A `status` or `throttle` fault is
answered with the vendor's error, like any other error. The faults that break HTTP itself (a reset,
an empty reply, a body cut short or malformed) need raw control of the connection and of the
response messages: that is done here and nowhere else (`RawAnswers`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mock_server import _compat
from mock_server.engine.errors import KIND_BY_STATUS, VendorError
from mock_server.engine.facts import FACTS, RequestFacts, facts_of
from mock_server.resilience.faults import Faults, Firing

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mock_server.engine.rendering import ErrorRendering
    from mock_server.engine.routes import Route


class FaultInjection:
    def __init__(self, app: ASGIApp, *, faults: Faults, rendering: ErrorRendering) -> None:
        self.app = app  # what a `latency` fault lets the request through to, and a corrupt answer reads from
        self.faults = faults
        self.rendering = rendering
        self.raw = RawAnswers(app, faults)

    async def inject(self, scope: Scope, receive: Receive, send: Send, facts: RequestFacts, route: Route) -> None:
        """Answer the request, through the fault that fires for it, if any."""
        if facts.preferred_fault is not None:
            preferred = facts.preferred_fault
            firing: Firing | None = Firing(preferred, "request", float(preferred.get("latencyMs", 0)))
        else:
            firing = self.faults.firing(facts.tenant, route)
        if firing is None:
            await self.app(scope, receive, send)
            return
        facts.notes["fault"] = firing.journal()
        if firing.latency_ms:  # a delayed request is in flight, for the concurrency caps, while it waits
            await asyncio.sleep(firing.latency_ms / 1000)
        if firing.kind == "latency":
            await self.app(scope, receive, send)
        elif firing.kind in ("status", "throttle"):
            error, status = _error_of(firing)
            await self.rendering.response(facts, error, status=status)(scope, receive, send)
        elif firing.kind in ("reset", "empty"):
            await self.raw.close(facts, receive, abort=firing.kind == "reset")
        else:
            await self.raw.corrupt(firing.kind, scope, receive, send)


def _error_of(firing: Firing) -> tuple[VendorError, int | None]:
    """The error a status or throttle fault answers, and the status to send (None: the vendor's)."""
    fault = firing.fault
    if firing.kind == "throttle":
        headers = {"Retry-After": str(fault.get("retryAfter", 1))}
        return VendorError(429, "throttled", "Injected fault: throttled", headers=headers), None
    retry_after = {"Retry-After": str(fault["retryAfter"])} if "retryAfter" in fault else {}
    if fault.get("status") == 429:
        retry_after.setdefault("Retry-After", "1")
    status = int(fault["status"])
    kind = KIND_BY_STATUS.get(status, "internal")
    return VendorError(status, kind, f"Injected fault: HTTP {status}", headers=retry_after), status


class RawAnswers:
    """Answers that break HTTP on purpose: ASGI messages written by hand, the connection closed under them."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.routes = faults.routes

    async def corrupt(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        """The resource as a GET of the same path shows it (a write is not applied), cut short or malformed."""
        status, headers, body = await self._read_as_get(scope)
        if kind == "malformed":
            body = body.rstrip()[:-1] if len(body.rstrip()) > 1 else b"{"  # without its closing bracket
        headers = [(k, v) for k, v in headers if k != b"content-length"] + [
            (b"content-length", str(len(body)).encode())
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if kind == "malformed":
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await self.close(facts_of(scope), receive, abort=False)

    async def _read_as_get(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        skipped = {b"content-type", b"content-length", b"transfer-encoding", b"prefer"}
        facts = facts_of(scope)
        get_facts: RequestFacts = replace(
            facts,
            method="GET",
            route=self.routes.route_for("GET", facts.path, facts.vendor),
            body=b"",
            parsed_body=None,
            parameters=None,
            preferred_fault=None,
            notes={},
        )
        get_scope = {
            **scope,
            "method": "GET",
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() not in skipped],
            FACTS: get_facts,
        }
        response: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"], response["headers"] = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                response["body"].append(message.get("body", b""))

        await self.app(get_scope, no_body, capture)
        return response["status"], response["headers"], b"".join(response["body"])

    async def close(self, facts: RequestFacts, receive: Receive, *, abort: bool) -> None:
        transport = _compat.connection_transport(facts.server_receive)
        if transport is None:
            raise RuntimeError("closing a connection without an answer needs uvicorn (see mock_server/_compat.py)")
        if abort:
            _compat.reset(transport)
        else:
            transport.close()
        # Wait until the server has seen the connection go, so it does not answer in our place.
        for _ in range(3):
            with contextlib.suppress(TimeoutError):
                if (await asyncio.wait_for(receive(), timeout=2))["type"] == "http.disconnect":
                    return
