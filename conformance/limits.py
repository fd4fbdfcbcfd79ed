"""The vendors' documented limits, as the harness honours them by default against a target that is not
the bundled mock: a request rate, and a daily allowance that caps the run's request budget.

The limits are declared once, in the vendor facts (`vendor_facts`, `VendorFacts.limits`); this module is the harness's
one reader of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.apis import Api
from vendor_facts import Limits, discover

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$", re.IGNORECASE)
_UNITS = {"s": "s", "sec": "s", "second": "s", "m": "m", "min": "m", "minute": "m", "h": "h", "hour": "h"}
_UNITS |= {"d": "d", "day": "d"}
_WINDOWS = {1.0: "s", 60.0: "m", 3600.0: "h", 86400.0: "d"}
NO_RATE_LIMIT = "none"


class RateLimitError(ValueError):
    pass


@dataclass(frozen=True)
class DocumentedLimits:
    rate: str | None = None  # `100/m`: requests per second, minute, hour or day
    daily_requests: int | None = None  # the smallest documented daily allowance (the edition is not known)


def parse_rate(text: str) -> str | None:
    """`100/min`, `100/m`, `5/s`… as `N/unit`; `none` switches the cap off (None)."""
    if text.strip().lower() == NO_RATE_LIMIT:
        return None
    found = _RATE.match(text)
    if found is None or int(found.group(1)) < 1:
        raise RateLimitError(f"expected a rate such as 100/min, 5/s or 'none', got {text!r}")
    return f"{int(found.group(1))}/{_UNITS[found.group(2).lower()]}"


def documented_limits(api: Api) -> DocumentedLimits:
    limits = _vendor_limits(api.name)
    if limits is None:
        return DocumentedLimits()
    rate = None
    if limits.rate is not None:
        unit = _WINDOWS.get(float(limits.rate.window_seconds))
        per_second = limits.rate.requests / limits.rate.window_seconds
        rate = f"{limits.rate.requests}/{unit}" if unit else f"{max(int(per_second), 1)}/s"
    daily = [edition.daily_credits for edition in limits.editions.values() if edition.daily_credits is not None]
    return DocumentedLimits(rate=rate, daily_requests=min(daily) if daily else None)


def _vendor_limits(name: str) -> Limits | None:
    facts = discover().get(name)
    return None if facts is None else facts.limits
