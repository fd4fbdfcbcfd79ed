"""Where a store shared by several processes keeps the tokens the mock issued (OAuth codes and tokens, login
tokens): a token issued by one worker must work on every other (`mock_server/edge/oauth.py`, `IssuedStore`).

Entries are named by the SHA-256 of the token, never the token itself: nothing in the store (nor in
Redis' `MONITOR`) reads as a usable token.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable


class SharedIssued(Protocol):
    """One kind of issued token of one API (`<api>:codes`…), bounded: the oldest are forgotten first."""

    def put(self, digest: str, entry: str) -> None: ...

    def get(self, digest: str) -> str | None: ...

    def take(self, digest: str) -> str | None:
        """The entry, removed in the same step: of several processes taking it at once, one gets it."""
        ...


@runtime_checkable
class KeepsIssued(Protocol):
    """A store shared by processes, which keeps issued tokens too (`RedisStore`)."""

    def issued_tokens(self, kind: str, limit: int) -> SharedIssued: ...


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
