"""JSON Schema errors as data: one `Violation` per broken rule, naming the field it concerns.

Built from the attributes of jsonschema's `ValidationError` (`validator`, `validator_value`,
`absolute_path`, `instance`, `schema`), never from its message text, so callers can word each
violation their own way and a jsonschema upgrade cannot change what they see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError

Location = tuple[str | int, ...]

# `keyword` of a member the schema does not declare (from `additionalProperties: false`)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Violation:
    """One broken rule of a schema, at one place in the instance."""

    location: Location  # path to the field inside the instance; a missing member's own name included
    keyword: str  # the JSON Schema keyword broken (`type`, `maxLength`, `required`…), or UNKNOWN
    message: str = field(compare=False)  # jsonschema's sentence, for vendors that echo it as is
    limit: Any = field(default=None, compare=False)  # the keyword's value: the maxLength, enum, expected type…
    value: Any = field(default=None, compare=False)  # the value that broke it (None for a missing member)

    @property
    def dotted(self) -> str:
        return ".".join(str(part) for part in self.location)


def violations(errors: Iterable[ValidationError]) -> list[Violation]:
    """Every violation in `errors`, once each, ordered by field; `required` and `additionalProperties`
    errors point at the member they are about."""
    found = {violation for error in errors for violation in _from_error(error)}
    return sorted(found, key=lambda v: (v.dotted, v.keyword, v.message))


def _from_error(error: ValidationError) -> list[Violation]:
    location = tuple(error.absolute_path)
    instance = error.instance if isinstance(error.instance, dict) else {}
    keyword = str(error.validator)
    if keyword == "required":
        return [
            Violation((*location, name), "required", "This field is required.", limit=name)
            for name in error.validator_value
            if name not in instance
        ]
    if keyword == "additionalProperties":
        declared = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        return [
            Violation((*location, name), UNKNOWN, "Unknown field.", value=instance[name])
            for name in sorted(set(instance) - declared)
        ]
    return [Violation(location, keyword, error.message, limit=error.validator_value, value=error.instance)]
