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

    @property
    def answering(self) -> bool:
        """Whether the answer has begun (its status sent on)."""
        return self.status != 0

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
        await self._send(message)


def recording_of(send: Send) -> Recording | None:
    """The recording whose `send` this is, if any: an exception handler inside can ask it whether the answer began."""
    owner = getattr(send, "__self__", None)
    return owner if isinstance(owner, Recording) else None


class RequestLogger:
    def __init__(self, log: RequestLog) -> None:
        self.log = log

    def logs(self, scope: Scope) -> bool:
        return not scope["path"].startswith(ADMIN_PREFIX)

    def add(self, scope: Scope, facts: RequestFacts, recording: Recording) -> None:
        self.log.add(
            Exchange(  # positionally: a tuple's keyword arguments cost twice as much, on every request
                time.time(),
                facts.method,
                facts.path,
                scope.get("query_string", b""),  # query
                list(scope["headers"]),  # headers
                facts.tenant,
                facts.body[:LOGGED_BODY_BYTES],  # body
                recording.status,
                b"".join(recording.chunks)[:LOGGED_BODY_BYTES],  # response
                (time.perf_counter() - recording.started) * 1000,  # duration_ms
                facts.notes,
            )
        )
