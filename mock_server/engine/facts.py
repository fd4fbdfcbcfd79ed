"""What a request is, worked out once at the edge and carried on its ASGI scope (`mock_server.edge.facts`).

One `RequestFacts` per HTTP request: the API and operation it names, its credentials and tenant,
then its body, parsed body and parameters as the layers that read them learn them. Every layer
reads them with `facts_of(scope)` instead of parsing the request again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

    from mock_server.engine.errors import VendorError
    from mock_server.engine.routes import Route
    from mock_server.engine.validation import RequestParameters
    from mock_server.vendors.base import Vendor

FACTS = "contract_mock.facts"  # the scope key of a request's `RequestFacts`


@dataclass(frozen=True)
class Credentials:
    """The `Authorization` header, split once: `<scheme> <token>`."""

    scheme: str
    token: str  # empty when the header has no token

    @classmethod
    def parse(cls, header: str | None) -> Credentials | None:
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        return cls(scheme, token.strip())


@dataclass
class RequestFacts:
    """One HTTP request's facts; one object per request, shared by every layer that handles it."""

    method: str
    path: str
    vendor: Vendor | None  # the API whose prefix the path has
    route: Route | None  # the operation of the spec the method and path name
    credentials: Credentials | None
    tenant: str | None  # the fingerprint of the token; None without one
    server_receive: Receive  # the server's own `receive` (closing a connection without an answer needs it)
    body: bytes = b""  # as the client sent it, once the edge has read it
    parsed_body: Any = None  # as the body validator parsed (and coerced) it
    deferred_error: VendorError | None = (
        None  # a body error judged after the record is looked up (x-validated-after-lookup)
    )
    parameters: RequestParameters | None = None  # path, query and header parameters, as the validator read them
    preferred_fault: dict[str, Any] | None = None  # Prism's `Prefer` header, as a fault for this request
    notes: dict[str, Any] = field(default_factory=dict)  # items joining the request's log entry

    def use_token(self, token: str, tenant: str) -> None:
        """The request stands for `token` (an issued token's): its credentials and tenant become that token's."""
        assert self.credentials is not None
        self.credentials = replace(self.credentials, token=token)
        self.tenant = tenant


def facts_of(scope: Scope) -> RequestFacts:
    facts: RequestFacts = scope[FACTS]
    return facts


def known_facts(scope: Scope) -> RequestFacts | None:
    """The facts, or None for a scope that did not come through the edge (`mock_server.edge.facts`)."""
    return scope.get(FACTS)
