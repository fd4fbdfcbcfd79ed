"""`conformance proxy`: forward every request to a real vendor unchanged and judge each exchange.

The client gets the vendor's answer byte for byte plus one header, `X-Contract-Violations` (a JSON
list of rule, location, message and evidence class). Each exchange is also printed as one console line,
kept in the proxy's journal (`GET /__admin/requests`, `?format=har`) and, with `--record`, appended to a
HAR file. With `--errors`, an exchange that breaks a documented rule is answered with a 502 problem body
instead; one that only differs from our inference or from HTTP hygiene too with `--strict`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import http
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from conformance.apis import Api
from conformance.exchange_checks import Exchange, Finding, judge
from conformance.exchange_spec import contract_for
from recordings import har

VIOLATIONS_HEADER = "x-contract-violations"
# Headers of one connection, not of the message: never forwarded (RFC 9110 §7.6.1), nor Host.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
JOURNAL_SIZE = 500
CREDENTIALS_REMEMBERED = 1000  # credentials whose accepted organisations are kept (as hashes)
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProxySettings:
    api: Api
    upstream: str  # base URL; the request path is appended to it
    record: Path | None = None
    errors: bool = False  # answer a violating exchange with 502 instead of the vendor's answer
    strict: bool = False  # with `errors`, differences from our inference or HTTP hygiene are answered 502 too
    redact: tuple[str, ...] = ()  # dotted body members to redact in recordings
    ca_bundle: Path | None = None
    timeout: float = 30.0  # seconds for the whole upstream exchange
    connect_timeout: float = 5.0


@dataclass
class Journal:
    """The last exchanges, as redacted HAR entries with their violations."""

    size: int = JOURNAL_SIZE
    _entries: deque[dict[str, Any]] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._entries = deque(maxlen=self.size)

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)


class CredentialClassifier:
    """The class of each exchange's credentials (`har.CredentialClass`). A 403 for a credential already
    accepted with another organisation is "other organisation"; credentials are remembered as hashes."""

    def __init__(self, org_header: str | None) -> None:
        self.org_header = org_header.lower() if org_header else None
        self._accepted_orgs: dict[str, set[str]] = {}

    def classify(self, headers: Sequence[tuple[str, str]], status: int) -> har.CredentialClass:
        sent = har.has_credentials(headers)
        key = self._key(headers)
        org = next((value for name, value in headers if name.lower() == self.org_header), None)
        accepted = self._accepted_orgs.get(key, set())
        other = sent and status == 403 and org is not None and bool(accepted) and org not in accepted
        if sent and org is not None and 200 <= status < 300 and len(self._accepted_orgs) < CREDENTIALS_REMEMBERED:
            self._accepted_orgs.setdefault(key, set()).add(org)
        return har.credential_class(status, sent_credentials=sent, other_organisation=other)

    @staticmethod
    def _key(headers: Sequence[tuple[str, str]]) -> str:
        values = sorted(f"{name.lower()}:{value}" for name, value in headers if name.lower() in har.CREDENTIAL_HEADERS)
        return hashlib.sha256("\n".join(values).encode()).hexdigest()


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The system's trust store, or only the CAs of `ca_bundle`; certificates and host names verified."""
    return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)


