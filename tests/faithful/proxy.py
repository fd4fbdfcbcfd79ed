"""A pass-through HTTP forwarder: every request goes to the upstream unchanged, every answer comes back unchanged.

It stands where a partner's gateway would, so the harness is judged through a real extra hop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

# RFC 9110 §7.6.1: connection-specific headers are not forwarded by a proxy.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def create_proxy(upstream: str) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    client = httpx.Client(base_url=upstream.rstrip("/"), timeout=60.0, follow_redirects=False)
    for name in list(client.headers):  # send only the caller's headers, none of httpx's defaults
        del client.headers[name]

    def forward(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        headers = [(key[5:].replace("_", "-"), value) for key, value in environ.items() if key.startswith("HTTP_")]
        for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
            if environ.get(key):
                headers.append((name, environ[key]))
        headers = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        request = client.build_request(environ["REQUEST_METHOD"], target, headers=headers, content=body)
        try:
            response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [f"upstream unreachable: {type(exc).__name__}".encode()]
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        answer = [(name, value) for name, value in response.headers.multi_items() if name.lower() not in HOP_BY_HOP]
        start_response(f"{response.status_code} {response.reason_phrase}", answer)
        return [raw]

    return forward
