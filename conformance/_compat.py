"""The one internal of a library the harness relies on, with the versions it was checked against.

Schemathesis registers custom checks globally (`schemathesis.check`) and has no public way to take
one back. The harness's write check must not outlive its run (other Schemathesis runs in the same
process would get it), so `registered_check` removes it from Schemathesis' check registry afterwards.
Outside the checked versions the check stays registered: it passes every case of a schema it is not
watching, so that is harmless. `tests/conformance/test_generation.py` checks both halves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis

CHECKED_SCHEMATHESIS = ((4, 3), (5, 0))  # [from, to)

_LOCK = threading.Lock()
_USERS: dict[str, int] = {}  # check name -> runs using it now


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in text.split("."))
    return major, minor


def can_unregister() -> bool:
    low, high = CHECKED_SCHEMATHESIS
    return low <= _version(schemathesis.__version__) < high


@contextmanager
def registered_check(check: Callable[..., Any]) -> Iterator[None]:
    """`check` is a Schemathesis check while the context is open (runs may overlap: the last one out removes it)."""
    name = check.__name__
    with _LOCK:
        if _USERS.get(name, 0) == 0:
            schemathesis.check(check)
        _USERS[name] = _USERS.get(name, 0) + 1
    try:
        yield
    finally:
        with _LOCK:
            _USERS[name] -= 1
            if _USERS[name] == 0 and can_unregister():
                from schemathesis.checks import CHECKS

                CHECKS.unregister(name)
