"""Connexion's Swagger UI middleware, asked only about the paths it can serve.

Connexion's `SwaggerUIMiddleware` matches every request against a mount per API and then each of that
API's Swagger UI routes (the spec document, the UI's pages and files) before it hands the request on:
about a tenth of a read's CPU. A request the edge routed to an operation of a spec
(`RequestFacts.route`) whose path below the API's prefix is outside the UI's and the spec document's
paths is none of these, so it goes straight on, as Connexion's own fallback sends it (a copy of
the scope). Anything else (the UI, the spec, unknown paths, a path one slash away from a UI route,
which Starlette answers with a redirect) goes through Connexion's router as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions

from mock_server.engine.facts import known_facts

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

# What the mock serves below each API's prefix besides its operations (app.py passes these options).
SPEC_PATH = "/openapi.json"
UI_PATH = "/ui"


def swagger_ui_options(enabled: bool) -> SwaggerUIOptions:
    return SwaggerUIOptions(spec_path=SPEC_PATH, swagger_ui=enabled, swagger_ui_path=UI_PATH)


# The first path segment of every route the middleware adds under a prefix: the spec document
# (`.json` and its `.yaml` twin) and the UI (its page, its files, its configuration).
_SERVED_STEMS = (SPEC_PATH.rsplit(".", 1)[0], UI_PATH)


class SwaggerUIForItsPaths(SwaggerUIMiddleware):  # type: ignore[misc]  # Connexion is untyped
    """`SwaggerUIMiddleware` for the requests it may answer; an API operation's request goes on."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._next = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and routed_elsewhere(scope):
            await self._next(dict(scope), receive, send)
            return
        await super().__call__(scope, receive, send)


def routed_elsewhere(scope: Scope) -> bool:
    """Whether the edge routed the request to an operation whose path is none of Swagger UI's."""
    facts = known_facts(scope)
    if facts is None or facts.route is None:
        return False
    below_prefix = facts.path[len(facts.route.vendor.prefix.rstrip("/")) :]
    return not below_prefix.startswith(_SERVED_STEMS)
