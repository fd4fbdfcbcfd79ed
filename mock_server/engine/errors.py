"""Errors the mock raises, and the translation of Connexion's own errors into them.

Every error leaves the mock as a `VendorError`, rendered by the vendor module of the API that was
called, so each API answers in its vendor's own status codes and body shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from openapi_model import Violation
from vendor_facts import KIND_BY_STATUS, ErrorKind


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, as data: vendor modules word it from `code`, `limit` and `value`.

    `location` is the path inside the body (or the parameter name); `message` is a neutral sentence
    (jsonschema's own for schema errors) for vendors that echo one as is.
    """

    location: tuple[str | int, ...]
    message: str
    source: Literal["body", "path", "query", "header"] = "body"
    code: str = ""  # what was broken: a JSON Schema keyword (`maxLength`, `required`, `type`…), or `unknown`
    limit: Any = field(default=None, compare=False)  # that keyword's value: the maxLength, the enum, the type…
    value: Any = field(default=None, compare=False)  # the value that broke it

    @classmethod
    def from_violation(
        cls, violation: Violation, source: Literal["body", "path", "query", "header"] = "body"
    ) -> FieldError:
        return cls(violation.location, violation.message, source, violation.keyword, violation.limit, violation.value)

    @cached_property  # vendors read it several times while rendering one error
    def pointer(self) -> str:
        """The location as a JSON Pointer (`/category/id`)."""
        return "".join(map("/{}".format, self.location))

    @cached_property
    def dotted(self) -> str:
        """The location as a dotted path (`category.id`)."""
        return ".".join(map(str, self.location))


@dataclass
class VendorError(Exception):
    status: int
    kind: ErrorKind
    message: str
    fields: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None  # the request's media type, for `unsupported_media_type`

    def __str__(self) -> str:
        return f"{self.status} {self.kind}: {self.message}"


def validation_error(fields: list[FieldError], message: str = "Validation failed") -> VendorError:
    return VendorError(400, "validation", message, fields=list(fields))


def not_found(message: str = "Not found") -> VendorError:
    return VendorError(404, "not_found", message)


__all__ = ["KIND_BY_STATUS", "ErrorKind", "FieldError", "VendorError", "not_found", "validation_error"]
