"""The bounded log of API requests and their responses, for `GET /__admin/requests`.

Credentials are redacted and the tenant is given only as the token's fingerprint.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, NamedTuple

LOGGED_BODY_BYTES = 4096
REDACTED_HEADERS = frozenset({"authorization", "cookie", "x-admin-token", "proxy-authorization"})


class Exchange(NamedTuple):
    """One request and its response as they passed; made into a log entry only when someone reads the log.
    (A tuple: made on every request, where a frozen dataclass's fields cost several times as much to set.)"""

    time: float
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    tenant: str | None  # the fingerprint of the token the request stands for
    body: bytes  # the first LOGGED_BODY_BYTES
    status: int
    response: bytes  # the first LOGGED_BODY_BYTES
    duration_ms: float
    notes: dict[str, Any]  # items joining the entry

    def entry(self) -> dict[str, Any]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.headers}
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "tenant": self.tenant,
            "headers": {k: ("<redacted>" if k in REDACTED_HEADERS else v) for k, v in headers.items()},
            "body": _text(self.body),
            "status": self.status,
            "response": _text(self.response),
            "durationMs": round(self.duration_ms, 3),
            **self.notes,
        }


class RequestLog:
    def __init__(self, size: int = 200) -> None:
        self._exchanges: deque[Exchange] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def entries(self, limit: int | None = None, tenant: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            exchanges = list(self._exchanges)
        found = [e for e in map(Exchange.entry, exchanges) if tenant is None or e["tenant"] == tenant]
        return found[-limit:] if limit else found

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()


def _text(body: bytes) -> str:
    return body[:LOGGED_BODY_BYTES].decode("utf-8", errors="replace")
