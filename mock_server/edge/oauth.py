"""A mock of a vendor's OAuth server, for vendors whose module declares one (`Vendor.oauth`).

Served below the vendor's prefix (`/<api><token_path>`, `/<api><authorize_path>`):

- the authorization page lists the fixture tokens (fixtures/<api>/auth.yaml); choosing one (or typing
  a derived token `<token>.<anything>`) redirects back with a one-time grant code bound to it;
- the token endpoint takes the `authorization_code` and `refresh_token` grants, with parameters in the
  query string, a form body or (client credentials) a Basic header. A refresh token is one the
  endpoint issued or any token the API knows, so a test can refresh with `dev-token.ci-42`;
- an issued access token stands for the token it was issued for: the same grants and the same tenant,
  so writes survive a refresh. It expires on the mock's clock (`POST /__admin/clock` moves it); an
  expired one gets the vendor's own error (`Vendor.expired_token_error`).

A vendor whose clients log in for a token (`Vendor.login`, Elevate's `POST /authenticate`) gets the
same issued tokens from `LoginMock`: a username and password (fixtures/<api>/auth.yaml `users`) in, a
JWT-looking token standing for the user's fixture token out, expiring on that tenant's clock.

`token_type` in the answers is the scheme the API expects in `Authorization` (the spec's
`x-auth-prefix`): Swagger UI sends the token with that word, so "Try it out" works after authorizing.

These are steps of the edge (`mock_server.edge.stack`) outside the request log: codes, secrets and
tokens sent to the endpoints are never logged, and an issued token is replaced (in the request's facts)
before the security handler, the log, limits and faults read them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import secrets
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mock_server.edge.body import BodyTooLarge, read_body
from mock_server.edge.hostile import is_json
from mock_server.engine.auth import TokenRegistry, fingerprint
from mock_server.engine.errors import VendorError, validation_error
from mock_server.engine.facts import RequestFacts
from mock_server.engine.spec import SpecView
from mock_server.state.clock import Clock
from mock_server.state.issued import KeepsIssued, SharedIssued, digest
from mock_server.vendors.base import Vendor
from vendor_facts import LoginDescription, OAuthDescription

if TYPE_CHECKING:
    from jinja2 import Environment
    from starlette.types import Receive, Scope

    from mock_server.engine.rendering import ErrorRendering
    from mock_server.state.mock_state import MockState

MAX_REQUEST_BYTES = 64 * 1024
MAX_ISSUED = 10_000  # per kind and API: the oldest are forgotten first


@functools.cache
def pages() -> Environment:
    """The kit's HTML pages (mock_server/templates), loaded when a page is first rendered: serving the
    APIs does not import Jinja2 (cold start)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("mock_server", "templates"), autoescape=select_autoescape())


@dataclass(frozen=True)
class OAuthServing:
    """The edge's OAuth steps (`mock_server.edge.stack`); None where no vendor needs one."""

    endpoints: OAuthEndpoints | None  # outside the request log
    issued: IssuedTokens | None  # outside the request log, the limits and the faults
    login: LoginEndpoint | None  # inside the body reader, outside the log


def serve(state: MockState, rendering: ErrorRendering) -> OAuthServing:
    """Serve the OAuth servers the vendors declare, and the tokens of their login operations. Call before
    the APIs are added: the served specs must name the mock's endpoints."""
    keeper = state.store if isinstance(state.store, KeepsIssued) else None  # shared by processes: tokens too
    servers = [
        OAuthMock(vendor, state.tokens[name], state.clock, state.specs[name].auth_prefix, keeper)
        for name, vendor in state.vendors.items()
        if vendor.oauth
    ]
    logins = [
        LoginMock(vendor, state.tokens[name], state.clock, state.specs[name], keeper)
        for name, vendor in state.vendors.items()
        if vendor.login
    ]
    for server in servers:
        point_flows_at_mock(state.specs[server.vendor.name].raw, server.vendor)
    issuers: list[TokenIssuer] = [*servers, *logins]
    return OAuthServing(
        endpoints=OAuthEndpoints(servers) if servers else None,
        issued=IssuedTokens(issuers) if issuers else None,
        login=LoginEndpoint(logins, rendering) if logins else None,
    )


