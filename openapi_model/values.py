"""Read forms of values: whether a value as read back is the value as sent, in the forms the specs document.

One reading for the harness's invariants, its restore check, the proxy and drift.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

DOUBLE_PRECISION = 1e-15  # what a JSON number survives a round trip through an IEEE double with
DECIMAL_STEP = 1e-28  # the smallest step of a 28-digit decimal (.NET's System.Decimal, SQL decimals)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?$")


def same_value(sent: Any, read: Any) -> bool:
    """Whether a value as read is the value as sent, in the read forms the specs document.

    A reference sent as an id reads back expanded (`3` → `{"id": 3, ...}`), a number may be sent as
    digits (forms, Zoho's string ids), a bare date reads back with a time of midnight, and a nested
    object reads back with members the request did not send; a list of objects sent for an object
    member (Zoho's `<list>` inputs) is applied in order; a zoned date-time may read back in UTC without
    its zone (.NET's binding); `null` clears a list, which then reads back empty; records sent in a list
    by id are found by id in the list read back, which may hold others.
    """
    if sent == read or (sent is None and read == []):
        return True
    if isinstance(sent, list) and isinstance(read, dict):
        merged: dict[str, Any] = {}
        for item in sent:
            if not isinstance(item, dict):
                return False
            merged.update(item)
        return same_value(merged, read)
    if isinstance(read, dict):
        if isinstance(sent, dict):
            # Members the service does not know are ignored (the frameworks' default).
            return all(same_value(value, read[name]) for name, value in sent.items() if name in read)
        return "id" in read and same_value(sent, read["id"])
    if isinstance(sent, bool) or isinstance(read, bool):
        return str(sent).lower() == str(read).lower()
    if isinstance(sent, int | float | str) and isinstance(read, int | float | str):
        sent_number, read_number = _number(sent), _number(read)
        if sent_number is not None and read_number is not None and _same_number(sent_number, read_number):
            return True
        if isinstance(sent, str) and isinstance(read, str):
            return _same_moment(sent, read)
    if isinstance(sent, list) and isinstance(read, list):
        if sent and all(isinstance(item, dict) and "id" in item for item in [*sent, *read]):
            # Records sent by id (`[{"id": 73, "value": …}]`) read back among the others, with more members.
            by_id = {str(item["id"]): item for item in read}
            return all(str(item["id"]) in by_id and same_value(item, by_id[str(item["id"])]) for item in sent)
        return len(sent) == len(read) and all(same_value(a, b) for a, b in zip(sent, read, strict=True))
    return False


def _same_moment(sent: str, read: str) -> bool:
    """A date or date-time read back in a longer form (`2025-11-02` → `2025-11-02T00:00:00`, `T20:49` → `T20:49:00`)."""
    if not _DATE_TIME.match(sent) or not _DATE_TIME.match(read):
        return False
    try:
        sent_at, read_at = _moment(sent), _moment(read)
    except ValueError:
        return False
    if (sent_at.tzinfo is None) != (read_at.tzinfo is None):  # one zoned, one not: compare in UTC
        sent_at, read_at = (_utc_naive(moment) for moment in (sent_at, read_at))
    return sent_at == read_at


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is None else moment.astimezone(dt.UTC).replace(tzinfo=None)


def _moment(text: str) -> dt.datetime:
    # .NET writes up to seven fraction digits; Python reads six.
    return dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text))


def _same_number(sent: float, read: float) -> bool:
    """The same number in another representation: a decimal string (`"150000.00"`), a double's rounding,
    or a value below a decimal type's smallest step read back as 0 (`9.27e-89` → `0.0` in .NET's decimal)."""
    return math.isclose(sent, read, rel_tol=DOUBLE_PRECISION, abs_tol=DECIMAL_STEP)


def _number(value: int | float | str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
