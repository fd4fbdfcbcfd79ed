"""The mock inside a Python test suite (the pytest plugin's `contract_mock` fixture is built on this).

- `MockServer`: the mock served by uvicorn in a thread on a free loopback port.
- `ContractMock`: one test's view of it: a tenant of its own (derived tokens `<token>.<suffix>`),
  ready-made clients, admin helpers, and httpx transports that serve the mock in-process.
- `transport(app)` / `async_transport(app)`: httpx transports without a socket. httpx's own
  `ASGITransport` is async only; for `httpx.Client` the app is bridged to WSGI by a2wsgi (which the mock
  already uses) and served by httpx's `WSGITransport`.

Both transports and the server share one app, hence one store and one clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from a2wsgi import ASGIMiddleware

from launcher.servers import HOST, ThreadServer
from mock_server.app import MockApp, MockState, create_app, mock_state
from mock_server.config import Settings
from mock_server.engine.auth import Grant, TokenRegistry
from mock_server.vendors.base import Vendor

STARTUP_TIMEOUT = 30.0
TENANT_TOKEN_HEADER = "X-Tenant-Token"


def transport(app: MockApp | Callable[..., Any]) -> httpx.WSGITransport:
    """A transport for `httpx.Client` that serves `app` (an ASGI app) in this process.

    Each call starts an event-loop thread for the app: make one per app (`ContractMock.transport()` shares one).
    """
    return httpx.WSGITransport(app=ASGIMiddleware(app))  # type: ignore[arg-type]


def async_transport(app: MockApp | Callable[..., Any]) -> httpx.ASGITransport:
    """A transport for `httpx.AsyncClient` that serves `app` in this process."""
    return httpx.ASGITransport(app=app)


class MockServer:
    """The mock on 127.0.0.1:<free port>, served by uvicorn in a daemon thread."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._server = ThreadServer(STARTUP_TIMEOUT)
        self.settings = dataclasses.replace(settings or Settings(), host=HOST, port=self._server.port)
        self.url = self._server.url
        self.app = create_app(self.settings)
        self.state: MockState = mock_state(self.app)
        self._wsgi: ASGIMiddleware | None = None
        self._lock = threading.Lock()

    def start(self) -> MockServer:
        self._server.start(self.app)
        httpx.get(f"{self.url}/", timeout=STARTUP_TIMEOUT)  # builds the app's middleware once, before any transport
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wsgi(self) -> ASGIMiddleware:
        """The app bridged to WSGI, made once: each bridge runs an event-loop thread."""
        with self._lock:
            if self._wsgi is None:
                self._wsgi = ASGIMiddleware(self.app)  # type: ignore[arg-type]
            return self._wsgi

    def tenant(self, suffix: str | None = None) -> ContractMock:
        return ContractMock(self, suffix or uuid.uuid4().hex[:12])


class MockAdmin:
    """The admin API (`/__admin`) for one tenant. Each helper is one call: add one per admin endpoint."""

    def __init__(self, http: httpx.Client, tenant_token: str) -> None:
        self._http = http
        self._tenant = {TENANT_TOKEN_HEADER: tenant_token}
        self._token = tenant_token
        self.clock_moved = False

    def reset(self) -> None:
        """This tenant's records back to the seed."""
        self._call("POST", "/reset", json={"token": self._token})

    def state(self) -> dict[str, Any]:
        """This tenant's records: api -> collection -> id -> record (only APIs it has used)."""
        body: dict[str, Any] = self._call("GET", "/state", headers=self._tenant)["apis"]
        return body

    def records(self, api: str, collection: str) -> dict[str, Any]:
        """One collection of this tenant (empty if the tenant has not used the API yet)."""
        return dict(self.state().get(api, {}).get(collection, {}))

    def requests(self, limit: int = 50) -> list[dict[str, Any]]:
        """This tenant's recent requests, as the mock logged them (tokens redacted)."""
        entries: list[dict[str, Any]] = self._call("GET", f"/requests?limit={limit}", headers=self._tenant)["requests"]
        return entries

    def today(self) -> dt.date:
        return dt.date.fromisoformat(self._call("GET", "/clock")["today"])

    def set_today(self, today: dt.date) -> dt.date:
        """Move the mock's clock (shared by every tenant: the fixture puts it back after the test)."""
        self.clock_moved = True
        return dt.date.fromisoformat(self._call("POST", "/clock", json={"today": today.isoformat()})["today"])

    def advance_days(self, days: int) -> dt.date:
        self.clock_moved = True
        return dt.date.fromisoformat(self._call("POST", "/clock", json={"advanceDays": days})["today"])

    def _call(self, method: str, path: str, **options: Any) -> Any:
        response = self._http.request(method, f"/__admin{path}", **options)
        response.raise_for_status()
        return response.json()


