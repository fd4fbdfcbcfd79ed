"""`GET /`: what a newcomer needs in their first minute, as a page or (Accept: application/json) as JSON.

Everything shown is derived from the running mock: the vendors it serves, their fixture tokens
(fixtures/<api>/auth.yaml), their OAuth endpoints, and the admin routes registered on the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from mock_server.auth import TokenRegistry
from mock_server.vendors.base import Vendor

if TYPE_CHECKING:
    from mock_server.app import MockState

ADMIN_BLUEPRINT = "contract_mock_admin"
ADMIN_TOKEN_HEADER = "X-Admin-Token"


def register(flask_app: Flask, state: MockState) -> None:
    blueprint = Blueprint("contract_mock_landing", __name__, template_folder="templates")

    @blueprint.get("/")
    def landing() -> Response | str:
        overview = describe(state, request.host_url.rstrip("/"))
        if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
            return jsonify(overview)
        return render_template("landing.html", overview=overview)

    flask_app.register_blueprint(blueprint)


def describe(state: MockState, root: str) -> dict[str, Any]:
    return {
        "title": "contract-mock-kit",
        "today": state.clock.today().isoformat(),
        "apis": [_api(vendor, state.tokens[name], root) for name, vendor in state.vendors.items()],
        "admin": _admin(state, root),
    }


def _api(vendor: Vendor, registry: TokenRegistry, root: str) -> dict[str, Any]:
    base_url = root + vendor.prefix
    described: dict[str, Any] = {
        "name": vendor.name,
        "title": vendor.title,
        "baseUrl": base_url,
        "swaggerUi": f"{base_url}/ui/",
        "spec": f"{base_url}/openapi.json",
        "authorization": f"Authorization: {vendor.auth_prefix} <token>",
        "orgHeader": vendor.org_header,
        "tokens": [_token(token, registry) for token in registry.tokens()],
        "oauth": None,
    }
    if vendor.oauth is not None:
        described["oauth"] = {
            "tokenUrl": base_url + vendor.oauth.token_path,
            "authorizationUrl": base_url + vendor.oauth.authorize_path,
            "grantTypes": ["authorization_code", "refresh_token"],
            "accessTokenLifetimeSeconds": int(vendor.oauth.access_token_lifetime.total_seconds()),
        }
    return described


def _token(token: str, registry: TokenRegistry) -> dict[str, Any]:
    grant = registry.lookup(token)
    assert grant is not None  # every listed token has a grant
    return {"token": token, "scopes": sorted(grant.scopes), "orgs": sorted(grant.orgs), "principal": grant.principal}


def _admin(state: MockState, root: str) -> dict[str, Any]:
    if not state.settings.admin_enabled:
        return {"enabled": False, "url": None, "header": None, "endpoints": []}
    endpoints = sorted(
        {
            (rule.rule, method)
            for rule in current_app.url_map.iter_rules()
            if rule.endpoint.startswith(ADMIN_BLUEPRINT + ".")
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        }
    )
    return {
        "enabled": True,
        "url": f"{root}/__admin",
        "header": ADMIN_TOKEN_HEADER if state.settings.admin_token else None,
        "endpoints": [f"{method} {path}" for path, method in endpoints],
    }
