"""The mock's notion of "today": fixed by default, movable through the admin API."""

from __future__ import annotations

import datetime as dt
import threading


class Clock:
    def __init__(self, today: dt.date | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = self._offset_for(today)

    @staticmethod
    def _offset_for(today: dt.date | None) -> dt.timedelta:
        if today is None:
            return dt.timedelta(0)
        return today - dt.datetime.now(dt.UTC).date()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._offset

    def today(self) -> dt.date:
        return self.now().date()

    def set(self, today: dt.date) -> None:
        with self._lock:
            self._offset = self._offset_for(today)

    def advance(self, days: int) -> None:
        with self._lock:
            self._offset += dt.timedelta(days=days)
