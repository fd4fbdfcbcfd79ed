"""Hostile and broken input, sent to a real server on loopback: never a 5xx, and the mock keeps serving.

The APIs, their write operations, media types and property names all come from the discovered
vendors and their specs. What httpx refuses to send goes over a raw socket.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.engine.spec import SpecView
from tests.support.operations import Operation, operations

OPERATIONS = operations()
WRITES = [op for op in OPERATIONS if op.media_types]
JSON_WRITES = [(op, mt) for op in WRITES for mt in op.media_types if "json" in mt]
FORM_WRITES = [(op, mt) for op in WRITES for mt in op.media_types if mt == "application/x-www-form-urlencoded"]
READS = [op for op in OPERATIONS if op.method == "get"]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(create_app(Settings(validate_responses=True))) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def still_serving(http: httpx.Client) -> Iterator[None]:
    yield
    for op in READS:
        assert http.get(op.url, headers=op.headers()).status_code == 200, f"{op} after a hostile request"


def _properties(schema: dict[str, Any]) -> list[str]:
    names = list(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names += _properties(part)
    return names


def _placed(schema: dict[str, Any], value: Any) -> list[Any]:
    """`value` as the whole body, and in each place the schema has for a value."""
    if schema.get("type") == "array":
        return [value, [value], [{name: value for name in _properties(schema.get("items", {}))}]]
    return [value, *({name: value} for name in _properties(schema))]


def _assert_not_5xx(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"


def _ids(params: list[Any]) -> list[str]:
    return [f"{op.vendor.name}-{op.method}-{mt}" for op, mt in params]


def _deep(depth: int, opening: str, closing: str, middle: str = "1") -> str:
    return opening * depth + middle + closing * depth


@pytest.mark.parametrize(("op", "media_type"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_deeply_nested_json_is_a_4xx_naming_the_depth(http: httpx.Client, op: Operation, media_type: str) -> None:
    for body in (_deep(1000, "[", "]"), _deep(1000, '{"a":', "}"), _deep(100_000, "[", "]", "")):
        response = http.request(op.method, op.url, content=body, headers=op.headers(media_type))
        assert 400 <= response.status_code < 500, response.text[:300]
        assert "nested deeper" in response.text


HOSTILE_RAW_VALUES = {
    "1e400": "1e400",
    "-1e400": "-1e400",
    "1e-400": "1e-400",
    "5000 digits": "9" * 5000,
    "lone surrogate": '"\\ud800"',
    "NUL": '"a\\u0000b"',
    "unpaired low surrogate": '"x\\udfffy"',
    "10 000 characters": json.dumps("x" * 10_000),
}


@pytest.mark.parametrize(("op", "media_type"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_hostile_values_in_every_field_are_refused_or_served(
    http: httpx.Client, op: Operation, media_type: str
) -> None:
    marker = "__HOSTILE__"
    for name, raw in HOSTILE_RAW_VALUES.items():
        for body in _placed(op.schema, marker):
            content = json.dumps(body).replace(f'"{marker}"', raw)
            response = http.request(op.method, op.url, content=content, headers=op.headers(media_type))
            _assert_not_5xx(response, f"{op} {name} in {content[:80]}")


@pytest.mark.parametrize(("op", "media_type"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_bom_nul_bytes_and_bad_utf8_in_a_json_body(http: httpx.Client, op: Operation, media_type: str) -> None:
    for content in (
        b"\xef\xbb\xbf{}",
        b"\xef\xbb\xbf[]",
        b"{\x00}",
        b"\x00",
        b'{"a": "\xff\xfe"}',
        b"\xff\xfe{\x00}\x00",
    ):
        _assert_not_5xx(
            http.request(op.method, op.url, content=content, headers=op.headers(media_type)), f"{op} {content!r}"
        )


@pytest.mark.parametrize(("op", "media_type"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_100_000_keys_and_20_000_list_items(http: httpx.Client, op: Operation, media_type: str) -> None:
    keys = "{" + ",".join(f'"{i:x}":0' for i in range(100_000)) + "}"
    patch = json.dumps([{"op": "test", "path": "/x", "value": 0}] * 20_000, separators=(",", ":"))
    for content in (keys, patch):
        assert len(content) < 1024 * 1024  # under the size limit: this is the parser's and the rules' problem
        started = time.monotonic()
        response = http.request(op.method, op.url, content=content, headers=op.headers(media_type))
        _assert_not_5xx(response, f"{op} {content[:40]}")
        assert time.monotonic() - started < 20


@pytest.mark.parametrize(("op", "media_type"), FORM_WRITES, ids=_ids(FORM_WRITES))
def test_form_bodies_with_thousands_of_fields_and_bad_escapes(
    http: httpx.Client, op: Operation, media_type: str
) -> None:
    name = _properties(op.schema)[0]
    bodies = {
        "3 000 distinct fields": "&".join(f"f{i}=1" for i in range(3000)),
        "5 000 repeats of one field": "&".join(f"{name}=1" for _ in range(5000)),
        "bad percent-escapes": f"{name}=%zz%&%=1&%C3%28=%ff%fe",
        "NUL": f"{name}=a%00b",
        "no values": "&&&&=&==",
    }
    for what, body in bodies.items():
        response = http.request(op.method, op.url, content=body, headers=op.headers(media_type))
        _assert_not_5xx(response, f"{op} {what}")
    response = http.request(op.method, op.url, content=bodies["3 000 distinct fields"], headers=op.headers(media_type))
    assert response.status_code in (400, 413) and "Too many fields" in response.text


# --- over a raw socket: what httpx would refuse or normalise ------------------------------------


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _raw(base_url: str, request: bytes, timeout: float = 15) -> bytes:
    """Send `request` on a new connection and read until the server closes it."""
    with socket.create_connection(_address(base_url), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:200]
    return int(reply.split(b" ", 2)[1])


def _request_line(method: str, target: bytes, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [f"{k}: {v}".encode() for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.mark.parametrize("op", READS, ids=str)
def test_odd_paths_and_bad_escapes_are_4xx(base_url: str, op: Operation) -> None:
    prefix = op.vendor.prefix.encode()
    targets = [
        b"//" + op.url.encode(),
        prefix + b"/../" + op.url.encode(),
        prefix + b"/%2e%2e/%2e%2e/etc/passwd",
        op.url.encode() + b"%00",
        op.url.encode() + b"%zz",
        op.url.encode() + b"/%C3%28",
        op.url.encode() + b"\xff\xfe",
        op.url.encode() + b";jsessionid=1",
        op.url.encode() + b"?%zz=%&a=%ff",
        op.url.encode() + b"/" + b"9" * 5000,
        prefix + b"/" + b"a/" * 2000,
        b"http://127.0.0.1" + op.url.encode(),
    ]
    for target in targets:
        reply = _raw(base_url, _request_line("GET", target, op.headers()))
        assert _status(reply) < 500, (target[:100], reply[:300])


@pytest.mark.parametrize("op", [op for op in OPERATIONS if "{" in op.template], ids=str)
def test_a_control_character_in_a_path_is_answered_with_a_status_the_operation_documents(
    http: httpx.Client, op: Operation
) -> None:
    responses = SpecView.load(Settings().spec_dir / f"{op.vendor.name}.yaml").resolved["paths"][op.template][op.method]
    path, _, query = op.url.partition("?")
    segments = path.split("/")
    segments[-1 if segments[-1] else -2] += "%16"  # the last segment, ahead of a trailing slash
    response = http.request(
        op.method.upper(), "/".join(segments) + ("?" + query if query else ""), headers=op.headers()
    )
    assert str(response.status_code) in responses["responses"], (response.status_code, response.text[:200])


def test_options_asterisk_and_unknown_methods(base_url: str) -> None:
    op = READS[0]
    for request in (
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        _request_line("BREW", op.url.encode(), op.headers()),
        _request_line("TRACE", op.url.encode(), op.headers()),
    ):
        reply = _raw(base_url, request)
        assert not reply or _status(reply) < 500, reply[:300]


@pytest.mark.parametrize("op", READS, ids=str)
def test_a_60_kb_token_and_500_headers(base_url: str, op: Operation) -> None:
    headers = op.headers()
    huge_token = {**headers, "Authorization": f"{op.auth_prefix} {'t' * 60_000}"}
    many = {**headers, **{f"X-Filler-{i}": str(i) for i in range(500)}}
    for request_headers in (huge_token, many):
        reply = _raw(base_url, _request_line("GET", op.url.encode(), request_headers))
        status = _status(reply)
        assert status < 500, reply[:300]
    assert _status(_raw(base_url, _request_line("GET", op.url.encode(), many))) == 200


def test_a_half_sent_request_does_not_block_others(base_url: str, http: httpx.Client) -> None:
    op = WRITES[0]
    stalled = socket.create_connection(_address(base_url), timeout=10)
    try:
        head = _request_line(op.method.upper(), op.url.encode(), op.headers(op.media_types[0]), b"x" * 100)
        stalled.sendall(head[: len(head) - 90])  # the headers and ten of the hundred body bytes promised
        started = time.monotonic()
        for read in READS:
            assert http.get(read.url, headers=read.headers(), timeout=5).status_code == 200
        assert time.monotonic() - started < 5
    finally:
        stalled.close()


def test_many_half_open_connections_do_not_block_others(base_url: str, http: httpx.Client) -> None:
    sockets = []
    try:
        for _ in range(50):
            sock = socket.create_connection(_address(base_url), timeout=10)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            sockets.append(sock)
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda op=op: results.append(http.get(op.url, headers=op.headers()).status_code))
            for op in READS
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert results == [200] * len(READS)
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize(("op", "media_type"), JSON_WRITES, ids=str)
def test_a_chunked_body_over_the_limit_is_a_413_and_changes_nothing(
    base_url: str, http: httpx.Client, op: Operation, media_type: str
) -> None:
    """No Content-Length to refuse up front: the limit counts the bytes as they arrive."""
    read = next((r for r in READS if r.url == op.url), None)
    before = http.get(read.url, headers=read.headers()).json() if read else None
    headers = {**op.headers(media_type), "Transfer-Encoding": "chunked"}
    chunk = b"[" + b" " * (64 * 1024 - 1)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"  # 1 MiB + 64 KiB
    reply = _raw(base_url, _request_line(op.method.upper(), op.url.encode(), headers) + chunks)
    assert _status(reply) == 413, reply[:300]
    if read is not None:
        assert http.get(read.url, headers=read.headers()).json() == before
