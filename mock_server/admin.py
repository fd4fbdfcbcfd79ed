"""The WireMock-like admin API under `/__admin`: reset, state, request log, clock.

Registered only when the mock is bound to loopback, or when an admin token is configured
(then every admin request must carry it in `X-Admin-Token`).
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, jsonify, request

from mock_server import resilience_admin
from mock_server.auth import fingerprint
from mock_server.store import RecordsView

if TYPE_CHECKING:
    from mock_server.state import MockState

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
                    "GET|POST /__admin/clock",
                    "GET|POST|DELETE /__admin/faults",
                    "GET|POST /__admin/limits",
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
        return jsonify({"tenants": state.store.tenants()})

    @blueprint.get("/state")
    def tenant_state() -> Response:
        tenant = _tenant({})
        if tenant is None:
            return _error(400, f"name the tenant: ?tenant=<fingerprint> or the {TENANT_TOKEN_HEADER} header")
        return jsonify({"tenant": tenant, "apis": state.store.snapshot(tenant)})

    @blueprint.get("/requests")
    def requests_log() -> Response:
        limit = request.args.get("limit", default=50, type=int)
        entries = state.requests.entries(limit=max(1, min(limit, 1000)), tenant=_tenant({}))
        return jsonify({"requests": entries})

    @blueprint.get("/clock")
    def read_clock() -> Response:
        return jsonify(_clock_body())

    @blueprint.post("/clock")
    def change_clock() -> Response:
        payload = _json_object()
        try:
            if "today" in payload:
                state.clock.set(dt.date.fromisoformat(str(payload["today"])))
            elif "advanceDays" in payload and isinstance(payload["advanceDays"], int):
                state.clock.advance(payload["advanceDays"])
            else:
                return _error(400, 'send {"today": "YYYY-MM-DD"} or {"advanceDays": <int>}')
        except ValueError as exc:
            return _error(400, f"invalid date: {exc}")
        _run_clock_hooks(state)
        return jsonify(_clock_body())

    def _clock_body() -> dict[str, str]:
        return {"today": state.clock.today().isoformat(), "now": state.clock.now().isoformat()}

    resilience_admin.register(blueprint, state)
    flask_app.register_blueprint(blueprint)


def _run_clock_hooks(state: MockState) -> None:
    today = state.clock.today()
    for tenant in state.store.tenants():
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
