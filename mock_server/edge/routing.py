"""Connexion's routing middleware, without Starlette's router walk for a request to an operation of a spec.

Connexion's `RoutingMiddleware` finds a request's operation with a Starlette `Router`: a `Mount` per
API, a `Route` per operation, each asked in turn (`Router.app`, `Mount.matches`, `Route.matches`,
`get_route_path`), then the operation's `RoutingOperation` hands a copy of the scope, with the path
parameters and the operation's id, to the next middleware: about a twentieth of a request's CPU.

`DirectRouting` does the same walk over a table built once from that very router: the first mount whose
pattern matches the path (as `Router.app` takes it; each mount is of a literal prefix, so its routes see the
path below the prefix), then, among that API's routes that allow the method, in the router's order, the first
whose pattern matches, its path parameters converted by its own convertors (as `Route.matches` does). That is
the route Starlette picks (the first full match). Only a request the edge routed to an operation
(`RequestFacts.route`) is routed this way, and only when the app is not mounted below a root path; anything
else (unknown paths, a method the path does not allow, `HEAD`, a path one slash away from an operation) goes
through Connexion's router as before. What is handed on is built by `_compat.connexion_routed_scope`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connexion.middleware.routing import RoutingMiddleware
from starlette.routing import Mount, Route

from mock_server import _compat
from mock_server.engine.facts import known_facts

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

# Per API mount, in the router's order: its pattern and, per method, its routes in the router's order.
_Table = list[tuple[Mount, dict[str, list[Route]]]]


class DirectRouting(RoutingMiddleware):  # type: ignore[misc]  # Connexion is untyped
    """`RoutingMiddleware` that routes a request the edge routed with one pass over a table."""

    def add_api(self, *args: Any, **kwargs: Any) -> None:
        super().add_api(*args, **kwargs)
        self._table: _Table | None = _routing_table(self.router.routes) if _compat.connexion_routing_checked() else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (routed := self._routed(scope)) is not None:
            await self.app(routed, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _routed(self, scope: Scope) -> Scope | None:
        table = getattr(self, "_table", None)
        facts = known_facts(scope)
        if table is None or facts is None or facts.route is None or scope.get("root_path"):
            return None
        path: str = scope["path"]
        for mount, by_method in table:
            if mount.path_regex.match(path) is None:
                continue
            # `Mount.matches`: a mount of a literal prefix, so the routes see the path below it.
            route_path = path[len(mount.path) :]
            for route in by_method.get(scope["method"], ()):
                found = route.path_regex.match(route_path)
                if found is not None:  # `Route.matches`, of a route that allows the method: a full match
                    params = {
                        name: route.param_convertors[name].convert(value) for name, value in found.groupdict().items()
                    }
                    return _compat.connexion_routed_scope(
                        scope,
                        operation_id=route.endpoint.operation_id,
                        api_base_path=mount.path,
                        path_params={**scope.get("path_params", {}), **params},
                    )
            return None  # Starlette would answer (a 405, a redirect) or hand on: its router decides
        return None


def _routing_table(routes: list[Any]) -> _Table | None:
    """The router's mounts and their routes by method; None if the router holds anything else."""
    table: _Table = []
    for mount in routes:
        if not isinstance(mount, Mount) or not mount.routes or set(mount.param_convertors) != {"path"}:
            return None
        if mount.path_format != mount.path + "/{path}":  # a literal prefix, then the path below it
            return None
        by_method: dict[str, list[Route]] = {}
        for route in mount.routes:
            if not isinstance(route, Route) or not route.methods:
                return None
            for method in sorted(route.methods):
                by_method.setdefault(method, []).append(route)
        table.append((mount, by_method))
    return table
