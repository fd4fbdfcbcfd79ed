"""Checks on a request body that must run before any parser sees it.

Python's `json` decoder recurses once per nesting level and raises `RecursionError` (a 500) near
1 000 levels; the schema validator and the handlers recurse too. No contract body of any vendor is
nested more than a handful of levels, so anything deeper than `MAX_JSON_DEPTH` is refused as
unreadable before it is decoded.
"""

from __future__ import annotations

import re
import sys

from mock_server.engine.errors import VendorError

MAX_JSON_DEPTH = 64
_MAX_DIGITS = sys.get_int_max_str_digits() or 4300  # 0 means no limit

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type.endswith(b"/json") or media_type.endswith(b"+json")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than `limit` (the body need not be valid JSON)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    depth = 0
    for byte in brackets:
        depth = depth + 1 if byte in _OPENING else depth - 1
        if depth > limit:
            return True
    return False


def path_error(path: str) -> VendorError | None:
    """What is wrong with a request path that must not reach the routers.

    Control characters bypass Connexion's router (and so its security); no record's id holds one, so
    there is nothing at such a path (a 404, which every operation with a path parameter documents,
    where a 400 is not documented by all of them). An empty segment (`//`) is merged away by Flask's
    router but not by Connexion's, so the operation would run without the context Connexion's router
    gives it: no vendor serves such a path.
    """
    if _CONTROL_CHARACTER.search(path):
        return VendorError(404, "not_found", "No resource at a path with a control character")
    if "//" in path:
        return VendorError(404, "not_found", "No resource at a path with an empty segment")
    if len(path) > _MAX_DIGITS and any(len(segment) > _MAX_DIGITS and segment.isdigit() for segment in path.split("/")):
        # Starlette's int converter raises on a number Python will not parse (a 500): no id is this long.
        return VendorError(404, "not_found", "No resource has an id this long")
    return None
