"""Cold start of source trees side by side: spawn of `contract-mock serve` (every API) to its first 2xx on a read.

    .venv/bin/python bench/cold_start.py --tree before=/tmp/mock-main --tree after=. --runs 15
    .venv/bin/python bench/cold_start.py --tree after=. --phases 5

Each `--tree NAME=DIR` is a source tree of this project (e.g. `git archive main | tar -x -C DIR`); its
mock runs as `python -m mock_server.cli serve` from that directory, with this venv, its bytecode
compiled first (as `make install` compiles it: a tree just edited is not measured compiling itself);
`--prism` adds Prism serving the probe API's spec alone (as `make bench` compares them; `--prism-dir`
for a Prism installed elsewhere). Starts alternate between the trees (run i starts tree A first when
i is even, B first when odd), so background load on a shared machine falls on both alike. For each
start: the wall time from spawn to the first 2xx, and the CPU time the server process had used by
then (its threads' run time, `/proc/PID/task/*/schedstat`: far less sensitive to load).

`--phases N`: the CPU time of each step of start-up in process, N runs per tree (median): interpreter,
`import uvicorn` (with the config and server modules `serve` runs), `import mock_server.app`,
`create_app` with every API and the settings `serve` makes, the first request (a read, in process).
The same steps as `contract-mock serve`, without the socket.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mix import BASE_TOKEN, MixBuilder, Target, auth_scheme
from servers import HOST, ensure_prism, free_port, seconds_to_first_success, start_prism

from launcher.servers import serve_command, stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors import discover

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PRISM_DIR = Path(__file__).parent / ".prism"
PHASES_SCRIPT = """
import json, resource, sys
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
marks = {"interpreter": cpu()}
import contextlib
request = json.loads(sys.argv[1])
paused = contextlib.nullcontext()
if request["tree_pauses_the_collector"]:  # the steps as `serve` takes them in each tree
    from mock_server import startup
    paused = startup.collector_paused()
with paused:
    from mock_server import _compat
    if hasattr(_compat, "defer_unused_imports"):
        _compat.defer_unused_imports()
    import uvicorn
    from uvicorn.config import Config  # what `serve` runs, whether or not `import uvicorn` imports it
    from uvicorn.server import Server
    marks["import uvicorn"] = cpu()
    import mock_server.app
    marks["import mock_server.app"] = cpu()
    from mock_server import cli
    settings = cli.settings_from_args(cli.build_parser().parse_args(["serve", "--limits", "off"]))
    app = mock_server.app.create_app(settings)
    marks["create_app"] = cpu()
import asyncio
async def first_request():
    sent = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": request["path"], "raw_path": request["path"].encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"authorization", request["authorization"].encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
    return sent[0]["status"]
status = asyncio.run(first_request())
marks["first request"] = cpu()
steps, before = {}, 0.0
for name, at in marks.items():
    steps[name], before = at - before, at
