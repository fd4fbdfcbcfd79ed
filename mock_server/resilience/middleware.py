"""The ASGI middleware that enforces the vendors' limits and injects faults.

It sits inside the guard (which logs each exchange, with the fault this middleware notes) and in
front of Connexion, so it only uses the ASGI interface. Per request:
1. `Prefer: code=NNN` / `Prefer: delay=MS` (Prism's convention): a status the spec declares for the
   operation, answered with the vendor's error body (an undeclared one is a 400 naming the declared
   ones); a delay before the request is served.
2. The limits (`mock_server.resilience.limits`), for requests that carry a token: a refused request gets no fault.
3. The first installed fault that fires (`mock_server.resilience.faults`): the tenant's, then those for all.
   A request waiting out a delay counts as in flight for the concurrency caps.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from mock_server import _compat
from mock_server.edge.guard import NOTES, SERVER_RECEIVE
from mock_server.engine.auth import fingerprint
from mock_server.engine.errors import KIND_BY_STATUS, VendorError
from mock_server.engine.routes import Route, RouteTable
from mock_server.resilience.faults import MAX_DELAY_MS, Faults, Firing
from mock_server.resilience.limits import LimitsEngine

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mock_server.engine.rendering import ErrorRendering
    from mock_server.state.mock_state import MockState


class ResilienceMiddleware:
    def __init__(self, app: ASGIApp, *, state: MockState, rendering: ErrorRendering) -> None:
        self.app = app
        self.rendering = rendering
        self.routes = RouteTable(state.vendors, state.specs)
        self.faults = Faults(state.store, self.routes)
        self.limits = LimitsEngine(state.store, enabled=state.settings.limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.route_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        tenant = _tenant(headers)
        notes: dict[str, Any] = scope.get(NOTES, {})
        firing, refusal = _prefer(headers.get("prefer", ""), route)
        if refusal is not None:  # about the mock's own header: a 400 whatever the vendor answers bad requests with
            await self._answer_error(scope, send, refusal, status=400)
            return
        refused, release = self.limits.admit(tenant, route.vendor) if tenant else (None, None)
        if refused is not None:
            notes["limit"] = refused.limit
            await self._answer_error(scope, send, refused.error)
            return
        try:
            await self._faulted(firing or self.faults.firing(tenant, route), scope, receive, send, notes)
        finally:
            if release is not None:
                release()

    async def _faulted(
        self, firing: Firing | None, scope: Scope, receive: Receive, send: Send, notes: dict[str, Any]
    ) -> None:
        """A delayed request is in flight (for the concurrency caps) while it waits."""
        if firing is not None:
            notes["fault"] = firing.journal()
            if firing.latency_ms:
                await asyncio.sleep(firing.latency_ms / 1000)
            if firing.kind != "latency":
                await self._inject(firing, scope, receive, send)
                return
        await self.app(scope, receive, send)

    # -- answers instead of the operation ---------------------------------------------------------

    async def _inject(self, firing: Firing, scope: Scope, receive: Receive, send: Send) -> None:
        fault = firing.fault
        retry_after = {"Retry-After": str(fault["retryAfter"])} if "retryAfter" in fault else {}
        if fault.get("status") == 429:
            retry_after.setdefault("Retry-After", "1")
        if firing.kind == "status":
            status = int(fault["status"])
            kind = KIND_BY_STATUS.get(status, "internal")
            error = VendorError(status, kind, f"Injected fault: HTTP {status}", headers=retry_after)
            await self._answer_error(scope, send, error, status=status)
        elif firing.kind == "throttle":
            headers = {"Retry-After": str(fault.get("retryAfter", 1))}
            await self._answer_error(
                scope, send, VendorError(429, "throttled", "Injected fault: throttled", headers=headers)
            )
        elif firing.kind in ("reset", "empty"):
            await self._close(scope, receive, abort=firing.kind == "reset")
        else:
            await self._corrupt(firing.kind, scope, receive, send)

    async def _answer_error(
        self,
        scope: Scope,
        send: Send,
        error: VendorError,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        rendered_status, body, rendered_headers = self.rendering.render(scope["path"], error)
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in rendered_headers.items()]
        await send({"type": "http.response.start", "status": status or rendered_status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    async def _corrupt(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        """The resource as a GET of the same path shows it (a write is not applied), cut short or malformed."""
        status, headers, body = await self._read_as_get(scope)
        if kind == "malformed":
            body = body.rstrip()[:-1] if len(body.rstrip()) > 1 else b"{"  # without its closing bracket
            headers = [(k, v) for k, v in headers if k != b"content-length"] + [
                (b"content-length", str(len(body)).encode())
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        headers = [(k, v) for k, v in headers if k != b"content-length"] + [
            (b"content-length", str(len(body)).encode())
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await self._close(scope, receive, abort=False)

    async def _read_as_get(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        skipped = {b"content-type", b"content-length", b"transfer-encoding", b"prefer"}
        get_scope = {
            **scope,
            "method": "GET",
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() not in skipped],
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

    async def _close(self, scope: Scope, receive: Receive, *, abort: bool) -> None:
        transport = _compat.connection_transport(scope.get(SERVER_RECEIVE))
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


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _tenant(headers: dict[str, str]) -> str | None:
    _, _, token = headers.get("authorization", "").strip().partition(" ")
    return fingerprint(token.strip()) if token.strip() else None


def _prefer(header: str, route: Route) -> tuple[Firing | None, VendorError | None]:
    """Prism's `Prefer: code=NNN, delay=MS` as a fault for this one request, or the reason it is refused."""
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
    return Firing(fault, "request", float(fault.get("latencyMs", 0))), None
