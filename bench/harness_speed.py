"""The harness's speed beside plain Schemathesis: cases per second and requests per case, same API, seed and depth.

    .venv/bin/python bench/harness_speed.py [--api elevate] [--seed 1] [--max-examples 10]

Per API, two runs, each against a fresh mock of its own (limits off, uvicorn's access log on, so the
mock counts the requests it answered):
- the harness: `conformance run --api A --suite fuzz --base-url … --token … --allow-writes
  --seed S --max-examples N --json …` (the mock judged as any endpoint would be); its cases are,
  per operation, the most any check ran (the JSON report), summed over operations;
- plain Schemathesis: `st run openapi/A.yaml --url … --seed S --max-examples N` with the same
  credentials header; its cases are what its NDJSON report records.
Cases per second = cases / wall time of the command; cases per CPU second = cases / the command's own CPU
time (user + system of its processes; the mock's apart), which a busy machine changes far less; requests
per case = requests the mock logged / cases.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mix import BASE_TOKEN, auth_scheme, org_of
from servers import HOST, free_port, seconds_to_first_success

from launcher.servers import stop_process
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.vendors.base import Vendor

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: bench runs only there

RUN_TIMEOUT_S = 900
DEFAULT_MAX_EXAMPLES = 10  # the harness's default depth (conformance/fuzz.py)
ACCESS_LOG_MARK = b'HTTP/1.1" '  # uvicorn's access log line: `… "GET /path HTTP/1.1" 200 OK`


@contextmanager
def logging_mock(vendor: Vendor) -> Iterator[tuple[str, Path]]:
    """A fresh mock with its access log on: (the API's base URL, the log file)."""
    port = free_port()
    command = [
        sys.executable, "-m", "mock_server.cli", "serve", "--host", HOST, "--port", str(port),
        "--limits", "off", "--log-level", "info",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="harness-speed-") as workdir:
        log_path = Path(workdir) / "access.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                probe = f"GET {vendor.prefix}/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
                seconds_to_first_success(process, time.perf_counter(), port, probe)
                yield f"http://{HOST}:{port}{vendor.prefix}", log_path
            finally:
                stop_process(process)


def requests_logged(log_path: Path) -> int:
    return sum(1 for line in log_path.read_bytes().splitlines() if ACCESS_LOG_MARK in line)


def timed(command: list[str]) -> tuple[float, float, int]:
    """Wall time, CPU time (the command's processes, user + system) and exit code of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, timeout=RUN_TIMEOUT_S)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def harness_cases(report: dict[str, Any]) -> int:
    per_operation: dict[str, int] = {}
    for case in report.get("cases", []):
        operation = case["name"].split(" · ")[0]
        per_operation[operation] = max(per_operation.get(operation, 0), int(case.get("cases") or 0))
    return sum(per_operation.values())


def schemathesis_cases(ndjson: Path) -> int:
    cases = 0
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        if "ScenarioFinished" in event:
            cases += len(event["ScenarioFinished"]["recorder"].get("cases", {}))
    return cases


def figures(tool: str, wall_s: float, cpu_s: float, exit_code: int, cases: int, requests: int) -> dict[str, Any]:
    return {
        "tool": tool,
        "wall_s": round(wall_s, 2),
        "cpu_s": round(cpu_s, 2),
        "exit_code": exit_code,
        "cases": cases,
        "requests": requests,
        "cases_per_s": round(cases / wall_s, 1) if wall_s > 0 else 0.0,
        # Per CPU second of the command itself (the mock's CPU apart): what a busy machine changes least.
        "cases_per_cpu_s": round(cases / cpu_s, 1) if cpu_s > 0 else 0.0,
        "requests_per_case": round(requests / cases, 2) if cases else None,
    }


def run_harness(vendor: Vendor, seed: int, max_examples: int) -> dict[str, Any]:
    bin_dir = Path(sys.executable).parent
    with logging_mock(vendor) as (base_url, log_path), tempfile.TemporaryDirectory() as workdir:
        report_path = Path(workdir) / "report.json"
        org = org_of(_yaml(DEFAULT_FIXTURES_DIR / vendor.name / "auth.yaml"))
        wall, cpu, code = timed([
            str(bin_dir / "conformance"), "run", "--api", vendor.name, "--suite", "fuzz", "--base-url", base_url,
            "--token", f"{BASE_TOKEN}.harness-speed", *(["--org-id", org] if org else []), "--allow-writes",
            "--seed", str(seed), "--max-examples", str(max_examples), "--json", str(report_path),
        ])  # fmt: skip
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        return figures("conformance run", wall, cpu, code, harness_cases(report), requests_logged(log_path))


def run_schemathesis(vendor: Vendor, seed: int, max_examples: int) -> dict[str, Any]:
    bin_dir = Path(sys.executable).parent
    headers = ["--header", f"Authorization: {auth_scheme(vendor.name, DEFAULT_SPEC_DIR)} {BASE_TOKEN}.st-speed"]
    org = org_of(_yaml(DEFAULT_FIXTURES_DIR / vendor.name / "auth.yaml"))
    if vendor.org_header and org:
        headers += ["--header", f"{vendor.org_header}: {org}"]
    with logging_mock(vendor) as (base_url, log_path), tempfile.TemporaryDirectory() as workdir:
        wall, cpu, code = timed([
            str(bin_dir / "st"), "run", str(DEFAULT_SPEC_DIR / f"{vendor.name}.yaml"), "--url", base_url,
            "--seed", str(seed), "--max-examples", str(max_examples), "--workers", "1", *headers,
            "--report", "ndjson", "--report-dir", workdir,
        ])  # fmt: skip
        reports = sorted(Path(workdir).glob("*.ndjson"))
        cases = schemathesis_cases(reports[0]) if reports else 0
        return figures("st run", wall, cpu, code, cases, requests_logged(log_path))


def measure(vendors: dict[str, Vendor], seed: int, max_examples: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, vendor in vendors.items():
        print(f"{name}: harness and plain Schemathesis, seed {seed}, max examples {max_examples} ...", file=sys.stderr)
        harness = run_harness(vendor, seed, max_examples)
        plain = run_schemathesis(vendor, seed, max_examples)
        ratio = harness["cases_per_s"] / plain["cases_per_s"] if plain["cases_per_s"] else None
        cpu_ratio = harness["cases_per_cpu_s"] / plain["cases_per_cpu_s"] if plain["cases_per_cpu_s"] else None
        results[name] = {
            "harness": harness, "schemathesis": plain, "cases_per_s_ratio": ratio, "cases_per_cpu_s_ratio": cpu_ratio,
        }  # fmt: skip
    return results


def print_table(results: dict[str, Any]) -> None:
    print(
        f"\n{'API':<11}{'tool':<17}{'wall s':>8}{'CPU s':>7}{'cases':>7}{'cases/s':>9}{'cases/CPU s':>13}"
        f"{'requests':>10}{'req/case':>10}{'exit':>6}"
    )
    for api, pair in results.items():
        for key in ("harness", "schemathesis"):
            run = pair[key]
            per_case = "" if run["requests_per_case"] is None else f"{run['requests_per_case']:.2f}"
            print(
                f"{api if key == 'harness' else '':<11}{run['tool']:<17}{run['wall_s']:>8.1f}{run['cpu_s']:>7.1f}"
                f"{run['cases']:>7}{run['cases_per_s']:>9.1f}{run['cases_per_cpu_s']:>13.1f}{run['requests']:>10}"
                f"{per_case:>10}{run['exit_code']:>6}"
            )


def _yaml(path: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text()) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    from mock_throughput import served_vendors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", action="append", default=[], help="API to measure (repeatable; default elevate)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, help="fuzzing depth per operation")
    args = parser.parse_args(argv)
    results = measure(served_vendors(args.api or ["elevate"]), args.seed, args.max_examples)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
