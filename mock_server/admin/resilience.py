"""Admin endpoints for faults and limits, on the admin blueprint (so behind its token check).

- `GET|POST|DELETE /__admin/faults`, `DELETE /__admin/faults/<id>`: with a tenant named (by
  `X-Tenant-Token` or `?tenant=<fingerprint>`), GET lists the faults that fire for it (its own and
  those for every tenant, each with its `scope`), POST adds to its own, DELETE removes its own.
  With none named, POST adds faults for every tenant (`scope` `*`), GET lists every fault of every
  scope, DELETE removes them all (or the one with that id, wherever it is).
  POST takes one fault or `{"faults": [...]}` (schema in `mock_server.resilience.faults`).
- `GET|POST /__admin/limits`: the limits each API declares, whether they are on, the tenant's
  edition, calls in flight and API credits used today; POST `{"enabled": bool}` and/or
  `{"editions": {"<api>": "<edition>"}}` for one tenant, or `{"enabled": bool}` for all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from mock_server.engine.auth import fingerprint
from mock_server.engine.routes import RouteTable
from mock_server.resilience.faults import SERVER_WIDE, FaultError, Faults
from mock_server.resilience.limits import SETTINGS_VALUE, LimitsEngine

if TYPE_CHECKING:
    from mock_server.state.mock_state import MockState

TENANT_TOKEN_HEADER = "X-Tenant-Token"


def register(blueprint: Blueprint, state: MockState) -> None:
    faults = Faults(state.store, RouteTable(state.vendors, state.specs))
    limits = LimitsEngine(state.store, enabled=state.settings.limits)

    @blueprint.get("/faults")
    def list_faults() -> Response:
        scope = _scope()
        return jsonify({"scope": scope, "faults": faults.report(scope)})

    @blueprint.post("/faults")
    def add_faults() -> Response:
        payload = request.get_json(silent=True)
        batch = payload.get("faults") if isinstance(payload, dict) and "faults" in payload else [payload]
        if not isinstance(batch, list):
            return _error(400, ['send a fault object or {"faults": [...]}'])
        scope = _scope()
        try:
            installed = faults.install(scope, batch)
        except FaultError as exc:
            return _error(400, exc.problems)
        response = jsonify({"scope": scope, "faults": installed})
        response.status_code = 201
        return response

    @blueprint.delete("/faults")
    def clear_faults() -> Response:
        scope = _scope()
        return jsonify({"scope": scope, "removed": faults.remove(scope)})

    @blueprint.delete("/faults/<fault_id>")
    def remove_fault(fault_id: str) -> Response:
        scope = _scope()
        removed = faults.remove(scope, fault_id)
        if not removed:
            where = "any scope" if scope == SERVER_WIDE else f"the faults of tenant {scope}"
            return _error(404, [f"no fault {fault_id} in {where}"])
        return jsonify({"scope": scope, "removed": removed})

    @blueprint.get("/limits")
    def read_limits() -> Response:
        scope = _scope()
        apis = {name: limits.usage(scope, vendor) for name, vendor in state.vendors.items() if vendor.limits.any}
        return jsonify({"scope": scope, "enabled": limits.enabled(scope), "apis": apis})

    @blueprint.post("/limits")
    def change_limits() -> Response:
        payload = request.get_json(silent=True)
        scope = _scope()
        problems = _limits_problems(payload, scope, state)
        if problems:
            return _error(400, problems)
        changes: dict[str, Any] = payload if isinstance(payload, dict) else {}
        current = limits.settings(scope)
        if "enabled" in changes:
            current["enabled"] = changes["enabled"]
        if "editions" in changes:
            current["editions"] = {**current.get("editions", {}), **changes["editions"]}
        state.store.set_value(scope, SETTINGS_VALUE, current)
        return read_limits()


def _limits_problems(payload: Any, scope: str, state: MockState) -> list[str]:
    if not isinstance(payload, dict) or not payload or set(payload) - {"enabled", "editions"}:
        return ['send {"enabled": true|false} and/or {"editions": {"<api>": "<edition>"}}']
    problems = []
    if "enabled" in payload and not isinstance(payload["enabled"], bool):
        problems.append("enabled must be true or false")
    editions = payload.get("editions", {})
    if editions and scope == SERVER_WIDE:
        problems.append(f"an edition is set per tenant: name one with {TENANT_TOKEN_HEADER} or ?tenant=")
    if not isinstance(editions, dict):
        return [*problems, "editions must map an API to an edition"]
    for api, edition in editions.items():
        vendor = state.vendors.get(api)
        known = sorted(vendor.limits.editions) if vendor else []
        if edition not in known:
            problems.append(
                f"editions.{api}: {edition!r} is not an edition of {api}; known: {', '.join(known) or 'none'}"
            )
    return problems


def _scope() -> str:
    token = request.headers.get(TENANT_TOKEN_HEADER)
    if token:
        return fingerprint(token)
    return request.args.get("tenant") or SERVER_WIDE


def _error(status: int, problems: list[str]) -> Response:
    response = jsonify({"error": "; ".join(problems), "problems": problems})
    response.status_code = status
    return response
