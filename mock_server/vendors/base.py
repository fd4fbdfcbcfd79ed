"""What a vendor module provides to the engine, and what its handlers receive.

What a vendor *is* (resources, references, limits, OAuth) is `vendor_facts`; a `Vendor` adds how the
mock behaves as it: handlers, error rendering, clock hooks, seed checks, view-to-record mappings.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mock_server.engine.errors import VendorError
from mock_server.engine.spec import SpecView
from mock_server.state.clock import Clock
from mock_server.state.store import RecordsView
from vendor_facts import Edition, ErrorAnswer, Limits, OAuthDescription, RateLimit, References, Resource, VendorFacts

Handler = Callable[..., Any]
ErrorRenderer = Callable[[VendorError], tuple[int, Any]]
ClockHook = Callable[["RecordsView", dt.date], None]
# seed (collection -> id -> record) -> what is wrong with it, one line each, beyond dangling references
SeedCheck = Callable[[Mapping[str, Mapping[str, Any]]], list[str]]


# (records, a record as a client reads it, the stored record or None) -> the record to store
ViewToRecord = Callable[["RecordsView", Mapping[str, Any], "Mapping[str, Any] | None"], dict[str, Any]]


def merge_view(records: RecordsView, view: Mapping[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The default `ViewToRecord`: what the client sees is what is stored; internal members are kept."""
    return {**(stored or {}), **view}


@dataclass(frozen=True, kw_only=True)
class Vendor(VendorFacts):
    """A vendor's facts (`vendor_facts`) and how the mock behaves as that vendor."""

    operations: Mapping[str, Handler]  # operationId -> handler(ctx, **params)
    render_error: ErrorRenderer
    on_clock_change: ClockHook | None = None  # moves records forward when "today" changes
    check_seed: SeedCheck | None = None  # vendor rules the fixtures must satisfy at start-up
    to_record: Mapping[str, ViewToRecord] = field(default_factory=dict)  # collection -> view to stored record
    expired_token: VendorError | None = None  # what the API answers to an expired OAuth access token
    auth_challenge: str | None = None  # the WWW-Authenticate header of every 401 (the spec's example)

    @classmethod
    def behaving(cls, facts: VendorFacts, **behaviour: Any) -> Vendor:
        """The vendor `facts` describe, with the mock's `behaviour` (the fields of this class)."""
        described = {f.name: getattr(facts, f.name) for f in fields(VendorFacts)}
        return cls(**described, **behaviour)

    def expired_token_error(self) -> VendorError:
        """What the API answers to an expired OAuth access token: the vendor's own error, or the facts' answer."""
        if self.expired_token is not None:
            return self.expired_token
        answer = self.oauth.expired_token if self.oauth else ErrorAnswer(401, "invalid_token", "The token has expired.")
        return VendorError(answer.status, answer.kind, answer.message)

    def record_of_view(self, collection: str) -> ViewToRecord:
        return self.to_record.get(collection, merge_view)


@dataclass(slots=True)  # one per request: not frozen, which would cost more to build than the rest of it
class RequestContext:
    """What a handler is given besides the request's parameters; handlers do not change it."""

    vendor: Vendor
    tenant: str  # fingerprint of the token: never the token itself
    principal: str  # the user the token stands for (fixtures/<vendor>/auth.yaml)
    records: RecordsView
    clock: Clock
    spec: SpecView


_MEMBERS: weakref.WeakKeyDictionary[SpecView, dict[str, dict[str, dict[str, Any]]]] = weakref.WeakKeyDictionary()


def schema_members(spec: SpecView, schema_name: str) -> dict[str, dict[str, Any]]:
    """A component schema's properties and their schemas, in the spec's order (`SpecView.property_names`
    and `SpecView.property`), worked out once per spec: handlers ask on every request. Not to be changed."""
    by_schema = _MEMBERS.get(spec)
    if by_schema is None:
        by_schema = _MEMBERS[spec] = {}
    members = by_schema.get(schema_name)
    if members is None:
        names = spec.property_names(schema_name)
        members = by_schema[schema_name] = {name: spec.property(schema_name, name) for name in names}
    return members


__all__ = [
    "ClockHook",
    "Edition",
    "ErrorRenderer",
    "Handler",
    "Limits",
    "OAuthDescription",
    "RateLimit",
    "References",
    "RequestContext",
    "Resource",
    "SeedCheck",
    "Vendor",
    "VendorFacts",
    "ViewToRecord",
    "merge_view",
    "schema_members",
]
