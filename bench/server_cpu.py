"""CPU time the mock's server process spends per request over HTTP, for source trees side by side.

    .venv/bin/python bench/server_cpu.py --tree before=DIR --tree after=. [--api elevate] [--rounds 3] [--redis URL]

Each tree's `contract-mock serve` (as `bench/engines.py` starts it, limits off as in `mock_throughput.py`)
gets the bench's mix (`mix.py`) on 8 connections for `--seconds`; the server's own user + system CPU time
(from /proc) divided by the requests it answered. Unlike req/s, this hardly moves with the machine's
load; it includes what in-process figures miss (uvicorn, the protocol, system calls). The trees take
turns for `--rounds` rounds; the p99 of each run is printed beside it. With `--redis URL` each tree keeps
its state on that Redis, in a database of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mix import BASE_TOKEN, MixBuilder, Target, auth_scheme
from scaling import database_url
from servers import HOST, free_port, seconds_to_first_success

from launcher.servers import stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors import discover

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def start(tree: Path, port: int, store: str | None) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "mock_server.cli", "serve", "--host", HOST, "--port", str(port),
        "--no-access-log", "--log-level", "warning", "--limits", "off", *(["--store", store] if store else []),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def load(port: int, plan_targets: list[dict[str, object]], seconds: float) -> dict[str, float]:
    plan = {"warmup_s": 0, "slice_s": seconds, "duration_s": seconds, "max_requests": 10**7, "targets": plan_targets}
    loadgen = Path(__file__).with_name("loadgen.py")
    out = subprocess.run(
        [sys.executable, str(loadgen)], input=json.dumps(plan), capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout)["mock"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--api", action="append", default=[])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", metavar="URL", help="each tree on this Redis (a database each), not in memory")
    args = parser.parse_args()
    trees = {name: Path(path).resolve() for name, path in (entry.split("=", 1) for entry in args.tree)}
    vendors = {n: v for n, v in discover().items() if not args.api or n in args.api}
    ports = {name: free_port() for name in trees}
    stores = {name: database_url(args.redis, n) if args.redis else None for n, name in enumerate(trees, start=1)}
    processes = {name: start(tree, ports[name], stores[name]) for name, tree in trees.items()}
    try:
        for api, vendor in vendors.items():
            probe = f"GET {vendor.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
            for tree, process in processes.items():
                seconds_to_first_success(process, time.perf_counter(), ports[tree], probe)
            scheme = auth_scheme(api, DEFAULT_SPEC_DIR)
            first = Target(HOST, next(iter(ports.values())), vendor.prefix, scheme)
            mix = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(first)
            for tree in processes:  # warm up (validators and parsers built on first use), not counted
                target = Target(HOST, ports[tree], vendor.prefix, scheme)
                connections = [mix.raw_requests(target, f"{BASE_TOKEN}.bench-{n}") for n in range(8)]
                load(ports[tree], [{"name": "mock", "host": HOST, "port": ports[tree], "connections": connections}], 1)
            costs: dict[str, list[float]] = {tree: [] for tree in processes}
            for round_number in range(args.rounds):
                cells = []
                for tree, process in processes.items():
                    target = Target(HOST, ports[tree], vendor.prefix, scheme)
                    connections = [mix.raw_requests(target, f"{BASE_TOKEN}.bench-{n}") for n in range(8)]
                    before = cpu_seconds(process.pid)
                    result = load(ports[tree], [{"name": "mock", "host": HOST, "port": ports[tree],
                                                 "connections": connections}], args.seconds)  # fmt: skip
                    used = cpu_seconds(process.pid) - before
                    micros = used / max(result["requests"], 1) * 1e6
                    costs[tree].append(micros)
                    rate, p99 = result["requests_per_s"], result["p99_ms"]
                    cells.append(f"{tree}: {micros:4.0f} µs CPU/req {rate:5.0f} req/s p99 {p99} ms")
                load_average = os.getloadavg()[0]
                print(f"{api:<10} round {round_number + 1}  " + "  ".join(cells) + f"  (load {load_average:.1f})")
            summary = "  ".join(
                f"{tree}: min {min(values):4.0f} median {statistics.median(values):4.0f}"
                for tree, values in costs.items()
            )
            print(f"{api:<10} µs CPU per request  {summary}", flush=True)
    finally:
        for process in processes.values():
            stop_process(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