class ContractMock:
    """One test's mock: a fresh tenant in every API, its clients, transports and admin helpers."""

    def __init__(self, server: MockServer, suffix: str) -> None:
        self.server = server
        self.url = server.url
        self.suffix = suffix
        self._clients: list[httpx.Client] = []
        admin_token = server.settings.admin_token
        admin_headers = {"X-Admin-Token": admin_token} if admin_token else {}
        admin_http = self._track(httpx.Client(base_url=server.url, headers=admin_headers, timeout=30))
        self.admin = MockAdmin(admin_http, self.token(self.apis[0]) if self.apis else suffix)
        self._today = self.admin.today()  # the server binds loopback, so the admin API is always there

    @property
    def apis(self) -> list[str]:
        return list(self.server.state.vendors)

    def base_url(self, api: str) -> str:
        return self.url + self._vendor(api).prefix

    def token(self, api: str) -> str:
        """A token of this test's tenant: the API's most powerful fixture token, derived."""
        registry = self.server.state.tokens[api]
        best = max(registry.tokens(), key=lambda token: len(_grant(registry, token).scopes))
        return f"{best}.{self.suffix}"

    def headers(self, api: str) -> dict[str, str]:
        """What every request to `api` needs: the credentials, and the organisation header if the API has one."""
        vendor = self._vendor(api)
        token = self.token(api)
        headers = {"Authorization": f"{self.server.state.specs[api].auth_prefix} {token}"}
        if vendor.org_header:
            orgs = sorted(_grant(self.server.state.tokens[api], token).orgs)
            if orgs:
                headers[vendor.org_header] = orgs[0]
        return headers

    def client(self, api: str, *, in_process: bool = False, **options: Any) -> httpx.Client:
        """An `httpx.Client` for `api`: base URL and headers set; over loopback, or in-process without a socket."""
        if in_process:
            options.setdefault("transport", self.transport())
        return self._track(httpx.Client(base_url=self.base_url(api), headers=self.headers(api), **options))

    def async_client(self, api: str, **options: Any) -> httpx.AsyncClient:
        """An in-process `httpx.AsyncClient` for `api` (base URL and headers set)."""
        options.setdefault("transport", self.async_transport())
        return httpx.AsyncClient(base_url=self.base_url(api), headers=self.headers(api), **options)

    def transport(self, api: str | None = None) -> httpx.BaseTransport:
        """For your own `httpx.Client(transport=...)`, in-process.

        A relative URL (`client.get("/customer-contracts/1")`, or a relative `base_url`) is resolved
        against `base_url(api)`, or the mock's root without `api`; an absolute URL is used as it is.
        """
        wsgi = httpx.WSGITransport(app=self.server.wsgi())  # type: ignore[arg-type]
        return _RelativeTo(self._root(api), wsgi)

    def async_transport(self, api: str | None = None) -> httpx.AsyncBaseTransport:
        """For your own `httpx.AsyncClient(transport=...)`, in-process; relative URLs as in `transport()`."""
        return _AsyncRelativeTo(self._root(api), async_transport(self.server.app))

    def _root(self, api: str | None) -> httpx.URL:
        return httpx.URL(self.base_url(api) if api else self.url)

    def close(self) -> None:
        """Put back what the test changed: its tenant's records and the clock; close its clients."""
        self.admin.reset()
        if self.admin.clock_moved:
            self.admin.set_today(self._today)
        for client in self._clients:
            client.close()
        self._clients.clear()

    def __enter__(self) -> ContractMock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _vendor(self, api: str) -> Vendor:
        try:
            return self.server.state.vendors[api]
        except KeyError:
            raise KeyError(f"no API {api!r}; the mock serves {', '.join(self.apis)}") from None

    def _track(self, client: httpx.Client) -> httpx.Client:
        self._clients.append(client)
        return client


def _absolute(root: httpx.URL, request: httpx.Request) -> None:
    """Give a request made with a relative URL the mock's scheme, host and prefix (httpx needs them after)."""
    if request.url.is_absolute_url:
        return
    prefix = root.raw_path.rstrip(b"/")
    request.url = root.copy_with(raw_path=prefix + request.url.raw_path)
    request.headers["Host"] = root.netloc.decode("ascii")


class _RelativeTo(httpx.BaseTransport):
    def __init__(self, root: httpx.URL, inner: httpx.BaseTransport) -> None:
        self._root, self._inner = root, inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _absolute(self._root, request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _AsyncRelativeTo(httpx.AsyncBaseTransport):
    def __init__(self, root: httpx.URL, inner: httpx.AsyncBaseTransport) -> None:
        self._root, self._inner = root, inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _absolute(self._root, request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _grant(registry: TokenRegistry, token: str) -> Grant:
    grant = registry.lookup(token)
    assert grant is not None  # a fixture token, or one derived from it
    return grant


__all__ = ["ContractMock", "MockAdmin", "MockServer", "async_transport", "transport"]
