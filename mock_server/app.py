"""The app factory: Connexion's middleware (routing, security, validation, errors) around the vendors' handlers.

One `ConnexionMiddleware` serves every vendor's spec under its prefix. It wraps our `Dispatcher`,
which calls the handler of the operation Connexion routed (mock_server/engine/dispatch.py); what Connexion
does not route (the admin API) goes on to a small Flask app. docs/ARCHITECTURE.md says why this
shape and not FlaskApp or AsyncApp (measured in bench/README.md).
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from mock_server import _compat

# Connexion's package imports Starlette's test client, which warns at import that it is deprecated with
# httpx: noise in every command and in users' pytest runs about code the mock never calls. Every entry
# point (cli, asgi, testing) imports this module before anything imports Connexion; only that one warning
# is ignored. (`contract-mock serve` does not run Connexion's package at all: `_compat.defer_unused_imports`.)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=_compat.TESTCLIENT_DEPRECATION)
    from connexion.middleware import ConnexionMiddleware
# isort: split
from connexion.exceptions import InvalidSpecification
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.resolver import Resolver

from mock_server.admin.lazy import AdminApp
from mock_server.config import Settings
from mock_server.edge import oauth
from mock_server.edge.body import RequestBody
from mock_server.edge.exceptions import ExceptionsWhenRaised
from mock_server.edge.hygiene import PathHygiene
from mock_server.edge.landing import LandingPage
from mock_server.edge.log import RequestLogger
from mock_server.edge.routing import DirectRouting
from mock_server.edge.stack import Edge
from mock_server.edge.swagger_ui import SwaggerUIForItsPaths, swagger_ui_options
from mock_server.edge.wsgi import InlineWSGI
from mock_server.engine.auth import security_handler
from mock_server.engine.dispatch import Dispatcher, Endpoint
from mock_server.engine.errors import VendorError
from mock_server.engine.rendering import ErrorRendering
from mock_server.engine.routes import RouteTable
from mock_server.engine.spec import SpecError, SpecView
from mock_server.engine.validation import VALIDATOR_MAP
from mock_server.resilience.admission import Admission
from mock_server.resilience.faults import FaultError, Faults
from mock_server.resilience.limits import LimitsEngine
from mock_server.resilience.prefer import Prefer
from mock_server.state.backends import StoreFactory, store_from_settings
from mock_server.state.clock import Clock
from mock_server.state.fixtures import load_fixtures
from mock_server.state.mock_state import MockState
from mock_server.state.request_log import RequestLog
from mock_server.state.store import request_scope
from mock_server.vendors import discover
from mock_server.vendors.base import Vendor

if TYPE_CHECKING:
    from flask import Flask
    from starlette.testclient import TestClient
    from starlette.types import Receive, Scope, Send

# Spec root keyword: `reject` when the vendor documents an error for a query parameter it does not
# know; otherwise unknown parameters are ignored, as Spring, ASP.NET and DRF do by default.
UNKNOWN_QUERY_PARAMETERS = "x-unknown-query-parameters"
ADMIN_PREFIX = "/__admin"  # where mock_server/admin/api.py mounts its blueprint
COMPACT_JSON = Jsonifier(json, separators=(",", ":"))
ErrorHandler = Callable[[ConnexionRequest, Exception], ConnexionResponse]


class StartupError(Exception):
    """The mock cannot start: an unknown API name, an invalid spec or fixture, a missing handler."""


class MockApp:
    """The running mock: an ASGI app, its state, and a test client for tests."""

    def __init__(self, state: MockState, middleware: ConnexionMiddleware, admin: AdminApp) -> None:
        self.state = state
        self.middleware = middleware
        self.admin = admin
        self._apis = [(vendor.prefix.rstrip("/") + "/", name) for name, vendor in state.vendors.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One request, one store scope: a shared store reads what the request needs once (state/store.py).
        with request_scope(self._api_of(scope.get("path", "") + "/")):
            await self.middleware(scope, receive, send)

    def _api_of(self, path: str) -> str | None:
        for prefix, name in self._apis:
            if path.startswith(prefix):
                return name
        return None

    @property
    def admin_app(self) -> Flask:
        """The admin API's Flask app (built on first use: `mock_server.admin.lazy`)."""
        return self.admin.flask_app

    def test_client(self, **kwargs: Any) -> TestClient:
        with warnings.catch_warnings():  # tests only: serving never imports it
            warnings.filterwarnings("ignore", message=_compat.TESTCLIENT_DEPRECATION)
            from starlette.testclient import TestClient

        return TestClient(self, **kwargs)


