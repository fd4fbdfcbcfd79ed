"""HTTP Archive (HAR 1.2) recordings: written by the proxy and the mock's journal, read by drift and scenario export.

Credentials never reach a recording: `Authorization`, cookies, the org header, every token seen in
them (wherever else it appears) and the body members named for redaction become `***`. What a
replay needs of them is kept instead as the entry's credential class (`_credential`): absent,
accepted, refused with 401, refused with 403, or another organisation's.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

HAR_VERSION = "1.2"
CREATOR = {"name": "contract-mock-kit", "version": "1"}
REDACTED = "***"
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-admin-token", "x-tenant-token"}
)
ALWAYS_REDACTED_HEADERS = CREDENTIAL_HEADERS


CREDENTIAL_MEMBER = "_credential"  # the HAR entry member (custom, as HAR allows) holding the credential class


class CredentialClass(StrEnum):
    """What the credentials of one exchange were, without them: enough for a replay to send the same kind."""

    ABSENT = "absent"  # no credential header
    ACCEPTED = "accepted"
    REFUSED_401 = "refused-401"  # not recognised
    REFUSED_403 = "refused-403"  # recognised, without the grant
    OTHER_ORGANISATION = "other-organisation"  # valid, for another organisation than the one named


def has_credentials(headers: Iterable[tuple[str, str]]) -> bool:
    return any(name.lower() in CREDENTIAL_HEADERS and value.strip() for name, value in headers)


def credential_class(status: int, *, sent_credentials: bool, other_organisation: bool = False) -> CredentialClass:
    """The class of an exchange's credentials, from what was sent and the status it got."""
    if not sent_credentials:
        return CredentialClass.ABSENT
    if status == 401:
        return CredentialClass.REFUSED_401
    if status == 403:
        return CredentialClass.OTHER_ORGANISATION if other_organisation else CredentialClass.REFUSED_403
    return CredentialClass.ACCEPTED


class HarError(Exception):
    """A recording that cannot be used: unreadable, not HAR, or missing what an entry needs."""


@dataclass(frozen=True)
class Redaction:
    """What must not reach a recording, a report or a log line."""

    headers: frozenset[str] = ALWAYS_REDACTED_HEADERS  # lower-case names whose values become ***
    members: tuple[str, ...] = ()  # dotted paths into JSON or form bodies (`account.website`)
    secrets: frozenset[str] = frozenset()  # values scrubbed wherever they appear

    def with_headers(self, names: Iterable[str]) -> Redaction:
        return Redaction(self.headers | {name.lower() for name in names}, self.members, self.secrets)

    def with_secrets_of(self, headers: Iterable[tuple[str, str]]) -> Redaction:
        """This redaction, also scrubbing the credentials carried by `headers` (the token after the scheme)."""
        found = set(self.secrets)
        for name, value in headers:
            # credentials only: an organisation id is hidden in its header but may rightly appear in bodies
            if name.lower() in CREDENTIAL_HEADERS and value and value != REDACTED:
                found.add(value)
                _, _, credential = value.strip().partition(" ")
                if len(credential.strip()) >= 4:
                    found.add(credential.strip())
                for _, cookie in (part.partition("=")[::2] for part in value.split(";")):
                    if len(cookie.strip()) >= 4:
                        found.add(cookie.strip())
        return Redaction(self.headers, self.members, frozenset(found))

    def text(self, text: str) -> str:
        # longest first, so that a token is not half-replaced by a shorter secret inside it
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def header_list(self, headers: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
        return [
            {"name": name, "value": REDACTED if name.lower() in self.headers else self.text(value)}
            for name, value in headers
        ]

    def body(self, text: str, mime_type: str) -> str:
        if self.members:
            text = _redact_members(text, mime_type, self.members)
        return self.text(text)

    def url(self, url: str) -> str:
        if not self.members:
            return self.text(url)
        parts = urlsplit(url)
        if not parts.query:
            return self.text(url)
        query = _redact_members(parts.query, "application/x-www-form-urlencoded", self.members)
        return self.text(parts._replace(query=query).geturl())


def _redact_members(text: str, mime_type: str, members: Sequence[str]) -> str:
    if "json" in mime_type:
        try:
            document = json.loads(text)
        except ValueError:
            return text
        for dotted in members:
            _replace_at(document, dotted.split("."))
        return json.dumps(document, ensure_ascii=False)
    if "x-www-form-urlencoded" in mime_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(key, REDACTED if key in members else value) for key, value in pairs])
    return text


