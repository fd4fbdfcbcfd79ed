"""Drive many distinct tenants against a real `contract-mock serve` and print its resident memory.

Each tenant (token `dev-token.mem-<n>`) makes one valid update, so the mock copies that API's seed
for it; the mock keeps at most `--max-tenants` (least recently used go first), so its memory must
level off. Prints RSS as tenants grow, and the memory per tenant below the bound.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from typing import Any

from loadgen import read_response
from mix import MixBuilder, Target, auth_scheme
from mock_throughput import served_vendors
from servers import HOST, free_port, seconds_to_first_success

from launcher.servers import stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors.base import Vendor

CONNECTIONS = 16


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def drive(port: int, requests: list[bytes]) -> int:
    """Sends the requests over CONNECTIONS keep-alive connections; returns how many were not 2xx."""
    queue = iter(requests)
    failures = 0

    async def connection() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for raw in queue:
                writer.write(raw)
                status, keep_alive = await read_response(reader)
                failures += status // 100 != 2
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return failures


def measure(vendor: Vendor, tenants: int, max_tenants: int, step: int, store: str | None = None) -> dict[str, Any]:
    """RSS of one mock process as `tenants` distinct tenants each make one valid update; printed as it grows."""
    port = free_port()
    command = [
        sys.executable, "-m", "mock_server.cli", "serve", "--host", HOST, "--port", str(port),
        "--max-tenants", str(max_tenants), "--no-access-log", "--log-level", "warning",
        *(["--store", store] if store else []),
    ]  # fmt: skip
    rows: list[dict[str, float]] = []
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probe = f"GET {vendor.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
        seconds_to_first_success(process, time.perf_counter(), port, probe)
        target = Target(HOST, port, vendor.prefix, auth_scheme(vendor.name, DEFAULT_SPEC_DIR))
        mix = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(target)
        update = next(r for r in mix.raw_requests(target, "dev-token.mem-TOKEN") if r["kind"] == "valid update")
        baseline = rss_mib(process.pid)
        where = f"store {store}" if store else "in memory"
        print(f"{vendor.name}: RSS at start {baseline:.1f} MiB (max tenants {max_tenants}, {where})")
        print(f"{'tenants':>9}{'RSS MiB':>10}{'KiB/tenant':>12}{'req/s':>8}{'failed':>8}")
        done = 0
        while done < tenants:
            batch = range(done, min(done + step, tenants))
            requests = [update["raw"].replace("mem-TOKEN", f"mem-{n}").encode("latin-1") for n in batch]
            started = time.perf_counter()
            failed = asyncio.run(drive(port, requests))
            rate = len(requests) / (time.perf_counter() - started)
            done = batch.stop
            rss = rss_mib(process.pid)
            per_tenant = (rss - baseline) * 1024 / min(done, max_tenants)
            rows.append({"tenants": done, "rss_mib": round(rss, 1), "kib_per_tenant": round(per_tenant, 2),
                         "requests_per_s": round(rate), "failed": failed})  # fmt: skip
            print(f"{done:>9}{rss:>10.1f}{per_tenant:>12.1f}{rate:>8.0f}{failed:>8}")
    finally:
        stop_process(process)
    return {"api": vendor.name, "store": store or "memory", "baseline_mib": round(baseline, 1), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=None, help="the API the tenants use (default: the first)")
    parser.add_argument("--tenants", type=int, default=100_000)
    parser.add_argument("--max-tenants", type=int, default=10_000)
    parser.add_argument("--step", type=int, default=10_000, help="print RSS every this many tenants")
    parser.add_argument("--store", default=None, metavar="URL", help="the mock's --store (default: in memory)")
    args = parser.parse_args(argv)
    vendor = next(iter(served_vendors([args.api] if args.api else []).values()))
    measure(vendor, args.tenants, args.max_tenants, args.step, args.store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
