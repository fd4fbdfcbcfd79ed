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
from typing import TYPE_CHECKING, Any

from connexion.security import NO_VALUE, AbstractSecurityHandler

from mock_server.engine.errors import VendorError
from mock_server.engine.facts import Credentials, facts_of

if TYPE_CHECKING:
    from starlette.types import Scope

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
    def __init__(self, grants: Mapping[str, Grant], users: Mapping[tuple[str, str], str] | None = None) -> None:
        self._grants = dict(grants)
        self._users = dict(users or {})  # (username, password) -> the token whose grants and tenant they have

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
        users = {
            (str(entry["username"]), str(entry["password"])): str(entry["token"]) for entry in data.get("users", [])
        }
        unknown = sorted(token for token in users.values() if token not in grants)
        if unknown:
            raise ValueError(f"users name unknown tokens: {', '.join(unknown)}")
        return cls(grants, users)

    def token_for(self, username: str, password: str) -> str | None:
        """The token a username and password stand for (header authentication), or None."""
        return self._users.get((username, password))

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
    org_key = org_header.lower().encode("latin-1") if org_header else None

    class VendorTokenHandler(AbstractSecurityHandler):
        def get_fn(
            self, security_scheme: dict[str, Any], required_scopes: list[str]
        ) -> Callable[[Any], dict[str, Any]]:
            # What an operation needs is known here, once: only the method (read or write) is the request's.
            needed = _NeededScopes(
                read=frozenset(required_scopes_for("GET", required_scopes)),
                write=frozenset(required_scopes_for("PATCH", required_scopes)),
            )
            if security_scheme.get("type") == "apiKey" and security_scheme.get("in") == "header":
                return self._user_headers(security_scheme, needed)

            def verify(request: Any) -> dict[str, Any]:
                scope = request.scope
                facts = facts_of(scope)
                token = _token_from(facts.credentials, auth_prefix)
                return self._granted(scope, token, needed, tenant=facts.tenant)

            return verify

        def _user_headers(self, security_scheme: dict[str, Any], needed: _NeededScopes) -> Callable[[Any], Any]:
            """Username and password headers (the scheme names the first; `x-password-header` the other)."""
            user_header = str(security_scheme["name"])
            password_header = str(security_scheme.get("x-password-header", "password"))

            def verify(request: Any) -> Any:
                username = request.headers.get(user_header)
                if username is None:
                    return NO_VALUE  # not this way of authenticating: the others decide
                token = registry.token_for(username, request.headers.get(password_header) or "")
                if token is None:
                    raise VendorError(401, "invalid_token", "The username or password is invalid")
                return self._granted(request.scope, token, needed)

            return verify

        def _granted(
            self, scope: Scope, token: str, needed: _NeededScopes, tenant: str | None = None
        ) -> dict[str, Any]:
            grant = registry.lookup(token)
            if grant is None:
                raise VendorError(401, "invalid_token", "The access token is invalid")
            if org_key:
                org = _header(scope, org_key)
                if org is not None and org not in grant.orgs:
                    raise VendorError(
                        401, "org_mismatch", f"The access token is not valid for the organisation in {org_header}"
                    )
            method: str = scope["method"]
            missing = (needed.read if method.upper() in READ_METHODS else needed.write) - grant.scopes
            if missing:
                raise VendorError(403, "forbidden", f"The access token lacks the scope {', '.join(sorted(missing))}")
            scopes = _sorted_scopes(grant.scopes)
            return {"sub": tenant or fingerprint(token), "principal": grant.principal, "scope": list(scopes)}

    return VendorTokenHandler


@dataclass(frozen=True)
class _NeededScopes:
    """The scopes one operation needs of a read and of a write request (`required_scopes_for`)."""

    read: frozenset[str]
    write: frozenset[str]


@functools.lru_cache(maxsize=256)  # one entry per distinct grant
def _sorted_scopes(scopes: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(scopes))


def _header(scope: Scope, key: bytes) -> str | None:
    """The first header named `key` (lower case, as ASGI servers give names), as starlette's `Headers.get` reads it."""
    for name, value in scope["headers"]:
        if name == key:
            return str(value.decode("latin-1"))
    return None


def _token_from(credentials: Credentials | None, auth_prefix: str) -> str:
    if credentials is None:
        raise VendorError(401, "unauthorized", "Authentication credentials were not provided")
    if credentials.scheme.lower() != auth_prefix.lower() or not credentials.token:
        raise VendorError(401, "invalid_token", f"Expected 'Authorization: {auth_prefix} <token>'")
    return credentials.token
