"""What a vendor module provides to the engine, and what its handlers receive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.engine.errors import VendorError
from mock_server.engine.spec import SpecView
from mock_server.state.clock import Clock
from mock_server.state.store import RecordsView

Handler = Callable[..., Any]
ErrorRenderer = Callable[[VendorError], tuple[int, Any]]
# field path (dotted, `[]` = each list element) -> collection it refers to, per collection
References = Mapping[str, Mapping[str, str]]
ClockHook = Callable[["RecordsView", dt.date], None]
# seed (collection -> id -> record) -> what is wrong with it, one line each, beyond dangling references
SeedCheck = Callable[[Mapping[str, Mapping[str, Any]]], list[str]]


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
    """The vendor's documented limits, enforced by `mock_server.resilience.limits` (on unless `--limits off`)."""

    rate: RateLimit | None = None
    editions: Mapping[str, Edition] = field(default_factory=dict)
    default_edition: str | None = None  # the edition a tenant has until the admin API sets another

    @property
    def any(self) -> bool:
        return self.rate is not None or bool(self.editions)


# (records, a record as a client reads it, the stored record or None) -> the record to store
ViewToRecord = Callable[["RecordsView", Mapping[str, Any], "Mapping[str, Any] | None"], dict[str, Any]]
# a record as a client reads it -> the value a derived member must have (None: cannot be told)
DerivedMember = Callable[[Mapping[str, Any]], Any]


def merge_view(records: RecordsView, view: Mapping[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The default `ViewToRecord`: what the client sees is what is stored; internal members are kept."""
    return {**(stored or {}), **view}


@dataclass(frozen=True)
class Resource:
    """A record clients address by one path of the spec: what the proxy, drift and the admin API need."""

    collection: str  # where the store keeps it
    view_schema: str  # the component schema of the record as clients read it
    id_member: str = "id"  # the member of the record that holds its id
    to_record: ViewToRecord = merge_view
    derived: Mapping[str, DerivedMember] = field(default_factory=dict)  # member -> how it follows from others


@dataclass(frozen=True)
class OAuthServer:
    """A vendor whose clients get tokens from an OAuth server: the engine serves a mock of it.

    Paths are below the vendor's prefix. Issued access tokens carry the grants (and the tenant) of
    the fixture token they were issued for, and expire on the mock's clock.
    """

    token_path: str  # e.g. /oauth/v2/token: authorization_code and refresh_token grants
    authorize_path: str  # the authorization page of the authorization code flow
    expired_token: VendorError  # what the API answers to an expired access token
    access_token_lifetime: dt.timedelta = dt.timedelta(hours=1)
    code_lifetime: dt.timedelta = dt.timedelta(minutes=2)
    error_status: int = 400  # status of the token endpoint's `{"error": ...}` answers (RFC 6749: 400)


@dataclass(frozen=True)
class Vendor:
    name: str  # the API name: spec openapi/<name>.yaml, fixtures/<name>/, mounted at /<name>
    title: str
    operations: Mapping[str, Handler]  # operationId -> handler(ctx, **params)
    render_error: ErrorRenderer
    org_header: str | None = None  # a header naming the organisation the token must belong to
    references: References = field(default_factory=dict)
    on_clock_change: ClockHook | None = None  # moves records forward when "today" changes
    limits: Limits = field(default_factory=Limits)
    check_seed: SeedCheck | None = None  # vendor rules the fixtures must satisfy at start-up
    resources: Mapping[str, Resource] = field(default_factory=dict)  # spec path template -> resource
    oauth: OAuthServer | None = None  # serve a mock of the vendor's OAuth token endpoint
    auth_challenge: str | None = None  # the WWW-Authenticate header of every 401 (the spec's example)

    @property
    def prefix(self) -> str:
        return f"/{self.name}"


@dataclass(frozen=True)
class RequestContext:
    vendor: Vendor
    tenant: str  # fingerprint of the token: never the token itself
    principal: str  # the user the token stands for (fixtures/<vendor>/auth.yaml)
    records: RecordsView
    clock: Clock
    spec: SpecView