def point_flows_at_mock(spec: dict[str, Any], vendor: Vendor) -> None:
    """Rewrite the OAuth2 flows of the served copy of a spec to the mock's endpoints."""
    assert vendor.oauth is not None
    urls = {
        "authorizationUrl": vendor.prefix + vendor.oauth.authorize_path,
        "tokenUrl": vendor.prefix + vendor.oauth.token_path,
        "refreshUrl": vendor.prefix + vendor.oauth.token_path,
    }
    for scheme in spec.get("components", {}).get("securitySchemes", {}).values():
        if scheme.get("type") != "oauth2":
            continue
        for flow in scheme.get("flows", {}).values():
            flow.update({key: url for key, url in urls.items() if key in flow})


class OAuthError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Issued:
    token: str  # the fixture (or derived) token it stands for
    expires: dt.datetime
    client_id: str = ""
    redirect_uri: str = ""


class IssuedStore:
    """Codes, access and refresh tokens the mock issued, bounded, safe across threads.

    With `shared` (the part of a store several processes share: `--workers N`, replicas), each is kept
    there too, so that a token issued by one process works on all: a key this process has not seen is
    looked up there once, then kept here, except a key `known` answers for (the API's own tokens, which
    are never issued ones: a request with one costs no round trip). Taking (`pop`, a one-time code) asks
    the shared store, so that only one process gets it.
    """

    def __init__(
        self,
        limit: int = MAX_ISSUED,
        *,
        shared: SharedIssued | None = None,
        known: Callable[[str], object] | None = None,
    ) -> None:
        self._items: OrderedDict[str, Issued] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._shared = shared
        self._known = known

    @classmethod
    def kept_by(
        cls, keeper: KeepsIssued | None, kind: str, known: Callable[[str], object] | None = None
    ) -> IssuedStore:
        """Issued tokens of `kind` (`<api>:access`…), shared through `keeper` if there is one."""
        if keeper is None:
            return cls()
        return cls(shared=keeper.issued_tokens(kind, MAX_ISSUED), known=known)

    def issue(self, issued: Issued, key: str | None = None) -> str:
        key = key or f"{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self._keep(key, issued)
        if self._shared is not None:
            self._shared.put(digest(key), _entry(issued))
        return key

    def get(self, key: str) -> Issued | None:
        with self._lock:
            found = self._items.get(key)
        if found is not None or self._shared is None or (self._known is not None and self._known(key)):
            return found
        entry = self._shared.get(digest(key))
        if entry is None:
            return None
        issued = _issued_from(entry)
        self._keep(key, issued)
        return issued

    def pop(self, key: str) -> Issued | None:
        with self._lock:
            found = self._items.pop(key, None)
        if self._shared is None:
            return found
        entry = self._shared.take(digest(key))
        return None if entry is None else _issued_from(entry)

    def _keep(self, key: str, issued: Issued) -> None:
        with self._lock:
            self._items[key] = issued
            while len(self._items) > self._limit:
                self._items.popitem(last=False)


def _entry(issued: Issued) -> str:
    return json.dumps([issued.token, issued.expires.isoformat(), issued.client_id, issued.redirect_uri])


def _issued_from(entry: str) -> Issued:
    token, expires, client_id, redirect_uri = json.loads(entry)
    return Issued(token, dt.datetime.fromisoformat(expires), client_id, redirect_uri)


class TokenIssuer(Protocol):
    """A server of the mock that issues access tokens standing for fixture tokens."""

    @property
    def vendor(self) -> Vendor: ...

    def stands_for(self, access_token: str) -> tuple[str, bool] | None: ...


