"""The vendors' documented limits, enforced per tenant: what each vendor declares in `Vendor.limits`.

- A rate limit is DRF's sliding window (`Store.throttle`): a refused request is not counted, and
  `Retry-After` is the whole seconds until the oldest counted request leaves the window.
- An edition's concurrency cap counts the tenant's calls in flight (`Store.add`, +1 / -1).
- An edition's daily credits count one per accepted call and UTC day (`Store.add` with a TTL).

All counters live in the store, so several workers sharing a store share them. Limits are on
unless `--limits off`; the admin API turns them off (or on) for one tenant or for all, and sets a
tenant's edition per API: `{"enabled": false}`, `{"editions": {"<api>": "<edition>"}}`.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server.engine.errors import VendorError
from mock_server.state.store import Store
from mock_server.vendors.base import Edition, Vendor

SETTINGS_VALUE = "limits"  # Store value (per tenant, or "*" for all): {"enabled": bool, "editions": {api: name}}
SERVER_WIDE = "*"
Release = Callable[[], None]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Refusal:
    error: VendorError
    limit: str  # "rate", "concurrency" or "credits": for the journal


class LimitsEngine:
    def __init__(self, store: Store, *, enabled: bool, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.enabled_by_default = enabled
        self.now = now

    # -- settings ----------------------------------------------------------------------------------

    def settings(self, tenant: str) -> dict[str, Any]:
        value = self.store.get_value(tenant, SETTINGS_VALUE)
        return value if isinstance(value, dict) else {}

    def enabled(self, tenant: str) -> bool:
        for scope in (tenant, SERVER_WIDE):
            switch = self.settings(scope).get("enabled")
            if isinstance(switch, bool):
                return switch
        return self.enabled_by_default

    def edition(self, tenant: str, vendor: Vendor) -> tuple[str | None, Edition | None]:
        limits = vendor.limits
        chosen = self.settings(tenant).get("editions", {}).get(vendor.name) or limits.default_edition
        return chosen, limits.editions.get(chosen) if chosen else None

    # -- enforcement -------------------------------------------------------------------------------

    def admit(self, tenant: str, vendor: Vendor) -> tuple[Refusal | None, Release]:
        """Count one call of `tenant` to `vendor`: a refusal, or how to release it once answered."""
        if not vendor.limits.any or not self.enabled(tenant):
            return None, _nothing
        refused = self._rate(tenant, vendor)
        if refused is not None:
            return refused, _nothing
        name, edition = self.edition(tenant, vendor)
        if edition is None:
            return None, _nothing
        in_flight = f"in-flight:{vendor.name}"
        release = _nothing
        if edition.concurrent_calls is not None:
            if self.store.add(tenant, in_flight, 1) > edition.concurrent_calls:
                self.store.add(tenant, in_flight, -1)
                message = f"More than {edition.concurrent_calls} concurrent calls ({name} edition)"
                return Refusal(VendorError(429, "throttled", message), "concurrency"), _nothing

            def release() -> None:
                self.store.add(tenant, in_flight, -1)

        if edition.daily_credits is not None:
            used = self.store.add(tenant, self._credits_name(vendor), 1, ttl_seconds=2 * 86_400)
            if used > edition.daily_credits:
                self.store.add(tenant, self._credits_name(vendor), -1)
                release()
                wait = str(math.ceil(self._seconds_to_midnight()))
                message = f"The {edition.daily_credits} API credits of the day ({name} edition) are used up"
                return Refusal(
                    VendorError(429, "quota_exceeded", message, headers={"Retry-After": wait}), "credits"
                ), _nothing
        return None, release

    def _rate(self, tenant: str, vendor: Vendor) -> Refusal | None:
        rate = vendor.limits.rate
        if rate is None:
            return None
        wait = self.store.throttle(tenant, f"rate:{vendor.name}", self.now(), rate.window_seconds, rate.requests)
        if wait is None:
            return None
        seconds = str(max(1, math.ceil(wait)))
        message = f"More than {rate.requests} requests in {rate.window_seconds:g} seconds"
        return Refusal(VendorError(429, "throttled", message, headers={"Retry-After": seconds}), "rate")

    # -- usage, for the admin API ------------------------------------------------------------------

    def usage(self, tenant: str, vendor: Vendor) -> dict[str, Any]:
        limits = vendor.limits
        name, edition = self.edition(tenant, vendor)
        report: dict[str, Any] = {"enabled": self.enabled(tenant)}
        if limits.rate is not None:
            report["rate"] = {"requests": limits.rate.requests, "windowSeconds": limits.rate.window_seconds}
        if limits.editions:
            report["edition"] = name
            report["editions"] = {
                key: {"concurrentCalls": e.concurrent_calls, "dailyCredits": e.daily_credits}
                for key, e in limits.editions.items()
            }
            report["inFlight"] = self.store.add(tenant, f"in-flight:{vendor.name}", 0)
        if edition is not None and edition.daily_credits is not None:
            used = self.store.add(tenant, self._credits_name(vendor), 0, ttl_seconds=2 * 86_400)
            report["credits"] = {"day": self._today(), "used": used, "limit": edition.daily_credits}
        return report

    def _credits_name(self, vendor: Vendor) -> str:
        return f"credits:{vendor.name}:{self._today()}"

    def _today(self) -> str:
        return dt.datetime.fromtimestamp(self.now(), dt.UTC).date().isoformat()

    def _seconds_to_midnight(self) -> float:
        now = dt.datetime.fromtimestamp(self.now(), dt.UTC)
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        return (midnight - now).total_seconds()
