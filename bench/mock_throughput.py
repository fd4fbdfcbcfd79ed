"""`make bench`: the mock side by side with Prism — throughput, latency, cold start, conformance time.

For each API the mock serves: one mock process (all APIs, request validation, state and rules on,
response validation off, as `contract-mock serve` runs by default) and one Prism process on the same
spec take turns in half-second slices under the same request mix from a separate load process
(bench/loadgen.py), so background load on a shared machine slows both alike. Every
connection is its own tenant (token `dev-token.bench-<n>`). Prism gets the same requests, except that
it is sent the standard `Bearer` word for every scheme, as it refuses others (e.g. `Zoho-oauthtoken`).
Then: cold start (process spawn to first 2xx) of the mock with every API, and the wall time of
`conformance run --api all`. The table goes to stdout, the figures to bench/results/throughput.json
(`make bench` writes bench/results/latest.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mix import BASE_TOKEN, Mix, MixBuilder, MixError, Target, auth_scheme
from servers import (
    HOST,
    ServerError,
    ensure_prism,
    free_port,
    prism_version,
    seconds_to_first_success,
    start_mock,
    start_prism,
)

from launcher.servers import stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors import discover
from mock_server.vendors.base import Vendor

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "results" / "throughput.json"
LOADGEN = BENCH_DIR / "loadgen.py"
PRISM_DIR = BENCH_DIR / ".prism"
CONFORMANCE_TIMEOUT_S = 900


@dataclass(frozen=True)
class LoadSettings:
    connections: int
    warmup_s: float
    duration_s: float
    slice_s: float
    max_requests: int


def at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", action="append", default=[], help="benchmark only this API (repeatable)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per server and API (default 5)")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds a server has before the other's turn")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per server before measuring")
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop measuring a server after this many")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the mock (default 1)")
    parser.add_argument(
        "--cold-starts", type=at_least_one, default=3, help="mock cold starts to take the median of (at least 1)"
    )
    parser.add_argument("--no-prism", action="store_true", help="measure the mock alone")
    parser.add_argument("--no-conformance", action="store_true", help="skip timing `conformance run --api all`")
    return parser.parse_args(argv)


def served_vendors(selected: list[str]) -> dict[str, Vendor]:
    vendors = {name: v for name, v in discover().items() if (DEFAULT_SPEC_DIR / f"{name}.yaml").exists()}
    unknown = sorted(set(selected) - set(vendors))
    if unknown:
        sys.exit(f"unknown API {', '.join(unknown)}; the mock serves {', '.join(vendors)}")
    return {name: v for name, v in vendors.items() if not selected or name in selected}


def run_load(targets: dict[str, Target], mix: Mix, load: LoadSettings) -> dict[str, dict[str, Any]]:
    """Both servers under the same mix, taking turns; one summary per server."""
    plan = {
        "warmup_s": load.warmup_s,
        "duration_s": load.duration_s,
        "slice_s": load.slice_s,
        "max_requests": load.max_requests,
        "targets": [
            {
                "name": name,
                "host": target.host,
                "port": target.port,
                "connections": [mix.raw_requests(target, f"{BASE_TOKEN}.bench-{n}") for n in range(load.connections)],
            }
            for name, target in targets.items()
        ],
    }
    timeout = len(targets) * (load.warmup_s + load.duration_s) * 2 + 60
    done = subprocess.run(
        [sys.executable, str(LOADGEN)], input=json.dumps(plan), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def bench_api(vendor: Vendor, mix: Mix, mock_port: int, prism: Path | None, load: LoadSettings) -> dict[str, Any]:
    mock = Target(HOST, mock_port, vendor.prefix, auth_scheme(vendor.name, DEFAULT_SPEC_DIR))
    result: dict[str, Any] = {"record": mix.path_values, "mix": [call.kind for call in mix.calls]}
    if prism is None:
        result.update(run_load({"mock": mock}, mix, load))
        return result
    port = free_port()
    started = time.perf_counter()
    process = start_prism(prism, DEFAULT_SPEC_DIR / f"{vendor.name}.yaml", port)
    try:
        prism_target = Target(HOST, port, "", "Bearer")
        probe = mix.raw_requests(prism_target, f"{BASE_TOKEN}.bench-probe")[0]["raw"].encode("latin-1")
        result["prism_cold_start_s"] = round(seconds_to_first_success(process, started, port, probe), 3)
        result.update(run_load({"mock": mock, "prism": prism_target}, mix, load))
    finally:
        stop_process(process)
    result["ratio"] = round(result["mock"]["requests_per_s"] / max(result["prism"]["requests_per_s"], 0.1), 2)
    return result


def mock_cold_starts(runs: int, probe: Mix, vendor: Vendor, workers: int) -> list[float]:
    """Spawn to first 2xx of the mock serving every API, `runs` times."""
    timings = []
    for _ in range(runs):
        port = free_port()
        target = Target(HOST, port, vendor.prefix, auth_scheme(vendor.name, DEFAULT_SPEC_DIR))
        request = probe.raw_requests(target, f"{BASE_TOKEN}.bench-probe")[0]["raw"].encode("latin-1")
        started = time.perf_counter()
        process = start_mock(port, workers)
        try:
            timings.append(round(seconds_to_first_success(process, started, port, request), 3))
        finally:
            stop_process(process)
    return timings


def conformance_wall_time() -> dict[str, Any]:
    command = Path(sys.executable).parent / "conformance"
    if not command.exists():
        return {"skipped": "no `conformance` command in this environment"}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [str(command), "run", "--api", "all"], cwd=PROJECT_ROOT, capture_output=True, timeout=CONFORMANCE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"did not finish within {CONFORMANCE_TIMEOUT_S} s"}
    return {"wall_s": round(time.perf_counter() - started, 1), "exit_code": done.returncode}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = models[0] if models else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def print_table(apis: dict[str, dict[str, Any]]) -> None:
    print(f"\n{'API':<11}{'server':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>9}{'mock/Prism':>12}")
    for name, result in apis.items():
        if "error" in result:
            print(f"{name:<11}{'':<8}  {result['error']}")
            continue
        for server in ("mock", "prism"):
            if server not in result:
                continue
            run = result[server]
            ratio = f"{result['ratio']:.2f}x" if server == "mock" and "ratio" in result else ""
            label = name if server == "mock" else ""
            print(
                f"{label:<11}{server:<8}{run['requests_per_s']:>9.0f}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}"
                f"{run['error_rate']:>9.2%}{ratio:>12}"
            )


def measure_throughput(
    vendors: dict[str, Vendor], prism: Path | None, load: LoadSettings, workers: int
) -> tuple[dict[str, dict[str, Any]], dict[str, Mix]]:
    """One mock for every API; per API, its mix (records chosen by asking the mock) and the figures."""
    mock_port = free_port()
    mock_process = start_mock(mock_port, workers)
    apis: dict[str, dict[str, Any]] = {}
    mixes: dict[str, Mix] = {}
    try:
        first = next(iter(vendors.values()))
        spec_probe = f"GET {first.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
        seconds_to_first_success(mock_process, time.perf_counter(), mock_port, spec_probe)
        for name, vendor in vendors.items():
            mock = Target(HOST, mock_port, vendor.prefix, auth_scheme(vendor.name, DEFAULT_SPEC_DIR))
            try:
                mixes[name] = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(mock)
            except MixError as exc:
                apis[name] = {"error": str(exc)}
                continue
            print(f"{name}: measuring ...", file=sys.stderr)
            apis[name] = bench_api(vendor, mixes[name], mock_port, prism, load)
    finally:
        stop_process(mock_process)
    return apis, mixes


def cold_starts(
    apis: dict[str, dict[str, Any]], mixes: dict[str, Mix], vendors: dict[str, Vendor], runs: int, workers: int
) -> dict[str, Any]:
    """The mock's median over `runs` fresh starts; Prism's over the starts of the throughput runs."""
    first = next(iter(mixes))
    timings = mock_cold_starts(runs, mixes[first], vendors[first], workers)
    prism_starts = [r["prism_cold_start_s"] for r in apis.values() if "prism_cold_start_s" in r]
    result = {
        "mock_all_apis_s": statistics.median(timings),
        "mock_runs_s": timings,
        "prism_one_spec_s": statistics.median(prism_starts) if prism_starts else None,
        "prism_runs_s": prism_starts,
    }
    prism_text = f"{result['prism_one_spec_s']:.2f} s" if prism_starts else "n/a"
    mock_text = f"{result['mock_all_apis_s']:.2f} s"
    print(f"\ncold start (spawn to first 2xx): mock, all APIs {mock_text}; Prism, one spec {prism_text}")
    return result


def timed_conformance_run() -> dict[str, Any]:
    print("timing `conformance run --api all` ...", file=sys.stderr)
    timing = conformance_wall_time()
    outcome = f"{timing['wall_s']} s, exit {timing['exit_code']}" if "wall_s" in timing else timing["skipped"]
    print(f"conformance run --api all: {outcome}")
    return timing


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    vendors = served_vendors(args.api)
    load = LoadSettings(args.connections, args.warmup, args.duration, args.slice, args.max_requests)
    summary: dict[str, Any] = {"machine": machine(), "load": asdict(load), "mock_workers": args.workers}
    prism = None
    if not args.no_prism:
        try:
            prism = ensure_prism(PRISM_DIR)
        except (ServerError, subprocess.CalledProcessError) as exc:
            sys.exit(f"cannot install Prism ({exc}); pass --no-prism to measure the mock alone")
        summary["prism_version"] = prism_version(prism)
    summary["apis"], mixes = measure_throughput(vendors, prism, load, args.workers)
    print_table(summary["apis"])
    if mixes:
        summary["cold_start"] = cold_starts(summary["apis"], mixes, vendors, args.cold_starts, args.workers)
    if not args.no_conformance:
        summary["conformance"] = timed_conformance_run()
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nfigures written to {RESULTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
