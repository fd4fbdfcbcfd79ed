"""The app factory: one Connexion FlaskApp serving every vendor's spec, the admin API and the errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connexion import FlaskApp
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver

from mock_server import admin, landing, oauth
from mock_server.auth import TokenRegistry, security_handler
from mock_server.clock import Clock
from mock_server.config import Settings
from mock_server.errors import VendorError
from mock_server.fast_flask import speed_up
from mock_server.fixtures import load_fixtures
from mock_server.guard import GuardMiddleware, RequestLog
from mock_server.rendering import ErrorRendering
from mock_server.spec import SpecView
from mock_server.store import InMemoryStore, RecordsView, Store
from mock_server.validation import VALIDATOR_MAP
from mock_server.vendors import discover
from mock_server.vendors.base import RequestContext, Vendor

# Connexion logs a warning on every request to an operation with several request content types.
logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)


COMPACT_JSON = Jsonifier(json, separators=(",", ":"))
ErrorHandler = Callable[[ConnexionRequest, Exception], ConnexionResponse]


class StartupError(Exception):
    """The mock cannot start: an unknown API name, an invalid spec or fixture, a missing handler."""


@dataclass
class MockState:
    """Everything the running mock holds, reachable from handlers, admin endpoints and tests."""

    settings: Settings
    vendors: dict[str, Vendor]
    specs: dict[str, SpecView]
    tokens: dict[str, TokenRegistry]
    store: Store
    clock: Clock
    requests: RequestLog = field(default_factory=RequestLog)


def create_app(settings: Settings | None = None, vendors: Mapping[str, Vendor] | None = None) -> FlaskApp:
    """The mock. `vendors` replaces the discovered vendor modules (tests use it for variants)."""
    settings = settings or Settings()
    vendors = _selected_vendors(settings, dict(vendors) if vendors is not None else discover())
    specs = {name: SpecView.load(settings.spec_dir / f"{name}.yaml") for name in vendors}
    fixtures = {name: load_fixtures(vendor, settings.fixtures_dir) for name, vendor in vendors.items()}
    state = MockState(
        settings=settings,
        vendors=vendors,
        specs=specs,
        tokens={name: f.tokens for name, f in fixtures.items()},
        store=InMemoryStore({name: f.seed for name, f in fixtures.items()}),
        clock=Clock(settings.today),
        requests=RequestLog(settings.request_log_size),
    )

    app = FlaskApp(__name__)
    speed_up(app)
    app.app.extensions["contract_mock"] = state
    oauth.register(app, state)  # first: it rewrites the served specs and must wrap the request log
    landing.register(app.app, state)
    rendering = ErrorRendering(vendors, specs)
    for name, vendor in vendors.items():
        _add_vendor_api(app, state, vendor)
    for exc in rendering.handled_exceptions:
        app.add_error_handler(exc, _on_event_loop(rendering.handle))
    app.add_middleware(
        GuardMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        rendering=rendering,
        max_body_bytes=settings.max_body_bytes,
        log=state.requests,
    )
    if settings.admin_enabled:
        admin.register(app.app, state)
    return app


def _on_event_loop(handler: ErrorHandler) -> Callable[[ConnexionRequest, Exception], Awaitable[ConnexionResponse]]:
    """Connexion runs a synchronous error handler in a thread pool; rendering an error never blocks."""

    async def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return handler(request, exc)

    return handle


def mock_state(app: FlaskApp) -> MockState:
    return app.app.extensions["contract_mock"]


def _selected_vendors(settings: Settings, available: dict[str, Vendor]) -> dict[str, Vendor]:
    unknown = sorted(set(settings.apis) - set(available))
    if unknown:
        raise StartupError(f"unknown API {', '.join(unknown)}; available: {', '.join(available)}")
    return {name: v for name, v in available.items() if not settings.apis or name in settings.apis}


def _add_vendor_api(app: FlaskApp, state: MockState, vendor: Vendor) -> None:
    spec = state.specs[vendor.name]
    handler_class = security_handler(vendor.auth_prefix, vendor.org_header, state.tokens[vendor.name])
    app.add_api(
        spec.raw,
        base_path=vendor.prefix,
        name=vendor.name,
        resolver=Resolver(function_resolver=lambda operation_id: _endpoint(state, vendor, operation_id)),
        strict_validation=True,
        validate_responses=state.settings.validate_responses,
        validator_map=VALIDATOR_MAP,
        security_map={"bearer": handler_class, "oauth2": handler_class, "apiKey": handler_class},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=state.settings.swagger_ui),
        jsonifier=COMPACT_JSON,
    )


def _endpoint(state: MockState, vendor: Vendor, operation_id: str) -> Callable[..., Any]:
    try:
        handler = vendor.operations[operation_id]
    except KeyError:
        raise StartupError(f"{vendor.name}: no handler for operationId {operation_id!r}") from None
    spec = state.specs[vendor.name]

    def endpoint(**kwargs: Any) -> Any:
        token_info = kwargs.pop("token_info")
        kwargs.pop("user", None)
        tenant = token_info["sub"]
        ctx = RequestContext(
            vendor=vendor,
            tenant=tenant,
            principal=token_info["principal"],
            records=RecordsView(state.store, tenant, vendor.name),
            clock=state.clock,
            spec=spec,
        )
        return handler(ctx, **kwargs)

    endpoint.__name__ = operation_id
    return endpoint


__all__ = ["MockState", "StartupError", "VendorError", "create_app", "mock_state"]
