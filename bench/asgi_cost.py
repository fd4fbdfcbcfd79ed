"""CPU time per request of the mock's ASGI app, in process (no server, no sockets), per request kind.

    .venv/bin/python bench/asgi_cost.py [--api zoho-desk|elevate] [--requests 3000] [--profile]

Run from a source tree of this project (its `mock_server` is the one imported); comparing two trees
this way is far less sensitive to a busy machine than wall-clock throughput. `--profile` prints the
CPU share of each package (cProfile, by the package of the function that spent it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from asgi_call import status_of

from mock_server.app import create_app
from mock_server.config import Settings

ZOHO_CONTRACT = "/zoho-desk/api/v1/contracts/10000000000001"
ELEVATE_CONTRACT = "/elevate/customer-contracts/1"
JSON_PATCH = b"application/json-patch+json"
# Per API: the headers of every request, and each kind of request (method, path, body, content type).
APIS: dict[str, tuple[list[tuple[bytes, bytes]], dict[str, tuple[str, str, bytes, bytes]]]] = {
    "zoho-desk": (
        [(b"authorization", b"Zoho-oauthtoken dev-token.cost"), (b"orgid", b"60000000001"), (b"host", b"x")],
        {
            "read": ("GET", ZOHO_CONTRACT, b"", b""),
            "valid update": (
                "PATCH", ZOHO_CONTRACT, json.dumps({"contractName": "Cost"}).encode(), b"application/json"
            ),
            "invalid update": (
                "PATCH", ZOHO_CONTRACT, json.dumps({"contractName": 5, "startDate": 7}).encode(), b"application/json"
            ),
        },
    ),
    "elevate": (
        [(b"authorization", b"Bearer dev-token.cost"), (b"host", b"x")],
        {
            "read": ("GET", ELEVATE_CONTRACT, b"", b""),
            "valid update": (
                "PATCH", ELEVATE_CONTRACT, b'[{"op":"replace","path":"/renewalAlertDays","value":14}]', JSON_PATCH
            ),
            "invalid update": (
                "PATCH", ELEVATE_CONTRACT, b'[{"op":"replace","path":"/renewalAlertDays","value":99}]', JSON_PATCH
            ),
        },
    ),
}  # fmt: skip


async def call(
    app: Any, headers: list[tuple[bytes, bytes]], method: str, path: str, body: bytes, content_type: bytes
) -> int:
    headers = list(headers)
    if body:
        headers += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    return await status_of(app, method, path, headers, body)


async def measure(app: Any, api: str, count: int) -> dict[str, float]:
    headers, requests = APIS[api]
    costs = {}
    for kind, request in requests.items():
        for _ in range(50):  # warm up: first calls build validators and parsers
            await call(app, headers, *request)
        started = time.process_time()
        for _ in range(count):
            await call(app, headers, *request)
        costs[kind] = (time.process_time() - started) / count * 1e6
    return costs


def by_package(profile: cProfile.Profile) -> list[tuple[str, float]]:
    stats = pstats.Stats(profile)
    shares: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        parts = Path(filename).parts
        package = parts[parts.index("site-packages") + 1] if "site-packages" in parts else Path(filename).parent.name
        shares[package or filename] += own
    total = sum(shares.values())
    return sorted(((name, 100 * own / total) for name, own in shares.items()), key=lambda item: -item[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=sorted(APIS), default="zoho-desk")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    app = create_app(Settings(apis=(args.api,)))
    headers, requests = APIS[args.api]
    statuses = {kind: asyncio.run(call(app, headers, *request)) for kind, request in requests.items()}
    print("statuses:", statuses)
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        asyncio.run(measure(app, args.api, args.requests))
        profile.disable()
        for name, share in by_package(profile)[:15]:
            print(f"{share:5.1f} %  {name}")
        return 0
    for kind, micros in asyncio.run(measure(app, args.api, args.requests)).items():
        print(f"{kind:<15} {micros:7.0f} µs CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
