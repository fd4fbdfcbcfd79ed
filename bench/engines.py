"""Two builds of the mock side by side: the same mix, the same connections, taking turns in slices.

    .venv/bin/python bench/engines.py --tree before=/tmp/mock-main --tree after=. --api elevate

Each `--tree NAME=DIR` is a source tree of this project (e.g. a `git worktree` of another commit);
its mock runs as `python -m mock_server.cli serve` from that directory, with this venv. On a shared,
noisy machine this is how two engines are compared fairly: background load slows both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mix import BASE_TOKEN, MixBuilder, Target, auth_scheme
from mock_throughput import LoadSettings, run_load
from servers import HOST, free_port, seconds_to_first_success

from launcher.servers import stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors import discover


def start(tree: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "mock_server.cli", "serve", "--host", HOST, "--port", str(port),
        "--no-access-log", "--log-level", "warning", "--limits", "off",  # as mock_throughput.py serves it
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cold_start(tree: Path, probe: bytes, port: int) -> float:
    started = time.perf_counter()
    process = start(tree, port)
    try:
        return seconds_to_first_success(process, started, port, probe)
    finally:
        stop_process(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--api", action="append", default=[])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--cold-starts", type=int, default=3)
    args = parser.parse_args(argv)
    trees = {name: Path(path).resolve() for name, path in (entry.split("=", 1) for entry in args.tree)}
    load = LoadSettings(args.connections, 1.0, args.duration, 0.5, 100_000)
    vendors = {n: v for n, v in discover().items() if not args.api or n in args.api}
    ports = {name: free_port() for name in trees}
    processes = {name: start(tree, ports[name]) for name, tree in trees.items()}
    mixes = {}
    try:
        for name, vendor in vendors.items():
            targets = {
                tree: Target(HOST, ports[tree], vendor.prefix, auth_scheme(name, DEFAULT_SPEC_DIR)) for tree in trees
            }
            spec_probe = f"GET {vendor.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
            for tree, process in processes.items():
                seconds_to_first_success(process, time.perf_counter(), ports[tree], spec_probe)
            mixes[name] = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(next(iter(targets.values())))
            measured = run_load(targets, mixes[name], load)
            row = "  ".join(
                f"{tree}: {r['requests_per_s']:.0f} req/s p50 {r['p50_ms']} p99 {r['p99_ms']} ms"
                for tree, r in measured.items()
            )
            print(f"{name:<10} {row}", flush=True)
    finally:
        for process in processes.values():
            stop_process(process)
    for name, mix in list(mixes.items())[:1] if args.cold_starts > 0 else []:
        for tree_name, tree in trees.items():
            timings = []
            for _ in range(args.cold_starts):
                port = free_port()
                target = Target(HOST, port, vendors[name].prefix, auth_scheme(name, DEFAULT_SPEC_DIR))
                probe = mix.raw_requests(target, f"{BASE_TOKEN}.bench-probe")[0]["raw"].encode("latin-1")
                timings.append(round(cold_start(tree, probe, port), 3))
            print(
                f"cold start {tree_name} (spawn to first 2xx, all APIs): "
                f"median {statistics.median(timings):.3f} s {timings}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
