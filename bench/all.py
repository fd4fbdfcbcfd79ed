"""`make bench`: every figure of the performance table in one run, each with the load average it was taken at.

    .venv/bin/python bench/all.py [--no-prism] [--tenants 100000] [--quick]

Steps (each is also a script of its own, see bench/README.md):
1. the mock beside Prism per API, mock p99 at 8 connections, cold start (bench/mock_throughput.py) and
   the wall time of `conformance run --api all`;
2. scaling on the shared store: 1 worker in memory, 1 and 2 workers on Redis, beside yardsticks of what
   this machine allows (2 workers sharing nothing, and one Redis PING a request) (bench/scaling.py);
3. the harness's cases/s and requests per case beside plain `st run` (bench/harness_speed.py);
4. with `--tenants N`: the mock's RSS as N tenants come and go, in memory and on Redis
   (bench/tenants_memory.py; 100 000 takes minutes, hence behind a flag).
The summary goes to stdout, every figure to bench/results/latest.json (`--results` elsewhere).
`--quick` takes tiny sizes (the smoke test in tests/test_bench.py): its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import harness_speed
import mock_throughput
import scaling
import tenants_memory
from mock_throughput import LoadSettings, machine, served_vendors
from servers import ServerError, ensure_prism, prism_version

T = TypeVar("T")
SCALING_APIS = ["elevate", "revnue"]
HARNESS_APIS = ["elevate"]
STEPS = ("throughput", "scaling", "harness")
LATEST_RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SCALING_ROWS = {  # scaling setup -> its line in the summary; the last three are yardsticks (bench/scaling.py)
    "1 worker, Redis": "1 worker on Redis",
    "2 workers, Redis": "2 workers on Redis",
    "1 worker, memory + PING": "yardstick: 1 worker + 1 Redis PING a request",
    "2 workers, unshared + PING": "yardstick: 2 workers + 1 Redis PING a request",
    "2 workers, unshared": "yardstick: 2 workers sharing nothing",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", action="append", default=[], help="APIs beside Prism (repeatable; default all)")
    parser.add_argument("--no-prism", action="store_true", help="the mock alone (no Node.js needed)")
    parser.add_argument("--no-conformance", action="store_true", help="skip timing `conformance run --api all`")
    parser.add_argument("--tenants", type=int, default=0, help="also measure RSS with this many tenants (0: skip)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the scripts run (smoke test)")
    parser.add_argument("--skip", action="append", default=[], choices=STEPS, help="leave out a step (repeatable)")
    parser.add_argument("--results", type=Path, default=LATEST_RESULTS)
    return parser.parse_args(argv)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def step(name: str, figures: dict[str, Any], run: Callable[[], T], keep: Callable[[T], Any] = lambda r: r) -> T:
    """Runs one step and records (what `keep` takes of) its result with the load average before and after."""
    print(f"\n## {name} (load average {load_average()[0]:.2f})", file=sys.stderr)
    before = load_average()
    result = run()
    figures[name] = {"load_average_before": before, "load_average_after": load_average(), "figures": keep(result)}
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    load = LoadSettings(8, 0.1 if quick else 1.0, 0.3 if quick else 5.0, 0.1 if quick else 0.5, 100_000)
    scaling_load = LoadSettings(16, load.warmup_s, load.duration_s, load.slice_s, 1_000_000)
    vendors = served_vendors(args.api or (["elevate"] if quick else []))
    summary: dict[str, Any] = {"machine": machine(), "quick": quick, "steps": {}}
    steps = summary["steps"]
    prism = None
    if not args.no_prism:
        try:
            prism = ensure_prism(mock_throughput.PRISM_DIR)
        except (ServerError, subprocess.CalledProcessError) as exc:
            sys.exit(f"cannot install Prism ({exc}); pass --no-prism to measure the mock alone")
        summary["prism_version"] = prism_version(prism)

    if "throughput" not in args.skip:
        apis, mixes = step(
            "throughput",
            steps,
            lambda: mock_throughput.measure_throughput(vendors, prism, load, 1),
            keep=lambda r: r[0],
        )
        mock_throughput.print_table(apis)
        if mixes:
            step("cold start", steps, lambda: mock_throughput.cold_starts(apis, mixes, vendors, 1 if quick else 3, 1))
    if not args.no_conformance and not quick:
        step("conformance", steps, mock_throughput.timed_conformance_run)
    if "scaling" not in args.skip:
        scaled_apis = served_vendors(SCALING_APIS[:1] if quick else SCALING_APIS)
        scaling.print_table(step("scaling", steps, lambda: scaling.measure(scaled_apis, scaling_load)))
    if "harness" not in args.skip:
        examples = 1 if quick else harness_speed.DEFAULT_MAX_EXAMPLES
        harness = step("harness", steps, lambda: harness_speed.measure(served_vendors(HARNESS_APIS), 1, examples))
        harness_speed.print_table(harness)
    if args.tenants:
        vendor = next(iter(served_vendors(["elevate"]).values()))
        step(
            "tenants, memory",
            steps,
            lambda: tenants_memory.measure(vendor, args.tenants, 10_000, max(args.tenants // 10, 1)),
        )
        with scaling.redis_url(None) as url:
            step(
                "tenants, Redis",
                steps,
                lambda: tenants_memory.measure(vendor, args.tenants, 10_000, max(args.tenants // 10, 1), url),
            )
    print_summary(steps)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nfigures written to {args.results}")
    return 0


def print_summary(steps: dict[str, Any]) -> None:
    """The issue's table: one line per figure, with the load average at which it was measured."""
    rows = summary_rows(steps)
    width = max([50, *(len(label) + 2 for label, _, _ in rows)])
    print(f"\n{'figure':<{width}}{'value':<60}{'load avg':>9}")
    for label, value, load in rows:
        print(f"{label:<{width}}{value:<60}{load:>9.2f}")


