"""What a vendor module provides to the engine, and what its handlers receive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.clock import Clock
from mock_server.errors import VendorError
from mock_server.spec import SpecView
from mock_server.store import RecordsView

Handler = Callable[..., Any]
ErrorRenderer = Callable[[VendorError], tuple[int, Any]]
# field path (dotted, `[]` = each list element) -> collection it refers to, per collection
References = Mapping[str, Mapping[str, str]]
ClockHook = Callable[["RecordsView", dt.date], None]


@dataclass(frozen=True)
class Vendor:
    name: str  # the API name: spec openapi/<name>.yaml, fixtures/<name>/, mounted at /<name>
    title: str
    operations: Mapping[str, Handler]  # operationId -> handler(ctx, **params)
    render_error: ErrorRenderer
    org_header: str | None = None  # a header naming the organisation the token must belong to
    references: References = field(default_factory=dict)
    on_clock_change: ClockHook | None = None  # moves records forward when "today" changes

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
