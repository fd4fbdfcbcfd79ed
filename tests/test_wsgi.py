"""The inline WSGI adapter that serves the admin Flask app: the environ it builds, the response it sends."""

import asyncio
from typing import Any

from mock_server.edge.wsgi import InlineWSGI, wsgi_environ

SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/__admin/clock",
    "root_path": "",
    "query_string": b"a=1",
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", b"999"),
        (b"x-thing", b"one"),
        (b"x-thing", b"two"),
    ],
    "server": ("127.0.0.1", 8080),
    "client": ("127.0.0.1", 5000),
}


def test_the_environ_follows_pep_3333():
    environ = wsgi_environ(SCOPE, b'{"today":"2027-01-01"}')
    assert (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"]) == (
        "POST",
        "/__admin/clock",
        "a=1",
    )
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "22"  # the body's own length, not the header's claim
    assert environ["HTTP_X_THING"] == "one,two"
    assert environ["wsgi.input"].read() == b'{"today":"2027-01-01"}'


def test_the_response_is_sent_once_the_app_returns_with_its_last_status():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        start_response("201 Created", [("Content-Type", "application/json"), ("X-Echo", environ["QUERY_STRING"])])
        return [b'{"ok":', b"true}"]

    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(InlineWSGI(app)(SCOPE, receive, send))
    start, body = sent
    assert start["status"] == 201
    assert (b"x-echo", b"a=1") in start["headers"]
    assert body["body"] == b'{"ok":true}'
