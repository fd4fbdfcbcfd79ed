"""Tokens, tenants and the security handler Connexion calls for every operation.

Tokens and what they may do come from `fixtures/<vendor>/auth.yaml`. A token
`<known token>.<anything>` has the grants of `<known token>` but is its own tenant.
Tokens are only ever kept as fingerprints outside this module.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connexion.security import AbstractSecurityHandler

from mock_server.engine.errors import VendorError
from mock_server.engine.facts import Credentials, facts_of

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Grant:
    principal: str
    scopes: frozenset[str]
    orgs: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=4096)  # once per request (the edge's facts), for a handful of distinct tokens
def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class TokenRegistry:
    def __init__(self, grants: Mapping[str, Grant]) -> None:
        self._grants = dict(grants)

    @classmethod
    def from_fixture(cls, data: Mapping[str, Any]) -> TokenRegistry:
        grants = {
            str(entry["token"]): Grant(
                principal=str(entry.get("principal", "")),
                scopes=frozenset(map(str, entry.get("scopes", []))),
                orgs=frozenset(map(str, entry.get("orgs", []))),
            )
            for entry in data.get("tokens", [])
        }
        return cls(grants)

    def lookup(self, token: str) -> Grant | None:
        grant = self._grants.get(token)
        if grant is None:
            base, dot, suffix = token.partition(".")
            if dot and suffix:
                grant = self._grants.get(base)
        return grant

    def tokens(self) -> Iterable[str]:
        return self._grants.keys()


def required_scopes_for(method: str, declared: list[str]) -> list[str]:
    """Scopes an operation needs: the spec's (OAuth2), else read for reads and write for writes."""
    if declared:
        return declared
    return ["read"] if method.upper() in READ_METHODS else ["write"]


def security_handler(
    auth_prefix: str, org_header: str | None, registry: TokenRegistry
) -> type[AbstractSecurityHandler]:
    """A Connexion security handler class for one vendor's way of presenting tokens."""

    class VendorTokenHandler(AbstractSecurityHandler):
        def get_fn(
            self, security_scheme: dict[str, Any], required_scopes: list[str]
        ) -> Callable[[Any], dict[str, Any]]:
            def verify(request: Any) -> dict[str, Any]:
                facts = facts_of(request.scope)
                token = _token_from(facts.credentials, auth_prefix)
                grant = registry.lookup(token)
                if grant is None:
                    raise VendorError(401, "invalid_token", "The access token is invalid")
                if org_header:
                    org = request.headers.get(org_header)
                    if org is not None and org not in grant.orgs:
                        raise VendorError(
                            401, "org_mismatch", f"The access token is not valid for the organisation in {org_header}"
                        )
                needed = required_scopes_for(request.method, required_scopes)
                missing = sorted(set(needed) - grant.scopes)
                if missing:
                    raise VendorError(403, "forbidden", f"The access token lacks the scope {', '.join(missing)}")
                return {"sub": facts.tenant, "principal": grant.principal, "scope": sorted(grant.scopes)}

            return verify

    return VendorTokenHandler


def _token_from(credentials: Credentials | None, auth_prefix: str) -> str:
    if credentials is None:
        raise VendorError(401, "unauthorized", "Authentication credentials were not provided")
    if credentials.scheme.lower() != auth_prefix.lower() or not credentials.token:
        raise VendorError(401, "invalid_token", f"Expected 'Authorization: {auth_prefix} <token>'")
    return credentials.token
