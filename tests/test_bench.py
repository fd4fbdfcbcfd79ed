"""`make bench` at tiny sizes, so its scripts cannot silently break (the figures of such a run mean nothing).

Real processes: the mock, the load generator, a redis-server, `conformance run` and `st run`; Prism is
left out (it needs Node.js and the npm registry).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

BENCH = REPO_ROOT / "bench" / "all.py"


def run_bench(tmp_path: Path, *options: str) -> tuple[str, dict]:
    results = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--no-prism", "--results", str(results), *options],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(results.read_text())


@pytest.mark.timeout(300)
def test_throughput_cold_start_and_scaling_print_their_figures_with_the_load_average(tmp_path: Path) -> None:
    stdout, results = run_bench(tmp_path, "--skip", "harness")
    steps = results["steps"]
    assert set(steps) == {"throughput", "cold start", "scaling"}
    assert all(len(step["load_average_after"]) == 3 for step in steps.values())
    assert steps["throughput"]["figures"]["elevate"]["mock"]["requests_per_s"] > 0
    assert steps["cold start"]["figures"]["mock_all_apis_s"] > 0
    scaled = steps["scaling"]["figures"]["elevate"]
    assert {setup: run["error_rate"] for setup, run in scaled.items()} == {
        "1 worker, memory": 0.0,
        "1 worker, Redis": 0.0,
        "2 workers, Redis": 0.0,
        "1 worker, memory + PING": 0.0,
        "2 workers, unshared": 0.0,
        "2 workers, unshared + PING": 0.0,
    }
    assert scaled["1 worker, memory + PING"]["redis_server_cpu_us_per_request"] > 0  # the yardstick's PINGs
    assert "mock p99 at 8 connections (ms)" in stdout
    assert "2 workers on Redis / 1 worker in memory" in stdout
    assert "yardstick: 2 workers sharing nothing / 1 worker in memory" in stdout


@pytest.mark.timeout(300)
def test_harness_speed_is_reported_beside_plain_schemathesis(tmp_path: Path) -> None:
    stdout, results = run_bench(tmp_path, "--skip", "throughput", "--skip", "scaling")
    pair = results["steps"]["harness"]["figures"]["elevate"]
    for run in (pair["harness"], pair["schemathesis"]):
        assert run["cases"] > 0 and run["requests"] > 0 and run["cases_per_s"] > 0
    assert pair["harness"]["exit_code"] == 0  # the mock conforms
    assert "harness vs `st run` cases/s (elevate, seed 1)" in stdout


@pytest.mark.timeout(120)
def test_two_trees_side_by_side_without_cold_starts() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "engines.py"), "--tree", "a=.", "--tree", "b=.", "--api", "elevate",
         "--connections", "2", "--duration", "0.5", "--cold-starts", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "elevate" in done.stdout and "cold start" not in done.stdout
