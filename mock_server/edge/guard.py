"""The outermost ASGI middleware: refuses what must never reach Connexion, and logs requests.

- Paths no router should see (control characters, empty segments) get a 4xx (`mock_server.edge.hostile`).
- Bodies over the size limit get a 413 before anything parses them, and JSON nested deeper than any
  parser should be asked to recurse gets a 400 (`mock_server.edge.hostile`).
- Every API request and its response go to a bounded log for `GET /__admin/requests`,
  with credentials redacted and the tenant given only as the token's fingerprint.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mock_server.edge.hostile import MAX_JSON_DEPTH, is_json, json_depth_exceeds, path_error
from mock_server.engine.errors import VendorError
from mock_server.state.request_log import LOGGED_BODY_BYTES, Exchange, RequestLog

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mock_server.engine.rendering import ErrorRendering

# Keys the guard puts in the scope of an API request, for the middleware inside it (mock_server.resilience.middleware):
NOTES = "contract_mock.notes"  # a dict whose items join the request's log entry (e.g. the fault injected)
SERVER_RECEIVE = "contract_mock.server_receive"  # the server's own `receive`, before the guard replays the body


class GuardMiddleware:
    def __init__(self, app: ASGIApp, *, rendering: ErrorRendering, max_body_bytes: int, log: RequestLog) -> None:
        self.app = app
        self.rendering = rendering
        self.max_body_bytes = max_body_bytes
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        bad_path = path_error(path)
        if bad_path is not None:
            await self._refuse(send, path, bad_path)
            return
        body, too_large = await self._read_body(scope, receive)
        if too_large:
            limit = VendorError(413, "payload_too_large", f"Request body exceeds {self.max_body_bytes} bytes")
            await self._refuse(send, path, limit)
            return
        if path.startswith("/__admin"):
            await self.app(scope, _replay(body, receive), send)
            return
        if is_json(dict(scope["headers"]).get(b"content-type", b"")) and json_depth_exceeds(body):
            too_deep = VendorError(400, "bad_request", f"Malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels")
            await self._refuse(send, path, too_deep)
            return
        notes: dict[str, Any] = {}
        scope = {**scope, NOTES: notes, SERVER_RECEIVE: receive}
        await self._forward_and_log(scope, _replay(body, receive), body, send, notes)

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, bool]:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return b"", True
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), False

    async def _forward_and_log(
        self, scope: Scope, receive: Receive, body: bytes, send: Send, notes: dict[str, Any]
    ) -> None:
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
            self.log.add(
                Exchange(
                    time=time.time(),
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b""),
                    headers=list(scope["headers"]),
                    body=body[:LOGGED_BODY_BYTES],
                    status=status,
                    response=b"".join(response_chunks)[:LOGGED_BODY_BYTES],
                    duration_ms=(time.perf_counter() - started) * 1000,
                    notes=notes,
                )
            )

    async def _refuse(self, send: Send, path: str, error: VendorError) -> None:
        status, body, headers = self.rendering.render(path, error)
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the app once, then wait on the client as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
