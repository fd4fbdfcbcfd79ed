"""Compare an expected body (a subset, with matchers) with an actual JSON value.

Expected mappings are subsets: only their keys are compared. Lists are compared element-wise and
must have the same length. A string that is exactly a matcher name (`$any_string`) tests the value
instead of comparing it; `{$contains: [...]}` and `{$not: ...}` are the two operators. A value
substituted from a variable is a `Literal`: compared for deep equality, never read as a matcher.
`$$` at the start of a string stands for a literal `$`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from jsonpointer import escape


class Absent:
    """The actual side of a key the response does not have."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = Absent()


@dataclass(frozen=True)
class Literal:
    """A value that must be equal as is (it came from a variable, not from the scenario text)."""

    value: Any


@dataclass(frozen=True)
class Mismatch:
    pointer: str  # JSON pointer into the actual value
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"at {self.pointer or '(body)'}: expected {self.expected}, got {self.actual}"


DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
DIGITS = re.compile(r"^\d+$")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and bool(DATE.match(value)) and _parses(dt.date.fromisoformat, value)


def _is_datetime(value: Any) -> bool:
    return isinstance(value, str) and bool(DATETIME.match(value)) and _parses(dt.datetime.fromisoformat, value)


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


MATCHERS: Final[Mapping[str, Callable[[Any], bool]]] = {
    "$any": lambda value: value is not ABSENT,
    "$any_string": lambda value: isinstance(value, str),
    "$any_number": _is_number,
    "$any_int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "$null": lambda value: value is None,
    "$absent": lambda value: value is ABSENT,
    "$absent_or_null": lambda value: value is ABSENT or value is None,
    "$date": _is_date,
    "$datetime": _is_datetime,
    "$digits": lambda value: isinstance(value, str) and bool(DIGITS.match(value)),
}
OPERATORS: Final = ("$contains", "$not")


def match(expected: Any, actual: Any, pointer: str = "") -> list[Mismatch]:
    """Every way `actual` departs from `expected`; empty when it matches."""
    if isinstance(expected, Literal):
        return _equal(expected.value, actual, pointer)
    if isinstance(expected, str) and expected in MATCHERS:
        if MATCHERS[expected](actual):
            return []
        return [Mismatch(pointer, expected, _show(actual))]
    if isinstance(expected, str) and expected.startswith("$$"):
        return match(Literal(expected[1:]), actual, pointer)
    if isinstance(expected, Mapping) and len(expected) == 1 and next(iter(expected)) in OPERATORS:
        return _operator(next(iter(expected)), next(iter(expected.values())), actual, pointer)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Mismatch(pointer, "an object", _show(actual))]
        return [
            mismatch
            for key, item in expected.items()
            for mismatch in match(item, actual.get(key, ABSENT), f"{pointer}/{escape(str(key))}")
        ]
    if isinstance(expected, list):
        return _match_list(expected, actual, pointer)
    return _equal(expected, actual, pointer)


def _operator(name: str, argument: Any, actual: Any, pointer: str) -> list[Mismatch]:
    if name == "$not":
        if match(argument, actual, pointer):
            return []
        return [Mismatch(pointer, f"anything but {_show(argument)}", _show(actual))]
    if isinstance(argument, str):  # text given only as far as the documents give it
        if isinstance(actual, str) and argument in actual:
            return []
        return [Mismatch(pointer, f"a text containing {_show(argument)}", _show(actual))]
    if not isinstance(actual, list):
        return [Mismatch(pointer, "a list", _show(actual))]
    return [
        Mismatch(pointer, f"a list containing {_show(item)}", _show(actual))
        for item in argument
        if not any(not match(item, element) for element in actual)
    ]


def _match_list(expected: list[Any], actual: Any, pointer: str) -> list[Mismatch]:
    if not isinstance(actual, list):
        return [Mismatch(pointer, "a list", _show(actual))]
    if len(expected) != len(actual):
        return [Mismatch(pointer, f"a list of {len(expected)} items", f"{len(actual)} items: {_show(actual)}")]
    return [
        mismatch
        for index, (item, element) in enumerate(zip(expected, actual, strict=True))
        for mismatch in match(item, element, f"{pointer}/{index}")
    ]


def _equal(expected: Any, actual: Any, pointer: str) -> list[Mismatch]:
    """Deep JSON equality: numbers by value, booleans never equal to numbers, mappings key by key."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        keys = list(expected) + [key for key in actual if key not in expected]
        return [
            mismatch
            for key in keys
            for mismatch in _equal(expected.get(key, ABSENT), actual.get(key, ABSENT), f"{pointer}/{escape(str(key))}")
        ]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            mismatch
            for index, (item, element) in enumerate(zip(expected, actual, strict=True))
            for mismatch in _equal(item, element, f"{pointer}/{index}")
        ]
    if _same_scalar(expected, actual):
        return []
    return [Mismatch(pointer, _show(expected), _show(actual))]


def _same_scalar(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if _is_number(expected) and _is_number(actual):
        return bool(expected == actual)
    if isinstance(expected, Mapping | list) or isinstance(actual, Mapping | list):
        return False
    return type(expected) is type(actual) and expected == actual


def unknown_matchers(expected: Any, pointer: str = "") -> Iterator[str]:
    """Descriptions of `$…` names in an expectation that are neither matchers nor operators."""
    if isinstance(expected, str):
        if expected.startswith("$") and not expected.startswith(("${", "$$")) and expected not in MATCHERS:
            yield f"{pointer or '(body)'}: unknown matcher {expected!r} (known: {', '.join(MATCHERS)})"
    elif isinstance(expected, Mapping):
        operators = [key for key in expected if str(key).startswith("$") and not str(key).startswith("${")]
        if operators and (len(expected) != 1 or operators[0] not in OPERATORS):
            yield f"{pointer or '(body)'}: {operators[0]!r} must be the only key, one of {', '.join(OPERATORS)}"
        for key, item in expected.items():
            if key == "$contains" and not isinstance(item, list | str):
                yield f"{pointer or '(body)'}: $contains takes a list, or a text"
            yield from unknown_matchers(item, f"{pointer}/{key}")
    elif isinstance(expected, list):
        for index, item in enumerate(expected):
            yield from unknown_matchers(item, f"{pointer}/{index}")


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Literal) else str(value)


def _show(value: Any) -> str:
    if value is ABSENT:
        return "no such key"
    text = json.dumps(value, ensure_ascii=False, default=_unwrap)
    return text if len(text) <= 200 else text[:197] + "..."