class OAuthMock:
    """One vendor's OAuth server: grants in, tokens out; and the meaning of the tokens it issued."""

    def __init__(
        self, vendor: Vendor, registry: TokenRegistry, clock: Clock, auth_prefix: str, keeper: KeepsIssued | None = None
    ) -> None:
        assert vendor.oauth is not None
        self.vendor = vendor
        self.auth_prefix = auth_prefix
        self.config: OAuthDescription = vendor.oauth
        self.registry = registry
        self.clock = clock
        self.codes = IssuedStore.kept_by(keeper, f"{vendor.name}:codes")
        self.access_tokens = IssuedStore.kept_by(keeper, f"{vendor.name}:access", known=registry.lookup)
        self.refresh_tokens = IssuedStore.kept_by(keeper, f"{vendor.name}:refresh", known=registry.lookup)

    def issue_code(self, token: str, client_id: str, redirect_uri: str) -> str:
        if self.registry.lookup(token) is None:
            raise OAuthError("invalid_token")
        expires = self.clock.now() + self.config.code_lifetime
        return self.codes.issue(Issued(token, expires, client_id, redirect_uri))

    def exchange(self, params: Mapping[str, str], api_domain: str) -> dict[str, Any]:
        """The token endpoint's answer to a grant, or an OAuthError naming what is wrong."""
        grant_type = params.get("grant_type", "")
        if not params.get("client_id"):
            raise OAuthError("invalid_client")
        if grant_type == "authorization_code":
            token = self._redeem_code(params)
            refresh = self.refresh_tokens.issue(Issued(token, dt.datetime.max.replace(tzinfo=dt.UTC)))
            return {"access_token": self._access_token(token), "refresh_token": refresh, **self._common(api_domain)}
        if grant_type == "refresh_token":
            return {"access_token": self._access_token(self._refreshed(params)), **self._common(api_domain)}
        raise OAuthError("unsupported_grant_type")

    def stands_for(self, access_token: str) -> tuple[str, bool] | None:
        """(the token an issued access token stands for, whether it has expired); None if not issued here."""
        issued = self.access_tokens.get(access_token)
        if issued is None:
            return None
        return issued.token, self.clock.now() >= issued.expires

    def _redeem_code(self, params: Mapping[str, str]) -> str:
        issued = self.codes.pop(params.get("code", ""))
        if issued is None or self.clock.now() >= issued.expires:
            raise OAuthError("invalid_code")
        if issued.client_id != params["client_id"]:
            raise OAuthError("invalid_client")
        if issued.redirect_uri != params.get("redirect_uri", ""):
            raise OAuthError("invalid_redirect_uri")
        return issued.token

    def _refreshed(self, params: Mapping[str, str]) -> str:
        refresh = params.get("refresh_token", "")
        issued = self.refresh_tokens.get(refresh)
        if issued is not None:
            return issued.token
        if refresh and self.registry.lookup(refresh) is not None:
            return refresh
        raise OAuthError("invalid_code")

    def _access_token(self, token: str) -> str:
        return self.access_tokens.issue(Issued(token, self.clock.now() + self.config.access_token_lifetime))

    def _common(self, api_domain: str) -> dict[str, Any]:
        return {
            "api_domain": api_domain,
            "token_type": self.auth_prefix,
            "expires_in": int(self.config.access_token_lifetime.total_seconds()),
        }


class LoginMock:
    """One vendor's login operation: a username and password in, a short-lived bearer token out."""

    def __init__(
        self, vendor: Vendor, registry: TokenRegistry, clock: Clock, spec: SpecView, keeper: KeepsIssued | None = None
    ) -> None:
        assert vendor.login is not None
        self.vendor = vendor
        self.config: LoginDescription = vendor.login
        self.registry = registry
        self.clock = clock
        self.spec = spec
        self.access_tokens = IssuedStore.kept_by(keeper, f"{vendor.name}:login", known=registry.lookup)

    def log_in(self, credentials: Any) -> dict[str, Any]:
        """The answer to a login: the token and its lifetime, or a VendorError (400 or 401)."""
        problems = self.spec.validate(self.config.credentials_schema, credentials)
        if problems:
            raise validation_error(problems)
        token = self.registry.token_for(credentials["username"], credentials["password"])
        if token is None:
            raise VendorError(401, "invalid_token", "Bad credentials")
        now = self._now_for(token)
        lifetime = self.config.token_lifetime
        jwt = _jwt_like(credentials["username"], now, now + lifetime)
        key = self.access_tokens.issue(Issued(token, now + lifetime), key=jwt)
        return {"token": key, "expiresIn": int(lifetime.total_seconds())}

    def stands_for(self, access_token: str) -> tuple[str, bool] | None:
        """(the token an issued access token stands for, whether it has expired); None if not issued here."""
        issued = self.access_tokens.get(access_token)
        if issued is None:
            return None
        return issued.token, self._now_for(issued.token) >= issued.expires

    def _now_for(self, token: str) -> dt.datetime:
        """Now on the clock of the tenant the token stands for."""
        return self.clock.for_tenant(fingerprint(token)).now()


