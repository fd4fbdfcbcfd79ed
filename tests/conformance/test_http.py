from __future__ import annotations

import time

import httpx
import pytest

from conformance import http
from conformance.http import Client, RateCap, TargetUnreachable
from conformance.target import Redactor

REDACTOR = Redactor(frozenset({"s3cret"}))


def client_answering(*statuses: int, retry_after: str = "2") -> tuple[Client, list[httpx.Request]]:
    sent: list[httpx.Request] = []
    answers = iter(statuses)

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        status = next(answers)
        headers = {"Retry-After": retry_after} if status == 429 else {}
        return httpx.Response(status, headers=headers, json={"status": status})

    client = Client("https://api.example/v1", redactor=REDACTOR, transport=httpx.MockTransport(answer))
    return client, sent


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(http.time, "sleep", recorded.append)
    return recorded


def test_429_is_retried_after_the_delay_it_asks_for(sleeps: list[float]) -> None:
    client, sent = client_answering(429, 429, 200)

    response = client.send("GET", "/contracts/1", headers={})

    assert response.status_code == 200
    assert sleeps == [2.0, 2.0]
    assert [request.url.path for request in sent] == ["/v1/contracts/1"] * 3


def test_429_retries_are_bounded(sleeps: list[float]) -> None:
    client, sent = client_answering(*[429] * 10, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")

    assert client.send("GET", "/x", headers={}).status_code == 429
    assert len(sent) == len(sleeps) + 1 == 4


def test_rate_cap_spaces_requests() -> None:
    client, _sent = client_answering(*[200] * 3)
    client.rate_cap = RateCap("2/s")
    started = time.monotonic()

    for _ in range(3):
        client.send("GET", "/x", headers={})

    assert time.monotonic() - started >= 0.9


def test_unreachable_target_is_reported_without_credentials() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = Client("https://api.example", redactor=REDACTOR, transport=httpx.MockTransport(refuse))

    with pytest.raises(TargetUnreachable) as excinfo:
        client.send("GET", "/x?token=s3cret", headers={})
    assert "s3cret" not in str(excinfo.value)


def test_recorded_exchange_has_credentials_redacted() -> None:
    client, _ = client_answering(200)
    headers = {"Authorization": "Bearer s3cret", "X-Echo": "s3cret"}
    response = client.send("POST", "/x?key=s3cret", headers=headers, content=b'{"t": "s3cret"}')

    exchange = client.record(response)

    assert "s3cret" not in repr(exchange)
    assert exchange.request_headers["authorization"] == "***"
    assert exchange.request_body == '{"t": "***"}'
    assert exchange.status == 200 and exchange.response_body == '{"status":200}'
