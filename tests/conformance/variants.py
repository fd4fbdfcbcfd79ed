"""Deliberately broken variants of the mock, each departing from one documented behaviour."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import replace
from typing import Any

import httpx
from connexion import FlaskApp

from mock_server.app import create_app, mock_state
from mock_server.config import Settings
from mock_server.engine.errors import VendorError
from mock_server.state.store import RecordMissing, Store
from mock_server.vendors import discover
from mock_server.vendors.base import RequestContext, Vendor

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (scope, status, body) -> (status, body): how a variant rewrites a response it lets through
ResponseRewrite = Callable[[Scope, int, bytes], tuple[int, bytes]]


def mock(api: str, **vendor_changes: Any) -> FlaskApp:
    """The mock serving only `api`, its vendor module changed by `vendor_changes` (`dataclasses.replace`),
    its vendor's limits off as `launcher.servers.bundled_mock` starts the mock (Revnue's 100 requests a
    minute would otherwise pace a fuzz run to minutes)."""
    vendor = replace(discover()[api], **vendor_changes)
    return create_app(Settings(apis=(api,), limits=False), vendors={api: vendor})


def with_operation(api: str, operation_id: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> FlaskApp:
    """The mock with one handler of `api` wrapped."""
    vendor = discover()[api]
    operations = {**vendor.operations, operation_id: wrap(vendor.operations[operation_id])}
    return mock(api, operations=operations)


class Middleware:
    """An ASGI middleware around the mock that still answers for it (`app.state`, which `serve` reads)."""

    app: ASGIApp

    def __getattr__(self, name: str) -> Any:
        if name == "app":
            raise AttributeError(name)
        return getattr(self.app, name)


class RewriteResponses(Middleware):
    """ASGI middleware that buffers each HTTP response and lets `rewrite` change its status and body."""

    def __init__(self, app: ASGIApp, rewrite: ResponseRewrite) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, body = self.rewrite(scope, start["status"], b"".join(chunks))
            headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)


class AddDefaultHeaders(Middleware):
    """ASGI middleware that adds request headers the client did not send."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            present = {name for name, _ in scope["headers"]}
            scope = {**scope, "headers": [*scope["headers"], *(h for h in self.headers if h[0] not in present)]}
        await self.app(scope, receive, send)


class ReplaceRequestHeader(Middleware):
    """ASGI middleware that overwrites one request header whenever it is sent."""

    def __init__(self, app: ASGIApp, name: str, value: str) -> None:
        self.app = app
        self.name = name.lower().encode()
        self.value = value.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(name, self.value if name == self.name else value) for name, value in scope["headers"]]
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


def json_rewrite(change: Callable[[Scope, int, Any], tuple[int, Any]]) -> ResponseRewrite:
    """A `ResponseRewrite` for JSON bodies; other bodies pass unchanged."""

    def rewrite(scope: Scope, status: int, body: bytes) -> tuple[int, bytes]:
        try:
            document = json.loads(body)
        except ValueError:
            return status, body
        new_status, new_document = change(scope, status, document)
        return new_status, json.dumps(new_document).encode()

    return rewrite


class ForgetfulStore:
    """A store whose updates compute and return the new record but never keep it."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update(self, tenant: str, api: str, collection: str, key: object, change: Callable[[dict], dict]) -> dict:
        current = self.inner.get(tenant, api, collection, key)
        if current is None:
            raise RecordMissing(key)
        return change(current)

    def replace(self, tenant: str, api: str, collection: str, key: object, change: Callable[[dict], dict]) -> dict:
        return self.update(tenant, api, collection, key, change)


def forgetful(app: FlaskApp) -> FlaskApp:
    state = mock_state(app)
    state.store = ForgetfulStore(state.store)  # type: ignore[assignment]
    return app


def nulling_untouched(nullable: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A PATCH handler that treats every nullable attribute the client did not send as sent as null."""

    def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
        def patch(ctx: RequestContext, body: dict[str, Any], **params: Any) -> Any:
            return handler(ctx, body={**{name: None for name in nullable}, **body}, **params)

        return patch

    return wrap


