"""Vendor modules: one per API. Each module exposes `VENDOR`; this package finds them."""

from __future__ import annotations

import importlib
import pkgutil

from mock_server.vendors.base import Vendor


def discover() -> dict[str, Vendor]:
    """Every vendor module in this package, by API name, in a stable order."""
    found: dict[str, Vendor] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name == "base" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        vendor = getattr(module, "VENDOR", None)
        if isinstance(vendor, Vendor):
            found[vendor.name] = vendor
    return found
