"""Reads each request's body once, within the size limit, before anything parses it.

A body over the size limit gets the vendor's 413: a declared length is checked before reading, a
streamed body (no Content-Length) is read under Starlette's `RequestBodyLimitMiddleware`. (The
chunks are joined by a loop, not `Request.body()`, whose stream machinery costs more than the rest
of the edge.) JSON nested deeper than any parser should be asked to
recurse gets a 400 (`mock_server.edge.hostile`). The body read goes into the request's facts (the log
and the validators read it there) and is handed on to the app once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import ClientDisconnect

from mock_server.edge.hostile import MAX_JSON_DEPTH, is_json, json_depth_exceeds
from mock_server.engine.errors import VendorError

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import Message, Receive, Scope, Send

    from mock_server.engine.facts import RequestFacts
    from mock_server.engine.rendering import ErrorRendering

ADMIN_PREFIX = "/__admin"  # the admin API parses its own bodies


class BodyTooLarge(Exception):
    pass


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body; BodyTooLarge when it is over `limit` bytes.

    A declared length is the most the server hands on (it frames the body by it), so it is checked
    up front; a body of undeclared length is read under Starlette's limit, which counts the bytes.
    """
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise BodyTooLarge
        return await _all_of(receive)
    read: list[bytes] = []

    async def reader(scope: Scope, limited: Receive, send: Send) -> None:
        try:
            read.append(await _all_of(limited))
        except HTTPException as exc:
            if exc.status_code != 413:
                raise

    await RequestBodyLimitMiddleware(reader, max_body_size=limit)(scope, receive, _no_answer)
    if not read:
        raise BodyTooLarge
    return read[0]


async def _all_of(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _no_answer(message: Message) -> None:
    raise RuntimeError("reading a body answers nothing")


def replay(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the app once, then wait on the client as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _without_body(scope: Scope, headers: Headers) -> bool:
    """HTTP/1 framing: a request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3)."""
    http1 = scope.get("http_version", "1.1") in ("1.0", "1.1")
    return http1 and "content-length" not in headers and "transfer-encoding" not in headers


class RequestBody:
    def __init__(self, rendering: ErrorRendering, max_body_bytes: int) -> None:
        self.rendering = rendering
        self.max_body_bytes = max_body_bytes

    async def read(
        self, scope: Scope, receive: Receive, facts: RequestFacts, headers: Headers
    ) -> tuple[Response | None, Receive | None]:
        """Into `facts.body`: (the refusal to answer instead, None) or (None, the `receive` the app reads the
        body from); (None, None) when the client has gone (nobody to answer)."""
        if _without_body(scope, headers):
            return None, receive
        try:
            facts.body = await read_body(scope, receive, self.max_body_bytes)
        except BodyTooLarge:
            error = VendorError(413, "payload_too_large", f"Request body exceeds {self.max_body_bytes} bytes")
            return self.rendering.response(facts, error), None
        except ClientDisconnect:
            return None, None
        if (
            facts.body
            and not facts.path.startswith(ADMIN_PREFIX)
            and is_json(headers.get("content-type", "").encode("latin-1"))
            and json_depth_exceeds(facts.body)
        ):
            error = VendorError(400, "bad_request", f"Malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels")
            return self.rendering.response(facts, error), None
        return None, replay(facts.body, receive)
