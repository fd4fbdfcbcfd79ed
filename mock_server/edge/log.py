"""Puts every API request and its response in the bounded log read by `GET /__admin/requests`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mock_server.engine.facts import facts_of
from mock_server.state.request_log import LOGGED_BODY_BYTES, Exchange, RequestLog

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/__admin"  # the admin API's own requests are not logged


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, *, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        response_chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response_chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            facts = facts_of(scope)
            self.log.add(
                Exchange(
                    time=time.time(),
                    method=facts.method,
                    path=facts.path,
                    query=scope.get("query_string", b""),
                    headers=list(scope["headers"]),
                    tenant=facts.tenant,
                    body=facts.body[:LOGGED_BODY_BYTES],
                    status=status,
                    response=b"".join(response_chunks)[:LOGGED_BODY_BYTES],
                    duration_ms=(time.perf_counter() - started) * 1000,
                    notes=facts.notes,
                )
            )
