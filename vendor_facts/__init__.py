"""The bottom layer: what each vendor *is* (resources, derived members, references, limits, OAuth,
error kinds, read forms), one module per vendor, plus the bundled specs and fixtures
(`vendor_facts.resources`).

`mock_server` (how the mock behaves) and `conformance` (how a target is judged) both read from here
and never from each other (the import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import importlib
import pkgutil

from vendor_facts.model import (
    KIND_BY_STATUS,
    DerivedMember,
    Edition,
    ErrorAnswer,
    ErrorKind,
    Limits,
    LoginDescription,
    OAuthDescription,
    RateLimit,
    References,
    Resource,
    VendorFacts,
)


def discover() -> dict[str, VendorFacts]:
    """Every vendor module of this package (a module with a `FACTS`), by API name, in a stable order."""
    found: dict[str, VendorFacts] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        facts = getattr(importlib.import_module(f"{__name__}.{module_info.name}"), "FACTS", None)
        if isinstance(facts, VendorFacts):
            found[facts.name] = facts
    return found


__all__ = [
    "KIND_BY_STATUS",
    "DerivedMember",
    "Edition",
    "ErrorAnswer",
    "ErrorKind",
    "Limits",
    "LoginDescription",
    "OAuthDescription",
    "RateLimit",
    "References",
    "Resource",
    "VendorFacts",
    "discover",
]