def create_app(
    settings: Settings | None = None,
    store: StoreFactory | None = None,
    vendors: Mapping[str, Vendor] | None = None,
) -> MockApp:
    """The mock, configured by `settings` alone. Its state lives in the store `store` opens for the seeds:
    by default the one the settings name (`store_from_settings`). `vendors` replaces the discovered vendor
    modules (tests use it for variants).
    """
    settings = settings or Settings()
    _compat.swagger_ui_templates_on_first_use()
    # Connexion logs a warning on every request to an operation with several request content types.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    vendors = _selected_vendors(settings, dict(vendors) if vendors is not None else discover())
    specs = {name: SpecView.load(settings.spec_dir / f"{name}.yaml", cache_dir=settings.cache_dir) for name in vendors}
    fixtures = {name: load_fixtures(v, settings.fixtures_dir, settings.cache_dir) for name, v in vendors.items()}
    state = MockState(
        settings=settings,
        vendors=vendors,
        specs=specs,
        tokens={name: f.tokens for name, f in fixtures.items()},
        store=(opened := (store or store_from_settings)(settings, {name: f.seed for name, f in fixtures.items()})),
        clock=Clock(settings.today, opened),
        requests=RequestLog(settings.request_log_size),
    )
    admin = AdminApp(state, import_name=__name__)
    dispatcher = Dispatcher(fallback=InlineWSGI(admin.wsgi_app), fallback_prefix=ADMIN_PREFIX)
    routes = RouteTable(vendors, specs)
    rendering = ErrorRendering(specs)
    oauth_serving = oauth.serve(state, rendering)  # it rewrites the served specs: before they are added
    faults = Faults(state.store, routes)
    edge = functools.partial(
        Edge,
        routes=routes,
        oauth=oauth_serving,
        landing=LandingPage(state, admin),
        hygiene=PathHygiene(rendering),
        body=RequestBody(rendering, settings.max_body_bytes),
        logger=RequestLogger(state.requests),
        prefer=Prefer(rendering),
        admission=Admission(LimitsEngine(state.store, enabled=settings.limits), rendering),
        faults=faults,
        rendering=rendering,
    )
    middleware = ConnexionMiddleware(dispatcher, import_name=__name__, middlewares=_connexion_layers(settings, edge))
    with _compat.connexion_specifications_remembered(settings.cache_dir):
        for vendor in vendors.values():
            _add_vendor_api(middleware, state, vendor)
    for exc in rendering.handled_exceptions:
        middleware.add_error_handler(exc, _on_event_loop(rendering.handle))
    _install_faults_file(settings, faults)
    return MockApp(state, middleware, admin)


_OUR_LAYERS: dict[Any, Any] = {
    ExceptionMiddleware: ExceptionsWhenRaised,
    SwaggerUIMiddleware: SwaggerUIForItsPaths,
    RoutingMiddleware: DirectRouting,
}


def _connexion_layers(settings: Settings, edge: Any) -> list[Any]:
    """Connexion's own middlewares with the edge (edge/stack.py) right outside its exception handling, which
    wraps `send` only where nothing else watches it (edge/exceptions.py); its Swagger UI asked only about
    the paths it serves (edge/swagger_ui.py),
    its router walked once for a request the edge routed (edge/routing.py), its request validation finding
    the content type more cheaply (_compat.request_validation_middleware); without response validation
    when it is off (the layer would only hand each request on)."""
    ours = {**_OUR_LAYERS, RequestValidationMiddleware: _compat.request_validation_middleware()}
    layers = []
    for layer in ConnexionMiddleware.default_middlewares:
        if layer is ExceptionMiddleware:
            layers.append(edge)
        if settings.validate_responses or layer is not ResponseValidationMiddleware:
            layers.append(ours.get(layer, layer))
    return layers


def _install_faults_file(settings: Settings, faults: Faults) -> None:
    if settings.faults_file is None:
        return
    try:
        faults.install_file(settings.faults_file)
    except FaultError as exc:
        raise StartupError("invalid faults file:\n  " + "\n  ".join(exc.problems)) from None


def _on_event_loop(handler: ErrorHandler) -> Callable[[ConnexionRequest, Exception], Awaitable[ConnexionResponse]]:
    """Connexion runs a synchronous error handler in a thread pool; rendering an error never blocks."""

    async def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return handler(request, exc)

    return handle


def mock_state(app: MockApp) -> MockState:
    return app.state


def _selected_vendors(settings: Settings, available: dict[str, Vendor]) -> dict[str, Vendor]:
    unknown = sorted(set(settings.apis) - set(available))
    if unknown:
        raise StartupError(f"unknown API {', '.join(unknown)}; available: {', '.join(available)}")
    return {name: v for name, v in available.items() if not settings.apis or name in settings.apis}


def _add_vendor_api(middleware: ConnexionMiddleware, state: MockState, vendor: Vendor) -> None:
    spec = state.specs[vendor.name]
    handler_class = security_handler(spec.auth_prefix, vendor.org_header, state.tokens[vendor.name])
    try:
        middleware.add_api(
            spec.raw,
            base_path=vendor.prefix,
            name=vendor.name,
            resolver=Resolver(function_resolver=lambda operation_id: _endpoint(state, vendor, operation_id)),
            strict_validation=rejects_unknown_query_parameters(spec.raw),
            validate_responses=state.settings.validate_responses,
            validator_map=VALIDATOR_MAP,
            security_map={"bearer": handler_class, "oauth2": handler_class, "apiKey": handler_class},
            swagger_ui_options=swagger_ui_options(state.settings.swagger_ui),
            jsonifier=COMPACT_JSON,
        )
    except InvalidSpecification as exc:
        raise SpecError(f"{spec.source}: invalid OpenAPI document: {exc}") from exc


def _answered_at_the_edge(*_: Any, **__: Any) -> Any:
    """The login operation's POST is answered at the edge (`edge.oauth.LoginEndpoint`) before Connexion routes it."""
    raise VendorError(404, "not_found", "Not found")


def rejects_unknown_query_parameters(document: Mapping[str, Any]) -> bool:
    """Whether the spec says the vendor refuses a query parameter it does not declare."""
    policy = document.get(UNKNOWN_QUERY_PARAMETERS)
    action = policy.get("action") if isinstance(policy, Mapping) else policy
    return action == "reject"


def _endpoint(state: MockState, vendor: Vendor, operation_id: str) -> Endpoint:
    if vendor.login is not None and operation_id == vendor.login.operation_id:
        return Endpoint(state, vendor, operation_id, _answered_at_the_edge)
    try:
        handler = vendor.operations[operation_id]
    except KeyError:
        raise StartupError(f"{vendor.name}: no handler for operationId {operation_id!r}") from None
    return Endpoint(state, vendor, operation_id, handler)


__all__ = ["MockApp", "MockState", "StartupError", "VendorError", "create_app", "mock_state"]
