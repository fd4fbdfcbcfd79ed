"""`conformance proxy` in front of real upstream servers on loopback: pass-through, verdicts, failures."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.apis import Api, discover
from conformance.cli import main as conformance_main
from launcher.servers import free_port, serving
from tests.support import departures
from tests.support.departures import proxying

# Any API serves for what does not depend on the vendor: the first one found.
ANY_API = next(iter(discover().values()))
NO_DEFAULT_HEADERS = {"server_header": False, "date_header": False}


def violations(response: httpx.Response) -> list[dict[str, str]]:
    return json.loads(response.headers["x-contract-violations"])


# --- an upstream that is not the mock: it echoes what it received and answers fixed bytes ----------

ODD_BODY = b'{ "id" :1,\n  "note": "caf\xc3\xa9 \\u00e9" }'


async def echo(request: Request) -> Response:
    received = {
        "method": request.method,
        "path": request.scope["raw_path"].decode(),
        "query": request.scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
        "body": (await request.body()).decode("latin-1"),
    }
    if request.url.path.endswith("/gzip"):
        body = gzip.compress(ODD_BODY)
        return Response(body, 203, headers={"content-encoding": "gzip", "content-type": "application/json"})
    response = Response(ODD_BODY, 201, media_type="application/json; charset=utf-8")
    response.headers.append("set-cookie", "a=1; Path=/")
    response.headers.append("set-cookie", "b=2; Path=/")
    response.headers["x-received"] = json.dumps(received)
    return response


ECHO_APP = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])


def test_request_and_answer_pass_through_byte_for_byte() -> None:
    with serving(ECHO_APP, **NO_DEFAULT_HEADERS) as upstream, proxying(upstream + "/base") as (proxy, _):
        request = {
            "method": "PATCH",
            "url": "/some/path%20x/1?b=2&a=1&a=%2F",
            "headers": {"Content-Type": "application/weird", "X-Custom": "Value", "Authorization": "Bearer t0ken"},
            "content": b"\x00\x01raw body \xff",
        }
        direct = httpx.request(**{**request, "url": upstream + "/base" + request["url"]})
        proxied = httpx.request(**{**request, "url": proxy + request["url"]})

    assert proxied.status_code == direct.status_code == 201
    assert proxied.content == direct.content == ODD_BODY
    *passed, (added, _) = proxied.headers.multi_items()
    assert added == "x-contract-violations"
    # every response header, in order, duplicates kept (x-received differs only in what it reports)
    assert [h for h in passed if h[0] != "x-received"] == [
        h for h in direct.headers.multi_items() if h[0] != "x-received"
    ]
    received, received_direct = json.loads(proxied.headers["x-received"]), json.loads(direct.headers["x-received"])
    assert {key: received[key] for key in ("method", "path", "query", "body")} == {
        "method": "PATCH",
        "path": "/base/some/path%20x/1",
        "query": "b=2&a=1&a=%2F",
        "body": request["content"].decode("latin-1"),
    }
    assert sorted(received["headers"]) == sorted(received_direct["headers"]), "the same request headers"


def test_compressed_answer_passes_through_compressed() -> None:
    with (
        serving(ECHO_APP, **NO_DEFAULT_HEADERS) as upstream,
        proxying(upstream) as (proxy, _),
        httpx.stream("GET", proxy + "/x/gzip", headers={"Accept-Encoding": "gzip"}) as response,
    ):
        raw = b"".join(response.iter_raw())
    assert response.status_code == 203
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == ODD_BODY


# --- verdicts on the real mock and on departures from it --------------------------------------------


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_nothing_is_flagged_on_the_mock_itself(api: Api, recordings: departures.Recordings) -> None:
    recorded = recordings.record(api)
    statuses = {response.status_code for response in recorded.responses}
    assert 200 in statuses and 404 in statuses, statuses
    assert [violations(response) for response in recorded.responses] == [[] for _ in recorded.responses]
    assert recorded.printed.count("✓ conforms") == len(recorded.responses)


@pytest.mark.parametrize("departure, api", departures.CASES, ids=departures.CASE_IDS)
def test_each_departure_is_flagged(
    departure: departures.Departure, api: Api, recordings: departures.Recordings
) -> None:
    recorded = recordings.record(api, departure.slug)
    flagged = {finding["rule"] for response in recorded.responses for finding in violations(response)}
    assert departure.proxy_rules <= flagged, f"flagged: {sorted(flagged)}"
    classes = {finding["evidence"] for response in recorded.responses for finding in violations(response)}
    if "documented" in classes:
        assert "✗" in recorded.printed and "violation(s) [documented]" in recorded.printed
    for evidence in classes - {"documented"}:
        assert "≠" in recorded.printed and f"[{evidence}]" in recorded.printed


def test_errors_flag_answers_a_violation_with_a_502_problem(recordings: departures.Recordings, token: str) -> None:
    departure, api = departures.DOCUMENTED_CASE
    with proxying(recordings.upstream(api, departure.slug), api, errors=True) as (proxy, _):
        responses = list(departures.calls(api, proxy, token))
    flagged = [response for response in responses if violations(response)]
    assert flagged and len(flagged) < len(responses), "the violating answers only"
    for response in flagged:
        assert response.status_code == 502
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["title"] == "Contract violation" and problem["violations"] == violations(response)
    assert [r.status_code for r in responses if not violations(r)] == [
        r.status_code for r in recordings.record(api, departure.slug).responses if not violations(r)
    ]


def test_a_departure_the_spec_only_infers_differs_without_a_502(recordings: departures.Recordings, token: str) -> None:
    departure, api = departures.INFERRED_CASE
    upstream = recordings.upstream(api, departure.slug)
    with proxying(upstream, api, errors=True) as (proxy, printed):
        responses = list(departures.calls(api, proxy, token))
    found = [finding for response in responses for finding in violations(response)]
    assert found and {finding["rule"] for finding in found} == {"response_schema_conformance"}
    assert {finding["evidence"] for finding in found} == {"inferred"}
    assert all(finding["because"] for finding in found), "the header says what the inference rests on"
    assert 502 not in [response.status_code for response in responses], "a difference is not a contract violation"
    assert "≠ 1 difference(s) [inferred]" in printed.getvalue() and "✗" not in printed.getvalue()

    with proxying(upstream, api, errors=True, strict=True) as (proxy, _):
        strict = list(departures.calls(api, proxy, token))
    assert [r.status_code == 502 for r in strict] == [bool(violations(r)) for r in responses], "--strict fails it"


# --- an upstream that fails -------------------------------------------------------------------------


def test_unreachable_upstream_is_a_502_at_once() -> None:
    with proxying(f"http://127.0.0.1:{free_port()}") as (proxy, printed):
        started = time.monotonic()
        response = httpx.get(proxy + "/anything")
        waited = time.monotonic() - started
    assert waited < 2
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert "cannot be reached" in response.json()["detail"]
    assert "→ 502" in printed.getvalue()


async def slow(request: Request) -> Response:
    await asyncio.sleep(1.5)
    return Response(b"{}")


def test_slow_upstream_is_a_504_after_the_timeout() -> None:
    app = Starlette(routes=[Route("/{path:path}", slow)])
    with serving(app) as upstream, proxying(upstream, timeout=0.3) as (proxy, _):
        started = time.monotonic()
        response = httpx.get(proxy + "/slow", timeout=10)
        waited = time.monotonic() - started
    assert 0.25 < waited < 1.2
    assert response.status_code == 504
    assert response.json()["status"] == 504


@contextmanager
def resetting_server() -> Iterator[str]:
    """A TCP server that resets every connection as soon as the request arrives."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.recv(65536)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_reset_connection_is_a_502() -> None:
    with resetting_server() as upstream, proxying(upstream) as (proxy, _):
        started = time.monotonic()
        response = httpx.get(proxy + "/reset")
        waited = time.monotonic() - started
    assert waited < 2
    assert response.status_code == 502
    assert "cannot be reached" in response.json()["detail"]


