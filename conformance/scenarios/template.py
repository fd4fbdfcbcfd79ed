"""`${name}` / `${name.a.b}` substitution in request and expectation data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_-]+)*)\}")


class UndefinedVariable(Exception):
    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"${{{reference}}}: {reason}")
        self.reference = reference


def render(value: Any, variables: Mapping[str, Any], *, wrap: Callable[[Any], Any] | None = None) -> Any:
    """`value` with every reference replaced; a string that is one reference takes the value's type.

    `wrap` is applied to every string that held a reference, so that expectations can tell substituted
    values (compared as they are) from the scenario's own text (which may name matchers).
    """
    if isinstance(value, str):
        rendered = _render_string(value, variables)
        return wrap(rendered) if wrap is not None and REFERENCE.search(value) else rendered
    if isinstance(value, Mapping):
        return {_render_string(str(key), variables): render(item, variables, wrap=wrap) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, variables, wrap=wrap) for item in value]
    return value


def referenced_names(value: Any) -> Iterator[str]:
    """The variable names `value` refers to, in order, with repeats."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            yield match.group(1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from referenced_names(str(key))
            yield from referenced_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from referenced_names(item)


def _render_string(text: str, variables: Mapping[str, Any]) -> Any:
    whole = REFERENCE.fullmatch(text)
    if whole:
        return _resolve(whole, variables)
    return REFERENCE.sub(lambda match: _as_text(_resolve(match, variables)), text)


def _resolve(match: re.Match[str], variables: Mapping[str, Any]) -> Any:
    name, dotted = match.group(1), match.group(2)
    reference = name + dotted
    if name not in variables:
        raise UndefinedVariable(reference, f"no variable {name!r} (define it in the target file or capture it)")
    value = variables[name]
    for part in dotted.split(".")[1:]:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise UndefinedVariable(reference, f"{part!r} not found in {_as_text(value)[:200]}")
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
