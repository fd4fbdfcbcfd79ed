"""Connexion's exception middleware, its `send` wrapped only for requests nothing else watches.

Starlette's `ExceptionMiddleware` (Connexion's subclasses it) wraps every request's `send`, to know whether
the answer had begun when an exception arrives, and builds a `Request` for the handlers, before it calls
the app: about a thirtieth of a read's instructions, for handlers that run only when something is raised.
A request to an operation that the edge is logging is already watched (`edge.log.Recording` knows whether
its answer has begun), and nothing on its way uses Starlette's own exception handling (Swagger UI's routes
would: `edge.swagger_ui.routed_elsewhere`), so it goes straight to the app; an exception it raises is then
handed, as raised, to a second copy of the middleware with the same handlers, which renders and sends
the answer as before. After the
answer has begun, Starlette raises `RuntimeError` instead of handling: so does this. Every other request
(the admin API, Swagger UI, unknown paths) goes through the middleware as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connexion.middleware.exceptions import ExceptionMiddleware

from mock_server.edge.log import recording_of
from mock_server.edge.swagger_ui import routed_elsewhere

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

_RAISED = "contract_mock.raised"  # the scope key of the exception handed to the handling copy


async def _raise_again(scope: Scope, receive: Receive, send: Send) -> None:
    raise scope.pop(_RAISED)


class ExceptionsWhenRaised(ExceptionMiddleware):  # type: ignore[misc]  # Connexion is untyped
    def __init__(self, next_app: ASGIApp) -> None:
        self._handling = ExceptionMiddleware(_raise_again)  # first: the constructor adds handlers
        super().__init__(next_app)

    def add_exception_handler(self, exc_class_or_status_code: Any, handler: Any) -> None:
        super().add_exception_handler(exc_class_or_status_code, handler)
        self._handling.add_exception_handler(exc_class_or_status_code, handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        recording = recording_of(send) if scope["type"] == "http" and routed_elsewhere(scope) else None
        if recording is None:
            await super().__call__(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if recording.answering:  # as Starlette: nothing can be answered any more
                raise RuntimeError("Caught handled exception, but response already started.") from exc
            scope[_RAISED] = exc
            await self._handling(scope, receive, send)
