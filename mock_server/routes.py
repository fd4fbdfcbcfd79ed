"""Which operation of which API a request path and method name, from the specs (for faults and limits)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mock_server.spec import SpecView
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


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template)) + "/?$")


class RouteTable:
    def __init__(self, vendors: Mapping[str, Vendor], specs: Mapping[str, SpecView]) -> None:
        self.vendors = sorted(vendors.values(), key=lambda v: len(v.prefix), reverse=True)
        self.routes = [
            Route(
                vendor,
                op.path,
                op.method,
                op.operation_id,
                tuple(sorted(int(code) for code in op.definition.get("responses", {}) if str(code).isdigit())),
            )
            for vendor in self.vendors
            for op in specs[vendor.name].operations
        ]
        self._regexes = {(r.vendor.name, r.template): _template_regex(r.template) for r in self.routes}

    def vendor_for(self, path: str) -> Vendor | None:
        for vendor in self.vendors:
            if path == vendor.prefix or path.startswith(vendor.prefix + "/"):
                return vendor
        return None

    def route_for(self, method: str, path: str) -> Route | None:
        vendor = self.vendor_for(path)
        if vendor is None:
            return None
        local = path[len(vendor.prefix) :] or "/"
        for route in self.routes:
            if (
                route.vendor is vendor
                and route.method == method
                and self._regexes[(vendor.name, route.template)].match(local)
            ):
                return route
        return None