steps["total"] = before
print(json.dumps({"steps": steps, "status": status, "modules": len(sys.modules)}))
"""


COMPILED_PACKAGES = ("mock_server", "openapi_model", "vendor_facts", "launcher", "recordings", "conformance")


def compile_bytecode(tree: Path) -> None:
    packages = [name for name in COMPILED_PACKAGES if (tree / name).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], cwd=tree, check=True, capture_output=True)


def start(tree: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.Popen(
        serve_command(port), cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def cpu_seconds(pid: int) -> float:
    """CPU time of a running process so far: its threads' run time in nanoseconds (`/proc/PID/task/*/schedstat`),
    else user + system time in clock ticks (`/proc/PID/stat`, 10 ms steps)."""
    try:
        return (
            sum(int(task.joinpath("schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir())
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cold_start(spawn: Callable[[int], subprocess.Popen[bytes]], read: bytes) -> tuple[float, float]:
    """(wall seconds from spawn to the first 2xx to `read`, the server's CPU seconds by then)."""
    port = free_port()
    request = read.replace(b"{PORT}", str(port).encode())
    started = time.perf_counter()
    process = spawn(port)
    try:
        wall = seconds_to_first_success(process, started, port, request)
        return wall, cpu_seconds(process.pid)
    finally:
        stop_process(process)


def probe_read(api: str, tree: Path) -> tuple[bytes, bytes, str, str]:
    """A read the mock answers with 2xx (the mix's first call), as raw bytes with a `{PORT}` placeholder,
    the same read as Prism is sent it (no prefix, `Bearer`), plus its path and Authorization header
    (for the in-process first request)."""
    vendor = discover()[api]
    port = free_port()
    process = start(tree, port)
    try:
        target = Target(HOST, port, vendor.prefix, auth_scheme(api, DEFAULT_SPEC_DIR))
        spec_probe = f"GET {vendor.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
        seconds_to_first_success(process, time.perf_counter(), port, spec_probe)
        mix = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(target)
        call = mix.raw_requests(target, f"{BASE_TOKEN}.bench-probe")[0]["raw"]
        prism_call = mix.raw_requests(Target(HOST, port, "", "Bearer"), f"{BASE_TOKEN}.bench-probe")[0]["raw"]
    finally:
        stop_process(process)
    head = call.split("\r\n")
    path = head[0].split(" ")[1]
    authorization = next(line.split(": ", 1)[1] for line in head if line.lower().startswith("authorization:"))

    def templated(raw: str) -> bytes:
        return raw.replace(f"{HOST}:{port}", f"{HOST}:{{PORT}}").encode("latin-1")

    return templated(call), templated(prism_call), path, authorization


def phases(tree: Path, path: str, authorization: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # Not `find_spec`: the editable install would find a module a tree lacks in this checkout.
    pauses = (tree / "mock_server" / "startup.py").exists()
    request = json.dumps({"path": path, "authorization": authorization, "tree_pauses_the_collector": pauses})
    done = subprocess.run(
        [sys.executable, "-c", PHASES_SCRIPT, request], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000)


def spread(values: list[float]) -> str:
    return f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--api", default="elevate", help="the API whose read is the probe (every API is served)")
    parser.add_argument("--runs", type=int, default=9, help="cold starts per tree")
    parser.add_argument("--prism", action="store_true", help="also Prism serving the probe API's spec alone")
    parser.add_argument("--prism-dir", type=Path, default=PRISM_DIR, help=f"Prism's npm prefix (default: {PRISM_DIR})")
    parser.add_argument("--phases", type=int, default=0, metavar="N", help="also the in-process CPU split, N runs")
    parser.add_argument("--results", type=Path, default=None, help="write every figure as JSON here")
    args = parser.parse_args(argv)
    trees = {name: Path(path).resolve() for name, path in (entry.split("=", 1) for entry in args.tree)}
    for tree in trees.values():
        compile_bytecode(tree)
    read, prism_read, path, authorization = probe_read(args.api, next(iter(trees.values())))
    starters: dict[str, tuple[Callable[[int], subprocess.Popen[bytes]], bytes]] = {
        name: (functools.partial(start, tree), read) for name, tree in trees.items()
    }
    if args.prism:
        prism = ensure_prism(args.prism_dir)
        spec = DEFAULT_SPEC_DIR / f"{args.api}.yaml"
        starters[f"prism ({args.api} only)"] = (functools.partial(start_prism, prism, spec), prism_read)
    load = {"before": os.getloadavg()[0]}
    starts: dict[str, list[tuple[float, float]]] = {name: [] for name in starters}
    for run in range(args.runs):
        order = list(starters) if run % 2 == 0 else list(reversed(starters))
        for name in order:
            starts[name].append(cold_start(*starters[name]))
    split: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(args.phases):
        for name, tree in trees.items():
            split[name].append(phases(tree, path, authorization))
    load["after"] = os.getloadavg()[0]
    loads = f"{load['before']:.1f} → {load['after']:.1f}"
    print(f"cold start, spawn to first 2xx (GET {path}), every API; load average {loads}")
    for name, timings in starts.items():
        if not timings:
            continue
        walls, cpus = [w for w, _ in timings], [c for _, c in timings]
        walls_text = f"wall median {median_ms(walls)} ms {spread(walls)}"
        print(f"  {name:<10} {walls_text}; server CPU median {median_ms(cpus)} ms {spread(cpus)}; n={len(walls)}")
    for name, runs in split.items():
        if runs:
            steps = {step: median_ms([r["steps"][step] for r in runs]) for step in runs[0]["steps"]}
            print(f"  {name:<8} CPU ms, median of {len(runs)}: {steps}; modules {runs[0]['modules']}")
    if args.results:
        args.results.write_text(json.dumps({"load": load, "starts": starts, "phases": split}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
