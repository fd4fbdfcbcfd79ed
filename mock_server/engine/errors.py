"""Errors the mock raises, and the translation of Connexion's own errors into them.

Every error leaves the mock as a `VendorError`, rendered by the vendor module of the API that was
called, so each API answers in its vendor's own status codes and body shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from openapi_model import Violation

ErrorKind = Literal[
    "unauthorized",  # no credentials
    "invalid_token",  # credentials not recognised
    "forbidden",  # valid credentials, missing scope/permission
    "org_mismatch",  # token not valid for the organisation header
    "not_found",
    "validation",  # the request is well-formed but its content breaks a rule or the schema
    "bad_request",  # the request cannot be read (malformed JSON, bad encoding, control characters)
    "unsupported_media_type",
    "payload_too_large",
    "method_not_allowed",
    "conflict",
    "throttled",  # a rate or concurrency limit: 429, with a Retry-After header when the wait is known
    "quota_exceeded",  # a quota of the day (API credits) is used up: 429
    "internal",  # a bug in the mock; never expected
]


# The kind of error each HTTP status stands for, when a library answers with a bare status.
KIND_BY_STATUS: dict[int, ErrorKind] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "throttled",
}


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

    @property
    def pointer(self) -> str:
        """The location as a JSON Pointer (`/category/id`)."""
        return "".join(f"/{part}" for part in self.location)

    @property
    def dotted(self) -> str:
        """The location as a dotted path (`category.id`)."""
        return ".".join(str(part) for part in self.location)


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
