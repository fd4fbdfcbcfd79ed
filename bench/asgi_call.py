"""One request straight to an ASGI app, in process (no server, no sockets): its status.

Shared by the tools that count CPU or instructions per request (`asgi_cost.py`, `instructions.py`,
`store_cost.py`); imported from this folder (`sys.path`), so that it works whichever tree is measured.
"""

from __future__ import annotations

from typing import Any


async def status_of(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"", query: str = ""
) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status
