"""The mock's notion of "today": fixed by default, movable through the admin API, per tenant or for all.

"Today" is the system time plus an offset. The offset lives in the store, so every worker and replica
sees the same one: a tenant's own clock under `(tenant, "clock")`, the server-wide one under
`(SERVER_WIDE, "clock")`, and without either the start date of the settings (`--today`). A tenant
that never set its own clock follows the server-wide one.
"""

from __future__ import annotations

import datetime as dt

from mock_server.state.store import SERVER_WIDE, InMemoryStore, Store

CLOCK_VALUE = "clock"


def _offset_for(today: dt.date | None) -> dt.timedelta:
    if today is None:
        return dt.timedelta(0)
    return today - dt.datetime.now(dt.UTC).date()


class Clock:
    """A clock of one tenant (or the server-wide one, `tenant=SERVER_WIDE`)."""

    def __init__(
        self,
        today: dt.date | None = None,
        store: Store | None = None,
        tenant: str = SERVER_WIDE,
        *,
        start_offset: dt.timedelta | None = None,
        memoise: bool = False,
    ) -> None:
        self._start_offset = _offset_for(today) if start_offset is None else start_offset
        self._store: Store = store if store is not None else InMemoryStore({})
        self._tenant = tenant
        self._memoise = memoise  # a request's clock reads the store once; the server's always reads
        self._offset: dt.timedelta | None = None

    @property
    def tenant(self) -> str:
        return self._tenant

    def for_tenant(self, tenant: str) -> Clock:
        """The clock one request of `tenant` uses: read from the store once, on first use."""
        return Clock(store=self._store, tenant=tenant, start_offset=self._start_offset, memoise=True)

    def own(self) -> bool:
        """Whether this tenant has set a clock of its own (the server-wide clock always has)."""
        return self._tenant == SERVER_WIDE or self._store.get_value(self._tenant, CLOCK_VALUE) is not None

    def offset(self) -> dt.timedelta:
        if self._offset is not None:
            return self._offset
        stored = None if self._tenant == SERVER_WIDE else self._store.get_value(self._tenant, CLOCK_VALUE)
        if stored is None:
            stored = self._store.get_value(SERVER_WIDE, CLOCK_VALUE)
        offset = self._start_offset if stored is None else dt.timedelta(seconds=stored["offsetSeconds"])
        if self._memoise:
            self._offset = offset
        return offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset()

    def today(self) -> dt.date:
        return self.now().date()

    def set(self, today: dt.date) -> None:
        self._store_offset(_offset_for(today))

    def advance(self, days: int) -> None:
        self._store_offset(self.offset() + dt.timedelta(days=days))

    def clear(self) -> None:
        """A tenant's clock follows the server-wide one again; the server-wide one its start date."""
        self._store.set_value(self._tenant, CLOCK_VALUE, None)
        self._offset = None

    def _store_offset(self, offset: dt.timedelta) -> None:
        # A date no datetime can hold is refused here (OverflowError), not on every later request.
        dt.datetime.now(dt.UTC) + offset
        self._store.set_value(self._tenant, CLOCK_VALUE, {"offsetSeconds": offset.total_seconds()})
        self._offset = offset if self._memoise else None