def _replace_at(node: Any, path: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _replace_at(item, path)
    elif isinstance(node, dict) and path[0] in node:
        if len(path) == 1:
            node[path[0]] = REDACTED
        else:
            _replace_at(node[path[0]], path[1:])


@dataclass(frozen=True)
class Message:
    """One side of an exchange as it passed: headers as sent, body bytes."""

    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    @property
    def mime_type(self) -> str:
        return self.header("content-type") or ""


def entry(
    *,
    started: dt.datetime,
    duration_ms: float,
    method: str,
    url: str,
    request: Message,
    status: int,
    status_text: str,
    response: Message,
    redaction: Redaction,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One HAR entry; `extra` members (names starting with `_`, as HAR allows) carry what the kit adds."""
    redaction = redaction.with_secrets_of(request.headers)
    har_request: dict[str, Any] = {
        "method": method,
        "url": redaction.url(url),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": redaction.header_list(request.headers),
        "queryString": [
            {"name": name, "value": value}
            for name, value in parse_qsl(urlsplit(redaction.url(url)).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(request.body),
    }
    if request.body:
        text, encoding = _text(request.body)
        har_request["postData"] = {
            "mimeType": request.mime_type,
            "text": text if encoding else redaction.body(text, request.mime_type),
            **({"comment": "base64"} if encoding else {}),
        }
    text, encoding = _text(response.body)
    content: dict[str, Any] = {
        "size": len(response.body),
        "mimeType": response.mime_type,
        "text": text if encoding else redaction.body(text, response.mime_type),
    }
    if encoding:
        content["encoding"] = encoding
    har_response = {
        "status": status,
        "statusText": status_text,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": redaction.header_list(response.headers),
        "content": content,
        "redirectURL": response.header("location") or "",
        "headersSize": -1,
        "bodySize": len(response.body),
    }
    return {
        "startedDateTime": started.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": round(duration_ms, 3),
        "request": har_request,
        "response": har_response,
        "cache": {},
        "timings": {"send": 0, "wait": round(duration_ms, 3), "receive": 0},
        **(extra or {}),
    }


def _text(body: bytes) -> tuple[str, str | None]:
    """The body as HAR text, and `base64` when it is not UTF-8."""
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def document(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": HAR_VERSION, "creator": dict(CREATOR), "pages": [], "entries": list(entries)}}


@dataclass
class HarWriter:
    """A recording on disk that is a complete HAR document after every exchange, so an interrupted run
    keeps what it saw. Each entry is written over the document's closing brackets, which follow it again:
    the cost of an exchange does not grow with the recording."""

    path: Path
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        head = json.dumps(document([]), indent=1)
        self.path.write_text(head[: head.rindex("[") + 1] + _TAIL, encoding="utf-8")

    def add(self, har_entry: dict[str, Any]) -> None:
        entry_text = json.dumps(har_entry, ensure_ascii=False)
        with self._lock, self.path.open("r+b") as stream:
            text = ("\n" if self.count == 0 else ",\n") + entry_text + _TAIL
            stream.seek(-len(_TAIL.encode()), os.SEEK_END)
            stream.write(text.encode("utf-8"))
            stream.truncate()
            stream.flush()
            os.fsync(stream.fileno())
            self.count += 1


_TAIL = "\n]}}\n"


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange, as drift and scenario export read it."""

    index: int  # 0-based position in `log.entries`
    started: str
    method: str
    url: str
    request_headers: dict[str, str]  # lower-case names
    request_body: str | None
    request_mime: str
    status: int
    response_headers: dict[str, str]
    response_body: str | None
    response_mime: str
    credential: CredentialClass  # as recorded, or (recordings of other tools) read from headers and status
    credential_recorded: bool = True

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    def request_json(self) -> Any:
        return _json_or_none(self.request_body, self.request_mime)

    def response_json(self) -> Any:
        return _json_or_none(self.response_body, self.response_mime)


def _json_or_none(text: str | None, mime_type: str) -> Any:
    if not text or "json" not in mime_type:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read(path: Path) -> list[Recorded]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise HarError(f"{path}: cannot read the recording: {exc}") from None
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HarError(f"{path}: not a HAR file (no log.entries list)")
    return [_recorded(index, item, path) for index, item in enumerate(entries)]


def _recorded(index: int, item: Any, path: Path) -> Recorded:
    try:
        request, response = item["request"], item["response"]
        post = request.get("postData") or {}
        content = response.get("content") or {}
        response_text = content.get("text")
        if content.get("encoding") == "base64" and response_text is not None:
            response_text = base64.b64decode(response_text).decode("utf-8", errors="replace")
        request_headers = _headers(request.get("headers", []))
        status = int(response["status"])
        recorded_class = (item.get(CREDENTIAL_MEMBER) or {}).get("class")
        credential = (
            CredentialClass(recorded_class)
            if recorded_class is not None
            else credential_class(status, sent_credentials=has_credentials(request_headers.items()))
        )
        return Recorded(
            index=index,
            started=str(item.get("startedDateTime", "")),
            method=str(request["method"]).upper(),
            url=str(request["url"]),
            request_headers=request_headers,
            request_body=post.get("text"),
            request_mime=str(post.get("mimeType") or ""),
            status=status,
            response_headers=_headers(response.get("headers", [])),
            response_body=response_text,
            response_mime=str(content.get("mimeType") or ""),
            credential=credential,
            credential_recorded=recorded_class is not None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HarError(f"{path}: entry {index} is not a HAR entry ({exc!r} missing or invalid)") from None


def _headers(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(item["name"]).lower(): str(item["value"]) for item in items}
