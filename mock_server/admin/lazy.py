"""The admin API's Flask app, built when it is first used.

Serving the vendors' APIs needs neither Flask nor the admin modules: building the admin app at start
would import them (about a fifth of the mock's imports, bench/README.md) for a request that may never
come. The first request to `/__admin` (or to the landing page, which lists the admin routes) builds it,
on the event loop like every request, so it is built once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from mock_server.state.mock_state import MockState


class AdminApp:
    def __init__(self, state: MockState, import_name: str) -> None:
        self._state = state
        self._import_name = import_name

    @functools.cached_property
    def flask_app(self) -> Flask:
        """The Flask app: the admin API's blueprint when the settings enable it, else no route."""
        from flask import Flask

        app = Flask(self._import_name)
        if self._state.settings.admin_enabled:
            from mock_server.admin import api

            api.register(app, self._state)
        return app

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.flask_app.wsgi_app(environ, start_response)