class Forwarder:
    """The ASGI app that forwards one request, judges the exchange and answers."""

    def __init__(self, settings: ProxySettings, journal: Journal, console: Console) -> None:
        self.settings = settings
        self.journal = journal
        self.console = console
        self.contract = contract_for(settings.api)
        org_header = settings.api.org_header
        self.redaction = har.Redaction(members=settings.redact).with_headers([org_header] if org_header else [])
        self.recording = har.HarWriter(settings.record) if settings.record else None
        self.credentials = CredentialClassifier(org_header)
        self.client: httpx.AsyncClient | None = None
        self._last_kept: asyncio.Future[None] | None = None

    def open(self) -> None:
        timeout = httpx.Timeout(
            self.settings.timeout, connect=min(self.settings.connect_timeout, self.settings.timeout)
        )
        self.client = httpx.AsyncClient(verify=tls_context(self.settings.ca_bundle), timeout=timeout, trust_env=False)

    async def close(self) -> None:
        if self._last_kept is not None:
            await self._last_kept
        if self.client is not None:
            await self.client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        sent = _Sent(
            method=request.method,
            url=self._upstream_url(scope),
            headers=[
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in scope["headers"]
                if name.decode("latin-1").lower() not in HOP_BY_HOP
            ],
            body=await request.body(),
        )
        started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
        answer = await self._exchange(sent)
        duration_ms = (time.perf_counter() - clock) * 1000
        status, headers, body = answer.status, answer.headers, answer.body
        failing = [f for f in answer.findings if f.documented or self.settings.strict]
        if failing and self.settings.errors:
            status, headers, body = _violation_problem(answer.status, answer.findings)
        headers = [*headers, (VIOLATIONS_HEADER, _violations_header(answer.findings))]
        raw_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})
        redaction = self.redaction.with_secrets_of(sent.headers)
        credential = self.credentials.classify(sent.headers, answer.status) if answer.reached else None
        self._keep_in_order(started, duration_ms, sent, answer, redaction, credential)
        line = _console_line(sent.method, redaction.text(scope["path"]), answer.status, duration_ms, answer.findings)
        self.console.print(line)

    def _keep_in_order(self, *exchange: Any) -> None:
        """Journal and record the exchange in a thread (writing and syncing must not hold up the event
        loop), after the exchanges before it: chained here, before any await, so the order is the answers'."""
        previous = self._last_kept

        async def keep() -> None:
            if previous is not None:
                await previous
            await run_in_threadpool(self._keep, *exchange)

        self._last_kept = asyncio.ensure_future(keep())

    def _upstream_url(self, scope: Scope) -> str:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        suffix = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        return self.settings.upstream.rstrip("/") + suffix

    async def _exchange(self, sent: _Sent) -> _Answer:
        assert self.client is not None, "the proxy's lifespan opens the client"
        try:
            outgoing = self.client.build_request(sent.method, sent.url, headers=sent.headers, content=sent.body)
            response = await self.client.send(outgoing, stream=True)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            return _gateway_problem(504, f"the upstream did not answer in time ({type(exc).__name__})")
        except (httpx.TransportError, httpx.InvalidURL, ssl.SSLError) as exc:
            return _gateway_problem(502, f"the upstream cannot be reached: {type(exc).__name__}: {exc}")
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.headers.raw
            if name.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        answer = _Answer(response.status_code, headers, raw, reached=True)
        url = httpx.URL(sent.url)
        verdict = judge(
            self.contract,
            Exchange(
                method=sent.method,
                path=url.path,
                query=url.query.decode(),
                request_headers={name.lower(): value for name, value in sent.headers},
                request_body=sent.body,
                status=answer.status,
                response_headers={name.lower(): value for name, value in headers},
                response_body=answer.decoded_body(),
            ),
        )
        answer.findings.extend(verdict.findings)
        return answer

    def _keep(
        self,
        started: dt.datetime,
        duration_ms: float,
        sent: _Sent,
        answer: _Answer,
        redaction: har.Redaction,
        credential: har.CredentialClass | None,
    ) -> None:
        entry = har.entry(
            started=started,
            duration_ms=duration_ms,
            method=sent.method,
            url=sent.url,
            request=har.Message(sent.headers, sent.body),
            status=answer.status,
            status_text=_reason(answer.status),
            # HAR keeps the decoded body, so the encoding header goes with the encoded bytes
            response=har.Message(
                [(name, value) for name, value in answer.headers if name.lower() != "content-encoding"],
                answer.decoded_body(),
            ),
            redaction=redaction,
            extra={
                "_violations": [json.loads(redaction.text(json.dumps(f.as_dict()))) for f in answer.findings],
                **({har.CREDENTIAL_MEMBER: {"class": credential.value}} if credential is not None else {}),
            },
        )
        self.journal.add(entry)
        # a gateway failure is the proxy's own answer, not the vendor's: it stays out of the recording
        if self.recording is not None and answer.reached:
            self.recording.add(entry)


@dataclass(frozen=True)
class _Sent:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # as received: still compressed if the upstream compressed it
    reached: bool  # False: the proxy's own 502/504, the upstream gave no answer
    findings: list[Finding] = field(default_factory=list)

    def decoded_body(self) -> bytes:
        return httpx.Response(self.status, headers=self.headers, content=self.body).read()


def _console_line(method: str, path: str, status: int, duration_ms: float, findings: Sequence[Finding]) -> Text:
    line = Text(f"{method:<6} {path} → ", style="bold")
    line.append(str(status), style="green" if status < 400 else "yellow" if status < 500 else "red")
    line.append(f"  {duration_ms:.0f} ms  ", style="dim")
    if not findings:
        line.append("✓ conforms", style="green")
        return line
    violations = [finding for finding in findings if finding.documented]
    differences = [finding for finding in findings if not finding.documented]
    if violations:
        rules = ", ".join(sorted({finding.rule for finding in violations}))
        line.append(f"✗ {len(violations)} violation(s) [documented]: {rules}", style="bold red")
    if differences:
        classes = "/".join(sorted({finding.basis.evidence.value for finding in differences}))
        rules = ", ".join(sorted({finding.rule for finding in differences}))
        line.append("  " if violations else "")
        line.append(f"≠ {len(differences)} difference(s) [{classes}]: {rules}", style="bold yellow")
    for finding in [*violations, *differences][:5]:
        style = "red" if finding.documented else "yellow"
        line.append(f"\n         [{finding.basis.evidence.value}] {finding.location}: {finding.message}", style=style)
    return line


def _violations_header(findings: Sequence[Finding]) -> str:
    return json.dumps([finding.as_dict() for finding in findings], ensure_ascii=True)


def _problem_body(status: int, title: str, detail: str, **extra: Any) -> tuple[list[tuple[str, str]], bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}).encode()
    return [("content-type", PROBLEM_JSON), ("content-length", str(len(body)))], body


def _gateway_problem(status: int, detail: str) -> _Answer:
    headers, body = _problem_body(status, _reason(status), detail)
    return _Answer(status, headers, body, reached=False)


def _violation_problem(upstream_status: int, findings: Sequence[Finding]) -> tuple[int, list[tuple[str, str]], bytes]:
    headers, body = _problem_body(
        502,
        "Contract violation",
        f"the upstream's answer ({upstream_status}) departs from the documented behaviour",
        upstreamStatus=upstream_status,
        violations=[finding.as_dict() for finding in findings],
    )
    return 502, headers, body


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def create_proxy(settings: ProxySettings, console: Console | None = None) -> Starlette:
    journal = Journal()
    forwarder = Forwarder(settings, journal, console or Console(stderr=True))

    async def requests_log(request: Request) -> Response:
        entries = journal.entries()
        if request.query_params.get("format") == "har":
            return JSONResponse(har.document(entries))
        return JSONResponse({"requests": entries})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        forwarder.open()
        try:
            yield
        finally:
            await forwarder.close()

    routes = [Route("/__admin/requests", requests_log, methods=["GET"]), Route("/{path:path}", forwarder)]
    return Starlette(routes=routes, lifespan=lifespan)
