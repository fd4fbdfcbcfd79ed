"""The scenario runner's HTTP client: a request-rate cap, 429 `Retry-After` handling, redacted records."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

import httpx
from schemathesis.core.rate_limit import RATE_LIMIT_AUTO_MAX_RETRIES, build_limiter, parse_retry_after

from conformance import budget
from conformance.results import Exchange
from conformance.target import Redactor

DEFAULT_TIMEOUT = 30.0
# Without a usable Retry-After, wait this long before retrying a 429.
DEFAULT_RETRY_DELAY = 1.0
MAX_RECORDED_BODY = 10_000


class TargetUnreachable(Exception):
    pass


def wait_out(delay: float) -> None:
    """Sleep through a Retry-After, showing the run's progress when the end is."""
    metered = budget.active()
    if metered is not None:
        metered.waiting_until = time.monotonic() + delay
    try:
        time.sleep(delay)
    finally:
        if metered is not None:
            metered.waiting_until = None


class RateCap:
    """At most N requests per period (`100/m`), shared by everything that talks to one target."""

    def __init__(self, rate: str) -> None:
        self._limiter = build_limiter(rate)
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            self._limiter.try_acquire("target")


@cache
def verified_tls() -> ssl.SSLContext:
    """httpx's default TLS settings (certificates verified, `SSL_CERT_FILE` honoured), built once per process:
    building them reads the CA bundle, about a tenth of a second of CPU for every client."""
    return httpx.create_ssl_context()


class Client:
    def __init__(
        self,
        base_url: str,
        *,
        redactor: Redactor,
        rate_cap: RateCap | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        # The trailing slash makes httpx append request paths to the base path instead of replacing it.
        self._client = httpx.Client(
            base_url=base_url + "/", timeout=timeout, transport=transport, verify=verified_tls()
        )
        self.redactor = redactor
        self.rate_cap = rate_cap

    def close(self) -> None:
        self._client.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one request, waiting out up to a few 429s as their `Retry-After` asks."""
        request = self._client.build_request(
            method, path.lstrip("/"), headers=dict(headers), params=params, content=content
        )
        for _ in range(RATE_LIMIT_AUTO_MAX_RETRIES):
            response = self._send_once(request)
            if response.status_code != 429:
                return response
            delay = parse_retry_after(response.headers.get("Retry-After", ""))
            wait_out(DEFAULT_RETRY_DELAY if delay is None else delay)
        return self._send_once(request)

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        metered = budget.active()
        if metered is not None:
            metered.take()
        if self.rate_cap is not None:
            self.rate_cap.wait()
        try:
            response = self._client.send(request)
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"{request.method} {self.redactor.text(str(request.url))}: {exc}") from exc
        response.read()
        if metered is not None and response.status_code == 429:
            metered.throttled += 1
        return response

    def record(self, response: httpx.Response) -> Exchange:
        """The request and response as they may appear in a report: credentials replaced by `***`."""
        request = response.request
        return Exchange(
            method=request.method,
            url=self.redactor.text(str(request.url)),
            request_headers=self.redactor.headers(_interesting(request.headers)),
            request_body=self._body(request.content, "utf-8"),
            status=response.status_code,
            response_headers=self.redactor.headers(_interesting(response.headers)),
            response_body=self._body(response.content, response.encoding or "utf-8"),
        )

    def _body(self, content: bytes, encoding: str) -> str | None:
        if not content:
            return None
        try:
            text = content.decode(encoding, errors="replace")
        except LookupError:
            text = content.decode("utf-8", errors="replace")
        if len(text) > MAX_RECORDED_BODY:
            text = text[:MAX_RECORDED_BODY] + f"… ({len(text) - MAX_RECORDED_BODY} more characters)"
        return self.redactor.text(text)


# httpx adds transport headers (host, accept-encoding, connection, user-agent) that say nothing about the API.
NOISE_HEADERS = frozenset(
    {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length", "date", "server"}
)


def _interesting(headers: httpx.Headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in NOISE_HEADERS}
