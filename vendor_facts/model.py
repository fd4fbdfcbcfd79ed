"""What a vendor *is*, as data both sides read: the mock to behave like it, the harness to judge a target.

Nothing here behaves: no handlers, no error rendering, no store. A vendor module of this package
holds one `VendorFacts`; `mock_server.vendors` adds the behaviour, `conformance` reads the facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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

# field path (dotted, `[]` = each list element) -> collection it refers to, per collection
References = Mapping[str, Mapping[str, str]]
# a record as a client reads it -> the value a derived member must have (None: cannot be told)
DerivedMember = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` per `window_seconds` per tenant, as a sliding window (DRF's throttling)."""

    requests: int
    window_seconds: float


@dataclass(frozen=True)
class Edition:
    """What one edition (plan) of the vendor allows a tenant; None = no such limit."""

    concurrent_calls: int | None = None
    daily_credits: int | None = None  # one credit per call, counted per UTC day


@dataclass(frozen=True)
class Limits:
    """The vendor's documented limits (the mock enforces them unless `--limits off`)."""

    rate: RateLimit | None = None
    editions: Mapping[str, Edition] = field(default_factory=dict)
    default_edition: str | None = None  # the edition a tenant has until the admin API sets another

    @property
    def any(self) -> bool:
        return self.rate is not None or bool(self.editions)


@dataclass(frozen=True)
class Resource:
    """A record clients address by one path of the spec: what the proxy, drift and the admin API need."""

    collection: str  # where the store keeps it
    view_schema: str  # the component schema of the record as clients read it
    id_member: str = "id"  # the member of the record that holds its id
    derived: Mapping[str, DerivedMember] = field(default_factory=dict)  # member -> how it follows from others
    # read forms: members a response shows as the related record (or its summary) though a write sends its id
    expanded: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorAnswer:
    """One documented error answer, as data: its status, the kind of error, the vendor's code and words."""

    status: int
    kind: ErrorKind
    message: str
    code: str | None = None  # the vendor's own error code, where its bodies carry one


@dataclass(frozen=True)
class OAuthDescription:
    """A vendor whose clients get tokens from an OAuth server (the mock serves a mock of it).

    Paths are below the vendor's prefix. Issued access tokens carry the grants (and the tenant) of
    the fixture token they were issued for, and expire on the mock's clock.
    """

    token_path: str  # e.g. /oauth/v2/token: authorization_code and refresh_token grants
    authorize_path: str  # the authorization page of the authorization code flow
    expired_token: ErrorAnswer  # what the API answers to an expired access token
    access_token_lifetime: dt.timedelta = dt.timedelta(hours=1)
    code_lifetime: dt.timedelta = dt.timedelta(minutes=2)
    error_status: int = 400  # status of the token endpoint's `{"error": ...}` answers (RFC 6749: 400)


@dataclass(frozen=True)
class LoginDescription:
    """A vendor whose clients trade a username and password for a short-lived bearer token at an
    operation of its spec (the mock serves it). Users map to fixture tokens (fixtures/<api>/auth.yaml
    `users`); an issued token has the grants and tenant of its user's token and expires on the
    tenant's mock clock.
    """

    operation_id: str  # the spec's operation (no security) clients post their credentials to
    path: str  # its path, below the vendor's prefix
    credentials_schema: str  # the component schema of the request body
    token_lifetime: dt.timedelta


@dataclass(frozen=True, kw_only=True)
class VendorFacts:
    name: str  # the API name: spec openapi/<name>.yaml, fixtures/<name>/, mounted at /<name>
    title: str
    org_header: str | None = None  # a header naming the organisation the token must belong to
    references: References = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    resources: Mapping[str, Resource] = field(default_factory=dict)  # spec path template -> resource
    oauth: OAuthDescription | None = None  # the vendor's OAuth token endpoint, if clients use one
    login: LoginDescription | None = None  # the vendor's credentials-for-a-token operation, if clients use one

    @property
    def prefix(self) -> str:
        return f"/{self.name}"