# --- TLS to the upstream -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate: {exc}")
    return key, cert


def test_upstream_certificate_is_verified(certificate: tuple[Path, Path]) -> None:
    key, cert = certificate
    with serving(ECHO_APP, ssl_keyfile=str(key), ssl_certfile=str(cert)) as upstream:
        https = upstream.replace("http://", "https://")
        with proxying(https) as (proxy, _):
            untrusted = httpx.get(proxy + "/x")
        with proxying(https, ca_bundle=cert) as (proxy, _):
            trusted = httpx.get(proxy + "/x")
    assert untrusted.status_code == 502
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.json()["detail"]
    assert trusted.status_code == 201 and trusted.content == ODD_BODY


# --- the command line ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ["--api", "no-such-api", "--upstream", "https://example.test"],
        ["--api", ANY_API.name, "--upstream", "ftp://example.test"],
        ["--api", ANY_API.name, "--upstream", "https://example.test", "--ca-bundle", "/no/such.pem"],
    ],
)
def test_proxy_command_refuses_bad_arguments(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert conformance_main(["proxy", *arguments]) == 2
    assert "conformance proxy:" in capsys.readouterr().err


def test_proxy_binds_loopback_by_default() -> None:
    from conformance.cli import build_parser

    args = build_parser().parse_args(["proxy", "--api", ANY_API.name, "--upstream", "https://example.test"])
    assert args.host == "127.0.0.1"
