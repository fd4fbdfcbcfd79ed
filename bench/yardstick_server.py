"""Yardsticks for the scaling bench: the in-memory mock in workers that share nothing, with or without one
Redis round trip a request (bench only).

    .venv/bin/python bench/yardstick_server.py serve [--workers N] [--ping-redis URL] [`contract-mock serve` flags]

`contract-mock serve` refuses `--workers N` without a shared store, rightly: each worker would keep tenants
of its own. Here they do, as a yardstick. The bench's load generator gives each connection a tenant, and a
connection stays with one worker, so every answer is right, and the rate is what N workers reach on this
machine when nothing is shared: the ceiling of any shared store.

With `--ping-redis URL` each request first makes one round trip to that Redis (a `PING` on a connection the
worker keeps, sent and read as the Redis store sends its commands, synchronously): the ceiling of a store
that needs one round trip a request, its waiting and system calls included and none of its own work.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import hiredis
import redis

from mock_server.cli import NO_WEBSOCKETS, build_parser, serve, settings_from_args
from mock_server.config import SETTINGS_ENV

PING_ENV = "CONTRACT_MOCK_BENCH_PING_REDIS"
FACTORY = "yardstick_server:create"  # imported by each worker: this file's folder is on their sys.path


def create() -> Any:
    """The app of one worker: the mock's own, behind one Redis round trip when PING_ENV names a Redis."""
    from mock_server import asgi

    app = asgi.create()
    url = os.environ.get(PING_ENV)
    return app if not url else _pinging(app, url)


def _pinging(app: Any, url: str) -> Any:
    connection = redis.ConnectionPool.from_url(url).get_connection()
    ping = [hiredis.pack_command(("PING",))]

    async def with_round_trip(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            connection.send_packed_command(ping)
            connection.read_response()
        await app(scope, receive, send)

    return with_round_trip


def main(argv: list[str]) -> int:
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--ping-redis", metavar="URL")
    ours, rest = own.parse_known_args(argv)
    args = build_parser().parse_args(rest)
    if ours.ping_redis:
        os.environ[PING_ENV] = ours.ping_redis
    settings = settings_from_args(args)
    if args.workers > 1:  # as `contract-mock serve --workers N` serves, each worker's app from FACTORY
        return serve(settings, workers=args.workers, log_level=args.log_level, access_log=False, factory=FACTORY)
    import uvicorn

    os.environ[SETTINGS_ENV] = settings.to_json()  # what `create` reads, as a worker does
    uvicorn.run(
        FACTORY, factory=True, host=settings.host, port=settings.port, lifespan="on", log_level=args.log_level,
        access_log=False, ws=NO_WEBSOCKETS,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