def failing_on_remove(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A JSON Patch handler that crashes on any `remove` operation."""

    def patch(ctx: RequestContext, body: list[Any], **params: Any) -> Any:
        if any(isinstance(op, dict) and op.get("op") == "remove" for op in body):
            raise RuntimeError("deliberately broken: remove crashes")
        return handler(ctx, body=body, **params)

    return patch


def detail_errors(error: VendorError) -> tuple[int, dict[str, str]]:
    """Django-style `{"detail": …}` errors instead of the vendor's `{"error", "message"}`."""
    return error.status, {"detail": error.message}


def vendor(api: str) -> Vendor:
    return discover()[api]


class RecordRequests(Middleware):
    """ASGI middleware that notes the method and path of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def get_json(url: str, token: str) -> Any:
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_document(scope: Scope, body: bytes) -> Any:
    """A request body as data: JSON, or a form as a mapping of text values."""
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
    if "form-urlencoded" in content_type:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    try:
        return json.loads(body)
    except ValueError:
        return None


class RefuseWrites(Middleware):
    """ASGI middleware that refuses every write whose body `refuse` picks, as a server refusing valid data would."""

    def __init__(self, app: ASGIApp, refuse: Callable[[Any], bool], status: int = 400, body: object = None) -> None:
        self.app = app
        self.refuse = refuse
        self.status = status
        self.body = json.dumps(body if body is not None else {"message": "refused"}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("PATCH", "PUT", "POST"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if self.refuse(request_document(scope, body)):
            await _answer(send, self.status, self.body)
            return
        await self.app(scope, _replay(body), send)


def sets(member: str, predicate: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Whether a merge body or a JSON Patch sets `member` to a value `predicate` accepts."""

    def picks(document: Any) -> bool:
        if isinstance(document, dict):
            return member in document and predicate(document[member])
        if isinstance(document, list):
            return any(
                isinstance(op, dict) and op.get("path") == f"/{member}" and predicate(op.get("value"))
                for op in document
            )
        return False

    return picks


def clearing_unsent(member: str, cleared: object) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A partial-update handler that resets `member` to `cleared` whenever the request leaves it out."""

    def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
        def patch(ctx: RequestContext, body: dict[str, Any], **params: Any) -> Any:
            return handler(ctx, body={member: cleared, **body} if member not in body else body, **params)

        return patch

    return wrap


class ReadModifyWrite(Middleware):
    """ASGI middleware that turns each partial update into read, pause, write-everything: no lock, so
    updates sent at the same moment overwrite each other with the stale values they read."""

    def __init__(self, app: ASGIApp, writable: list[str], pause: float = 0.05) -> None:
        self.app = app
        self.writable = writable
        self.pause = pause

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PATCH":
            await self.app(scope, receive, send)
            return
        import asyncio

        body = await _read_body(receive)
        document = (
            request_document(scope, body) if b"json" in dict(scope["headers"]).get(b"content-type", b"") else None
        )
        current = await self._read(scope)
        await asyncio.sleep(self.pause)
        if isinstance(document, dict) and isinstance(current, dict):
            stale = {name: current[name] for name in self.writable if current.get(name) is not None}
            body = json.dumps({**stale, **document}).encode()
        headers = [(n, v) for n, v in scope["headers"] if n != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app({**scope, "headers": headers}, _replay(body), send)

    async def _read(self, scope: Scope) -> Any:
        chunks: list[bytes] = []
        status = 0

        async def collect(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                chunks.append(message.get("body", b""))

        headers = [(n, v) for n, v in scope["headers"] if n not in (b"content-type", b"content-length")]
        await self.app({**scope, "method": "GET", "headers": headers}, _replay(b""), collect)
        return json.loads(b"".join(chunks)) if status == 200 else None
