"""`GET /`: what a newcomer needs in their first minute, as a page or (Accept: application/json) as JSON.

Everything shown is derived from the running mock: the vendors it serves, their fixture tokens
(fixtures/<api>/auth.yaml), their OAuth endpoints, and the admin routes registered on the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from mock_server.edge.oauth import pages
from mock_server.engine.auth import TokenRegistry
from mock_server.vendors.base import Vendor

if TYPE_CHECKING:
    from starlette.types import Scope

    from mock_server.admin.lazy import AdminApp
    from mock_server.state.mock_state import MockState

ADMIN_PREFIX = "/__admin"
ADMIN_TOKEN_HEADER = "X-Admin-Token"


class LandingPage:
    """Serves `GET /`; `admin_app` is the admin API, whose routes the page lists."""

    def __init__(self, state: MockState, admin_app: AdminApp) -> None:
        self.state = state
        self.admin_app = admin_app

    def answer(self, scope: Scope) -> Response | None:
        if scope["path"] != "/" or scope["method"] != "GET":
            return None
        return self._page(Request(scope))

    def _page(self, request: Request) -> Response:
        overview = describe(self.state, f"{request.url.scheme}://{request.url.netloc}", self.admin_app)
        accepted = parse_accept_header(request.headers.get("accept", ""), MIMEAccept)
        if accepted.best_match(["text/html", "application/json"]) == "application/json":
            return JSONResponse(overview)
        return HTMLResponse(pages().get_template("landing.html").render(overview=overview))


def describe(state: MockState, root: str, admin_app: AdminApp) -> dict[str, Any]:
    return {
        "title": "contract-mock-kit",
        "root": root,
        "today": state.clock.today().isoformat(),
        "apis": [
            _api(vendor, state.specs[name].auth_prefix, state.tokens[name], root)
            for name, vendor in state.vendors.items()
        ],
        "admin": _admin(state, root, admin_app),
    }


def _api(vendor: Vendor, auth_prefix: str, registry: TokenRegistry, root: str) -> dict[str, Any]:
    base_url = root + vendor.prefix
    described: dict[str, Any] = {
        "name": vendor.name,
        "title": vendor.title,
        "baseUrl": base_url,
        "swaggerUi": f"{base_url}/ui/",
        "spec": f"{base_url}/openapi.json",
        "authorization": f"Authorization: {auth_prefix} <token>",
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


def _admin(state: MockState, root: str, admin_app: AdminApp) -> dict[str, Any]:
    if not state.settings.admin_enabled:
        return {"enabled": False, "url": None, "header": None, "endpoints": []}
    endpoints = sorted(
        {
            (rule.rule, method)
            for rule in admin_app.flask_app.url_map.iter_rules()
            if rule.rule.startswith(ADMIN_PREFIX)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        }
    )
    return {
        "enabled": True,
        "url": f"{root}{ADMIN_PREFIX}",
        "header": ADMIN_TOKEN_HEADER if state.settings.admin_token else None,
        "endpoints": [f"{method} {path}" for path, method in endpoints],
    }
