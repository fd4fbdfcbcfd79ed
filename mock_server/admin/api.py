"""The WireMock-like admin API under `/__admin`: reset, state, request log, clock.

Registered only when the mock is bound to loopback, or when an admin token is configured
(then every admin request must carry it in `X-Admin-Token`).
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, jsonify, request

from mock_server.admin import records as admin_records
from mock_server.admin import resilience as resilience_admin
from mock_server.engine.auth import fingerprint
from mock_server.state.clock import Clock
from mock_server.state.store import SERVER_WIDE, RecordsView

if TYPE_CHECKING:
    from mock_server.state.mock_state import MockState

TENANT_TOKEN_HEADER = "X-Tenant-Token"


def register(flask_app: Flask, state: MockState) -> None:
    blueprint = Blueprint("contract_mock_admin", __name__, url_prefix="/__admin")

    @blueprint.before_request
    def require_admin_token() -> Response | None:
        expected = state.settings.admin_token
        if expected is None:
            return None
        given = request.headers.get("X-Admin-Token", "")
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
        return _error(401, "admin endpoints need the X-Admin-Token header")

    @blueprint.get("")
    def index() -> Response:
        return jsonify(
            {
                "apis": {name: vendor.prefix for name, vendor in state.vendors.items()},
                "endpoints": [
                    "POST /__admin/reset",
                    "GET /__admin/tenants",
                    "GET /__admin/state",
                    "GET /__admin/requests",
                    "GET|POST|DELETE /__admin/clock",
                    "GET|POST|DELETE /__admin/faults",
                    "GET|POST /__admin/limits",
                    "GET|POST /__admin/clock",
                    "PUT /__admin/records/{api}/{collection}/{id}",
                ],
            }
        )

    @blueprint.post("/reset")
    def reset() -> Response:
        payload = _json_object()
        tenant = _tenant(payload)
        state.store.reset(tenant)
        if tenant is None:
            state.requests.clear()
        return jsonify({"reset": tenant or "all"})

    @blueprint.get("/tenants")
    def tenants() -> Response:
        settings = state.settings
        return jsonify(
            {
                "tenants": state.store.tenants(),
                "maxTenants": settings.max_tenants,
                "tenantIdleTtlSeconds": settings.tenant_idle_ttl_seconds,
            }
        )

    @blueprint.get("/state")
    def tenant_state() -> Response:
        tenant = _tenant({})
        if tenant is None:
            return _error(400, f"name the tenant: ?tenant=<fingerprint> or the {TENANT_TOKEN_HEADER} header")
        body = {"tenant": tenant, "apis": state.store.snapshot(tenant), "evicted": state.store.evicted(tenant)}
        if body["evicted"]:
            body["note"] = "this tenant was evicted (idle or least recently used); it started again from the seed"
        return jsonify(body)

    @blueprint.get("/requests")
    def requests_log() -> Response:
        limit = request.args.get("limit", default=50, type=int)
        entries = state.requests.entries(limit=max(1, min(limit, 1000)), tenant=_tenant({}))
        if request.args.get("format") == "har":
            return admin_records.journal_as_har(state, entries)
        return jsonify({"requests": entries})

    @blueprint.get("/clock")
    def read_clock() -> Response:
        return jsonify(_clock_body(_clock({})))

    @blueprint.post("/clock")
    def change_clock() -> Response:
        payload = _json_object()
        clock = _clock(payload)
        try:
            if "today" in payload:
                clock.set(dt.date.fromisoformat(str(payload["today"])))
            elif "advanceDays" in payload and isinstance(payload["advanceDays"], int):
                clock.advance(payload["advanceDays"])
            else:
                return _error(400, 'send {"today": "YYYY-MM-DD"} or {"advanceDays": <int>}')
        except (ValueError, OverflowError) as exc:
            return _error(400, f"invalid date: {exc}")
        _run_clock_hooks(state, clock)
        return jsonify(_clock_body(clock))

    @blueprint.delete("/clock")
    def drop_tenant_clock() -> Response:
        """The tenant's clock follows the server-wide one again."""
        tenant = _tenant({})
        if tenant is None:
            return _error(400, f"name the tenant: ?tenant=<fingerprint> or the {TENANT_TOKEN_HEADER} header")
        clock = state.clock.for_tenant(tenant)
        clock.clear()
        _run_clock_hooks(state, state.clock.for_tenant(tenant))
        return jsonify(_clock_body(state.clock.for_tenant(tenant)))

    def _clock(payload: dict[str, Any]) -> Clock:
        """The named tenant's clock, else the server-wide one."""
        tenant = _tenant(payload)
        return state.clock if tenant is None else state.clock.for_tenant(tenant)

    def _clock_body(clock: Clock) -> dict[str, Any]:
        tenant = None if clock.tenant == SERVER_WIDE else clock.tenant
        return {
            "today": clock.today().isoformat(),
            "now": clock.now().isoformat(),
            "tenant": tenant,
            "ownClock": clock.own(),
        }

    resilience_admin.register(blueprint, state)
    admin_records.register(blueprint, state)
    flask_app.register_blueprint(blueprint)


def _run_clock_hooks(state: MockState, changed: Clock) -> None:
    """Moves records forward for the tenants whose today changed: one tenant, or all that follow the server."""
    if changed.tenant == SERVER_WIDE:
        tenants = [t for t in state.store.tenants() if not state.clock.for_tenant(t).own()]
    else:
        tenants = [changed.tenant]
    for tenant in tenants:
        today = state.clock.for_tenant(tenant).today()
        for name, vendor in state.vendors.items():
            if vendor.on_clock_change is not None:
                vendor.on_clock_change(RecordsView(state.store, tenant, name), today)


def _json_object() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else {}


def _tenant(payload: dict[str, Any]) -> str | None:
    """The tenant named by fingerprint (`tenant`) or by its token (header or body `token`)."""
    token = request.headers.get(TENANT_TOKEN_HEADER) or payload.get("token")
    if token:
        return fingerprint(str(token))
    tenant = payload.get("tenant") or request.args.get("tenant")
    return str(tenant) if tenant else None


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response
