"""The ASGI app inside Connexion's middleware: calls the vendor handler of the operation Connexion routed.

Connexion's `ConnexionMiddleware` routes, authenticates and validates each request, then calls the
app it wraps with the routed operation in `connexion.context.operation`. Our resolver made each
operation's `function` an `Endpoint`, so dispatching is one attribute read; requests Connexion did
not route (the admin API) go to the fallback app.

Handlers run here, on the event loop: they work on in-memory records and never wait on I/O, so a
thread pool would only add hand-offs (see bench/README.md). One request runs at a time between
two `await`s, which is the concurrency model docs/ARCHITECTURE.md states.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from connexion.context import context, operation
from starlette.responses import Response

from mock_server._compat import connexion_context_variables
from mock_server.engine.errors import VendorError
from mock_server.engine.facts import RequestFacts, facts_of
from mock_server.engine.rendering import COMPACT_JSON
from mock_server.state.store import RecordsView
from mock_server.vendors.base import RequestContext, Vendor

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mock_server.state.mock_state import MockState


class Endpoint:
    """One vendor operation: its handler, called with the request's parameters and a `RequestContext`."""

    def __init__(self, state: MockState, vendor: Vendor, operation_id: str, handler: Callable[..., Any]) -> None:
        self.state = state
        self.vendor = vendor
        self.operation_id = operation_id
        self.handler = handler
        self.spec = state.specs[vendor.name]
        operation = self.spec.operation_by_id(operation_id)
        self._has_body = operation is not None and "requestBody" in operation.definition
        self._declared_query = frozenset(
            p["name"] for p in (operation.parameters if operation is not None else ()) if p.get("in") == "query"
        )

    def respond(self, facts: RequestFacts, token_info: dict[str, Any] | None) -> Response:
        """Run the handler on the parameters and body the validators read, and answer its result as JSON;
        `token_info` is what the security handler granted (None without credentials)."""
        parameters = facts.parameters
        assert parameters is not None  # Connexion's request validation runs on every operation
        arguments: dict[str, Any] = dict(parameters.path)
        # A parameter the spec does not declare reaches no handler (where a spec ignores unknown ones).
        if parameters.query:
            arguments.update((name, value) for name, value in parameters.query.items() if name in self._declared_query)
        if self._has_body:
            arguments["body"] = facts.parsed_body
        if token_info is None:  # every operation of every spec declares security (tested in tests/test_specs.py)
            raise VendorError(401, "unauthorized", "Authentication credentials were not provided")
        tenant = token_info["sub"]
        ctx = RequestContext(
            vendor=self.vendor,
            tenant=tenant,
            principal=token_info["principal"],
            records=RecordsView(self.state.store, tenant, self.vendor.name),
            clock=self.state.clock.for_tenant(tenant),
            spec=self.spec,
        )
        if self._has_body and (deferred := facts.deferred_error) is not None:
            self._refuse_missing_record(ctx, parameters.path)
            raise deferred
        body, status, extra_headers = _response_parts(self.handler(ctx, **arguments))
        if body is None:
            return Response(b"", status_code=status, headers=_header_texts(extra_headers))
        payload = COMPACT_JSON.encode(body).encode()
        return Response(
            payload, status_code=status, headers=_header_texts(extra_headers), media_type="application/json"
        )

    def _refuse_missing_record(self, ctx: RequestContext, path: dict[str, Any]) -> None:
        """404 when the record the path names does not exist (looked up before the body is judged)."""
        operation = self.spec.operation_by_id(self.operation_id)
        resource = None if operation is None else self.vendor.resources.get(operation.path.rstrip("/"))
        if resource is None or len(path) != 1:
            return
        (record_id,) = path.values()
        if not ctx.records.exists(resource.collection, record_id):
            raise VendorError(404, "not_found", "Not found")


def _header_texts(headers: dict[str, Any]) -> dict[str, str] | None:
    return {name: str(value) for name, value in headers.items()} if headers else None


def _response_parts(result: Any) -> tuple[Any, int, dict[str, Any]]:
    """A handler's result as (body, status, headers): it returns `body`, `(body, status)` or
    `(body, status, headers)`, as Connexion's handlers do."""
    if not isinstance(result, tuple):
        return result, 200, {}
    body, status, *rest = result
    return body, int(status), dict(rest[0]) if rest else {}


class Dispatcher:
    """The app Connexion wraps: routed operations go to their `Endpoint`, paths under `fallback_prefix`
    to `fallback`; anything else is a 404 in the shape of the vendor whose prefix the path has."""

    def __init__(self, fallback: ASGIApp, fallback_prefix: str) -> None:
        self.fallback = fallback
        self.fallback_prefix = fallback_prefix
        self._variables = connexion_context_variables()  # Connexion's own, without its proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        endpoint = self._routed_endpoint(scope)
        if endpoint is None:
            path: str = scope.get("path", "")
            if scope["type"] == "http" and not (path + "/").startswith(self.fallback_prefix + "/"):
                raise VendorError(404, "not_found", "Not Found")
            await self.fallback(scope, receive, send)
            return
        await endpoint.respond(facts_of(scope), self._token_info())(scope, receive, send)

    def _routed_endpoint(self, scope: Scope) -> Endpoint | None:
        if scope["type"] != "http":
            return None
        try:
            function = operation.function if self._variables is None else self._variables[1].get().function
        except (RuntimeError, LookupError):  # Connexion routed nothing: not a path of any API
            return None
        return function if isinstance(function, Endpoint) else None

    def _token_info(self) -> dict[str, Any] | None:
        """What Connexion's security layer put in the request's context."""
        found = context.get("token_info") if self._variables is None else self._variables[0].get({}).get("token_info")
        return cast("dict[str, Any] | None", found)


async def _lifespan(receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol: nothing to set up or tear down, the app is built before it serves."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