def _jwt_like(subject: str, issued_at: dt.datetime, expires: dt.datetime) -> str:
    """Three base64url parts, like a signed JWT; the mock recognises its tokens by lookup, not signature."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": subject, "iat": int(issued_at.timestamp()), "exp": int(expires.timestamp())}
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (header, claims)]
    parts.append(secrets.token_bytes(32))
    return ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in parts)


Server = TypeVar("Server", bound=TokenIssuer)


class _ForOAuthVendors(Generic[Server]):
    def __init__(self, servers: list[Server]) -> None:
        self.servers = {server.vendor.name: server for server in servers}

    def _server_for(self, facts: RequestFacts) -> Server | None:
        return self.servers.get(facts.vendor.name) if facts.vendor is not None else None


class OAuthEndpoints(_ForOAuthVendors[OAuthMock]):
    """Serves the token endpoint and the authorization page; outside the request log."""

    async def answer(self, scope: Scope, receive: Receive, facts: RequestFacts) -> Response | None:
        server = self._server_for(facts)
        if server is None:
            return None
        local = scope["path"][len(server.vendor.prefix) :]
        if local == server.config.token_path:
            return await _token_endpoint(server, scope, receive)
        if local == server.config.authorize_path:
            return await _authorize_endpoint(server, scope, receive)
        return None


class LoginEndpoint(_ForOAuthVendors[LoginMock]):
    """Serves the login operation (POST; other methods get Connexion's 405). Inside the body reader
    (size, depth and streaming limits apply), outside the request log: credentials and tokens are
    never logged."""

    def __init__(self, servers: list[LoginMock], rendering: ErrorRendering) -> None:
        super().__init__(servers)
        self.rendering = rendering

    def answer(self, scope: Scope, facts: RequestFacts) -> Response | None:
        server = self._server_for(facts)
        if server is None or scope["method"] != "POST" or scope["path"] != server.vendor.prefix + server.config.path:
            return None
        try:
            return JSONResponse(server.log_in(_json_body(scope, facts)), headers=_NO_STORE)
        except VendorError as error:
            return self.rendering.response(facts, error)


def _json_body(scope: Scope, facts: RequestFacts) -> Any:
    content_type = Request(scope).headers.get("content-type", "")
    if not is_json(content_type.encode("latin-1")):
        raise VendorError(
            415, "unsupported_media_type", "Content type not supported; use application/json", media_type=content_type
        )
    try:
        return json.loads(facts.body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise VendorError(400, "bad_request", "The request body is not valid JSON") from None


class IssuedTokens(_ForOAuthVendors[TokenIssuer]):
    """Makes a request with an issued access token stand for the token it was issued for (its
    credentials and tenant, in the request's facts), or answers the vendor's expiry error.

    Outside the request log and the limits and faults, which read the tenant from the facts: a
    request made with an issued token is the tenant's. The expiry error itself is not logged.
    """

    def answer(self, facts: RequestFacts) -> Response | None:
        server = self._server_for(facts)
        if server is not None and _translate_token(server, facts):
            status, body = server.vendor.render_error(server.vendor.expired_token_error())
            return JSONResponse(body, status_code=status)
        return None


def _translate_token(server: TokenIssuer, facts: RequestFacts) -> bool:
    """Stand the request in for the token an issued one stands for; True if the issued one has expired."""
    found = server.stands_for(facts.credentials.token) if facts.credentials is not None else None
    if found is None:
        return False
    stands_for, expired = found
    facts.use_token(stands_for, fingerprint(stands_for))
    return expired


async def _token_endpoint(server: OAuthMock, scope: Scope, receive: Receive) -> Response:
    if scope["method"] != "POST":
        return JSONResponse({"error": "method_not_allowed"}, status_code=405, headers={"Allow": "POST"})
    try:
        params = await _parameters(scope, receive)
        answer = server.exchange(params, api_domain=_origin(scope) + server.vendor.prefix)
    except OAuthError as exc:
        return JSONResponse({"error": exc.code}, status_code=server.config.error_status, headers=_NO_STORE)
    return JSONResponse(answer, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _authorize_endpoint(server: OAuthMock, scope: Scope, receive: Receive) -> Response:
    """GET: the page to choose a token; POST (the page's form): a code, by redirect to the client."""
    if scope["method"] not in ("GET", "POST"):
        return HTMLResponse("Method not allowed", status_code=405, headers={"Allow": "GET, POST"})
    try:
        params = await _parameters(scope, receive)
    except OAuthError as exc:
        return _authorize_page(server, {}, problem=exc.code, status=400)
    missing = [name for name in ("response_type", "client_id", "redirect_uri") if not params.get(name)]
    if missing:
        return _authorize_page(server, params, problem=f"missing parameter {', '.join(missing)}", status=400)
    if params["response_type"] != "code":
        return _authorize_page(server, params, problem="response_type must be code", status=400)
    if scope["method"] == "GET":
        return _authorize_page(server, params)
    try:
        # A typed derived token wins: pressing Enter in its field also sends the first token button.
        token = params.get("derived_token", "").strip() or params.get("token", "").strip()
        code = server.issue_code(token, params["client_id"], params["redirect_uri"])
    except OAuthError:
        return _authorize_page(server, params, problem="unknown token: choose one below", status=400)
    return RedirectResponse(_with_query(params["redirect_uri"], code=code, state=params.get("state")), status_code=302)


def _authorize_page(server: OAuthMock, params: Mapping[str, str], problem: str = "", status: int = 200) -> Response:
    tokens = [
        {"token": token, "grant": server.registry.lookup(token)} for token in server.registry.tokens()
    ]  # fmt: skip
    hidden = {key: value for key, value in params.items() if key not in ("token", "derived_token")}
    page = (
        pages()
        .get_template("oauth_authorize.html")
        .render(vendor=server.vendor, tokens=tokens, hidden=hidden, problem=problem)
    )
    return HTMLResponse(page, status_code=status)


async def _parameters(scope: Scope, receive: Receive) -> dict[str, str]:
    """Query string, then the form body, then client credentials from a Basic header."""
    try:
        body = await read_body(scope, receive, MAX_REQUEST_BYTES)
    except BodyTooLarge:
        raise OAuthError("invalid_request") from None
    request = Request(scope, _replay(body))
    params = dict(request.query_params)
    if body:
        try:
            form = await request.form(max_files=0, max_fields=100)
        except (HTTPException, MultiPartException) as exc:  # a broken or file-carrying multipart body
            raise OAuthError("invalid_request") from exc
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    params.update(_basic_credentials(request.headers.get("authorization", "")))
    return params


def _replay(body: bytes) -> Receive:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _basic_credentials(header: str) -> dict[str, str]:
    word, _, encoded = header.strip().partition(" ")
    if word.lower() != "basic":
        return {}
    try:
        client_id, _, client_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return {}
    return {"client_id": client_id, "client_secret": client_secret}


def _origin(scope: Scope) -> str:
    request = Request(scope)
    return f"{request.url.scheme}://{request.url.netloc}"


def _with_query(url: str, **params: str | None) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + [(k, v) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


__all__ = [
    "IssuedTokens",
    "LoginEndpoint",
    "LoginMock",
    "OAuthEndpoints",
    "OAuthMock",
    "OAuthServing",
    "point_flows_at_mock",
    "serve",
]
