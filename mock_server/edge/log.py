"""Puts every API request and its response in the bounded log read by `GET /__admin/requests`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mock_server.state.request_log import LOGGED_BODY_BYTES, Exchange, RequestLog

if TYPE_CHECKING:
    from starlette.types import Message, Scope, Send

    from mock_server.engine.facts import RequestFacts

ADMIN_PREFIX = "/__admin"  # the admin API's own requests are not logged


class Recording:
    """One request's answer as it is sent on (`send`), for its log entry."""

    def __init__(self, send: Send) -> None:
        self.started = time.perf_counter()
        self.status = 0
        self.chunks: list[bytes] = []
        self._send = send

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
        await self._send(message)


class RequestLogger:
    def __init__(self, log: RequestLog) -> None:
        self.log = log

    def logs(self, scope: Scope) -> bool:
        return not scope["path"].startswith(ADMIN_PREFIX)

    def add(self, scope: Scope, facts: RequestFacts, recording: Recording) -> None:
        self.log.add(
            Exchange(
                time=time.time(),
                method=facts.method,
                path=facts.path,
                query=scope.get("query_string", b""),
                headers=list(scope["headers"]),
                tenant=facts.tenant,
                body=facts.body[:LOGGED_BODY_BYTES],
                status=recording.status,
                response=b"".join(recording.chunks)[:LOGGED_BODY_BYTES],
                duration_ms=(time.perf_counter() - recording.started) * 1000,
                notes=facts.notes,
            )
        )
