"""Which operation of which API a request path and method name, from the specs (for faults and limits)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_server.engine.spec import SpecView

if TYPE_CHECKING:
    from mock_server.vendors.base import Vendor


@dataclass(frozen=True)
class Route:
    vendor: Vendor
    template: str  # the spec's path template, e.g. /api/v2/contract/{id}
    method: str  # upper case
    operation_id: str
    statuses: tuple[int, ...]  # every status the spec declares for the operation

    def __str__(self) -> str:
        return f"{self.vendor.name} {self.method} {self.template} ({self.operation_id})"


class RouteTable:
    """Built once at start: per API and method, the spec's operations in the spec's order."""

    def __init__(self, vendors: Mapping[str, Vendor], specs: Mapping[str, SpecView]) -> None:
        self.vendors = sorted(vendors.values(), key=lambda v: len(v.prefix), reverse=True)
        self.routes: list[Route] = []
        self._by_method: dict[tuple[str, str], list[tuple[re.Pattern[str], Route]]] = {}
        for vendor in self.vendors:
            for operation in specs[vendor.name].operations:
                route = Route(
                    vendor,
                    operation.path,
                    operation.method,
                    operation.operation_id,
                    tuple(
                        sorted(int(code) for code in operation.definition.get("responses", {}) if str(code).isdigit())
                    ),
                )
                self.routes.append(route)
                self._by_method.setdefault((vendor.name, operation.method), []).append((operation.regex, route))

    def vendor_for(self, path: str) -> Vendor | None:
        for vendor in self.vendors:
            if path == vendor.prefix or path.startswith(vendor.prefix + "/"):
                return vendor
        return None

    def route_for(self, method: str, path: str, vendor: Vendor | None = None) -> Route | None:
        """The route of `method` on `path`; `vendor` when the caller already knows whose prefix the path has."""
        vendor = vendor or self.vendor_for(path)
        if vendor is None:
            return None
        local = path[len(vendor.prefix) :] or "/"
        candidates = self._by_method.get((vendor.name, method.upper()), [])
        return next((route for regex, route in candidates if regex.fullmatch(local)), None)