def summary_rows(steps: dict[str, Any]) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = []

    def add(name: str, label: str, value: str) -> None:
        rows.append((label, value, steps[name]["load_average_after"][0]))

    if "throughput" in steps:
        apis = steps["throughput"]["figures"]
        ratios = [f"{api} {r['ratio']:.2f}×" for api, r in apis.items() if "ratio" in r]
        add("throughput", "mock / Prism, same mix, alternating slices", ", ".join(ratios) or "n/a (no Prism)")
        p99 = [f"{api} {r['mock']['p99_ms']:.1f}" for api, r in apis.items() if "mock" in r]
        add("throughput", "mock p99 at 8 connections (ms)", ", ".join(p99))
    if "scaling" in steps:
        scaled = steps["scaling"]["figures"]
        for setup, label in SCALING_ROWS.items():
            parts = []
            for api, runs in scaled.items():
                memory, shared = max(runs["1 worker, memory"]["requests_per_s"], 0.1), runs[setup]["requests_per_s"]
                parts.append(f"{api} {shared:.0f} / {memory:.0f} = {shared / memory:.2f}×")
            add("scaling", f"{label} / 1 worker in memory", ", ".join(parts))
    if "cold start" in steps:
        cold = steps["cold start"]["figures"]
        prism = cold.get("prism_one_spec_s")
        versus = f" vs Prism {prism:.2f} s ({cold['mock_all_apis_s'] / prism:.2f}×)" if prism else ""
        add("cold start", "cold start, spawn to first 2xx, all APIs", f"{cold['mock_all_apis_s']:.2f} s{versus}")
    if "conformance" in steps:
        timing = steps["conformance"]["figures"]
        add(
            "conformance",
            "`conformance run --api all`, default depth",
            f"{timing.get('wall_s', timing.get('skipped'))} s",
        )
    if "harness" in steps:
        for api, pair in steps["harness"]["figures"].items():
            harness, plain = pair["harness"], pair["schemathesis"]
            add(
                "harness",
                f"harness vs `st run` cases/s ({api}, seed 1)",
                f"{harness['cases_per_s']:.1f} vs {plain['cases_per_s']:.1f}; requests/case "
                f"{harness['requests_per_case']} vs {plain['requests_per_case']}",
            )
    for name in ("tenants, memory", "tenants, Redis"):
        if name in steps:
            result = steps[name]["figures"]
            last = result["rows"][-1] if result["rows"] else {"tenants": 0, "rss_mib": result["baseline_mib"]}
            add(name, f"RSS with {last['tenants']} tenants ({name.split(', ')[1]})", f"{last['rss_mib']:.1f} MiB")
    return rows


if __name__ == "__main__":
    sys.exit(main())
