"""The control sweep: partner-style `conformance run`s through a pass-through proxy, several seeds per target.

Targets are the bundled mock (started by the harness's own launcher, judged as a partner's server: its
URL, `--allow-writes`, a target file) and the independent faithful implementations in this package.
Each target runs once per seed against the same server, so state left by one run meets the next, as on
a partner's staging. After every run the first record is read again: `left changed` names the members
that differ from before the first run.

`python -m tests.faithful.sweep [--seeds N] [--max-examples N] [--api NAME …] [--target mock|faithful …] [--jobs N]`
(`make control-sweep`) prints the table; `--json PATH` writes every run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.faithful.servers import PROJECT_ROOT, running
from vendor_facts import resources

APIS = ("elevate", "abillity", "zoho-desk", "revnue")
KINDS = ("mock", "faithful")
FAITHFUL_DIRS = {"elevate": "elevate_spring", "abillity": "abillity_aspnet", "zoho-desk": "zoho_gateway",
                 "revnue": "revnue_drf"}  # fmt: skip
FAITHFUL_PREFIX = {"elevate": "/v1"}  # the real base URL's path; the others serve at the root
MOCK_TOKEN = "dev-token"  # the bundled mock's all-scopes token (fixtures/<api>/auth.yaml)
# The variable of each bundled target file that names the record fuzzing may write to.
MOCK_RECORD_VARIABLE = {"elevate": "contract_not_billing", "abillity": "contract_id", "zoho-desk": "contract_id",
                        "revnue": "contract_buy_side"}  # fmt: skip
RUN_TIMEOUT = 600.0


@dataclass
class RunResult:
    api: str
    kind: str
    seed: int
    exit_code: int
    failing: list[str] = field(default_factory=list)  # "<suite> <case> [<rule>, …]" for each failed/error case
    left_changed: list[str] = field(default_factory=list)


def faithful_target_file(api: str) -> Path:
    return PROJECT_ROOT / "tests" / "faithful" / FAITHFUL_DIRS[api] / "target.yaml"


def mock_target_file(api: str, directory: Path) -> Path:
    """The mock's own target file as a partner would copy it: plus the token and the record to write to."""
    data = yaml.safe_load((resources.fixture_dir(api) / "target.yaml").read_text(encoding="utf-8"))
    data.update(token=MOCK_TOKEN, record_ids=[data["variables"][MOCK_RECORD_VARIABLE[api]]])
    path = directory / f"{api}-mock-target.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@contextmanager
def served(api: str, kind: str) -> Iterator[str]:
    """The base URL a partner would give: the pass-through proxy in front of the target, plus the API's prefix."""
    with ExitStack() as stack:
        if kind == "mock":
            from launcher.servers import bundled_mock

            upstream, prefix = stack.enter_context(bundled_mock()), f"/{api}"
        else:
            upstream, prefix = stack.enter_context(running(api)), FAITHFUL_PREFIX.get(api, "")
        proxy = stack.enter_context(running("proxy", "--upstream", upstream))
        yield proxy + prefix


def run_once(api: str, base_url: str, target_file: Path, seed: int, max_examples: int, report: Path) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "conformance", "run", "--api", api, "--base-url", base_url, "--allow-writes",
        "--target-file", str(target_file), "--seed", str(seed), "--max-examples", str(max_examples),
        "--json", str(report),
        # Neither target throttles (the launched mock runs with limits off, the DRF one with throttling
        # off): as a partner says of their own staging, the documented 100/min is not theirs.
        "--rate-limit", "none",
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if not report.is_file():
        return {"exit_code": completed.returncode, "cases": [], "fatal": completed.stderr[-2000:]}
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    data["exit_code"] = completed.returncode
    return data


def failing_cases(report: dict[str, Any]) -> list[str]:
    found = []
    for case in report.get("cases", []):
        if case["outcome"] in ("failed", "error"):
            rules = sorted({violation["rule"] for violation in case.get("violations", [])})
            found.append(f"{case['outcome']}: {case['suite']} {case['name']} {rules or case.get('detail', '')[:200]}")
    if report.get("fatal"):
        found.append(f"fatal: {report['fatal']}")
    return found


def read_record(api: str, base_url: str, target_file: Path) -> dict[str, Any] | None:
    """The first record of the target file, read the way the spec's GET reads it (None if it cannot be)."""
    target = yaml.safe_load(target_file.read_text(encoding="utf-8"))
    record = target["record_ids"][0]
    paths = {"elevate": f"/customer-contracts/{record}", "abillity": f"/api/contract/{record}",
             "zoho-desk": f"/api/v1/contracts/{record}", "revnue": f"/api/v2/contract/{record}/"}  # fmt: skip
    prefix = "Zoho-oauthtoken" if api == "zoho-desk" else "Bearer"
    headers = {"Authorization": f"{prefix} {target['token']}"}
    if "org_id" in target:
        headers["orgId"] = str(target["org_id"])
    try:
        response = httpx.get(base_url + paths[api], headers=headers, timeout=10.0)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


def changed_members(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    if before is None or after is None:
        return ["(record unreadable)"] if before != after else []
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def sweep_target(api: str, kind: str, seeds: Sequence[int], max_examples: int, workdir: Path) -> list[RunResult]:
    target_file = mock_target_file(api, workdir) if kind == "mock" else faithful_target_file(api)
    results = []
    with served(api, kind) as base_url:
        first = read_record(api, base_url, target_file)
        for seed in seeds:
            report = run_once(api, base_url, target_file, seed, max_examples, workdir / f"{api}-{kind}-{seed}.json")
            after = read_record(api, base_url, target_file)
            results.append(RunResult(api, kind, seed, report["exit_code"], failing_cases(report),
                                     changed_members(first, after)))  # fmt: skip
    return results


SHORT_SEED = 1
SHORT_MAX_EXAMPLES = 1


def short_run_failure(api: str, kind: str, workdir: Path) -> str | None:
    """The short sweep's one run of a target: None when it exits 0, else what the current harness flagged."""
    (result,) = sweep_target(api, kind, [SHORT_SEED], SHORT_MAX_EXAMPLES, workdir)
    if result.exit_code == 0:
        return None
    return (
        f"conformance run --api {api} against the {kind} target (seed {SHORT_SEED}, partner-style through the "
        f"proxy) exited {result.exit_code}; flagged on the current harness:\n  " + "\n  ".join(result.failing)
    )


def from_reports(directory: Path) -> list[RunResult]:
    """The runs whose JSON reports a sweep kept in `directory` (`--reports`), e.g. of a sweep cut short."""
    results = []
    for path in sorted(directory.glob("*-*-*.json")):
        name, _, seed = path.stem.rpartition("-")
        api, _, kind = name.rpartition("-")
        report = json.loads(path.read_text(encoding="utf-8"))
        results.append(RunResult(api, kind, int(seed), report["exit_code"], failing_cases(report)))
    return sorted(results, key=lambda result: (result.api, result.kind, result.seed))


def table(results: Sequence[RunResult]) -> str:
    lines = [f"{'API':<10} {'target':<9} {'runs':>4} {'seeds':<12} {'exit codes':<14} failing checks (runs)"]
    for api in APIS:
        for kind in KINDS:
            rows = [result for result in results if result.api == api and result.kind == kind]
            if not rows:
                continue
            exits = Counter(row.exit_code for row in rows)
            seeds = f"{min(row.seed for row in rows)}-{max(row.seed for row in rows)}"
            checks = Counter(check.split(" [")[0] for row in rows for check in row.failing)
            exit_text = " ".join(f"{code}×{count}" for code, count in sorted(exits.items()))
            listed = "; ".join(f"{check.split(': ', 1)[1]} ({count})" for check, count in checks.most_common())
            lines.append(f"{api:<10} {kind:<9} {len(rows):>4} {seeds:<12} {exit_text:<14} {listed or '-'}")
            changed = Counter(member for row in rows for member in row.left_changed)
            if changed:
                lines.append(f"{'':<10} {'':<9} left changed after some runs: {dict(changed)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faithful.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N per target (default 10)")
    parser.add_argument("--max-examples", type=int, default=1)
    parser.add_argument("--api", action="append", choices=APIS)
    parser.add_argument("--target", action="append", choices=KINDS)
    parser.add_argument("--json", type=Path, help="write every run's result here")
    parser.add_argument("--reports", type=Path, help="keep each run's JSON report in this directory")
    parser.add_argument("--jobs", type=int, default=2, help="targets swept at once (default 2)")
    parser.add_argument("--from-reports", type=Path, help="print the table of the reports kept in this directory")
    arguments = parser.parse_args(argv)
    if arguments.from_reports:
        print(table(from_reports(arguments.from_reports)))
        return 0
    seeds = range(1, arguments.seeds + 1)
    targets = [(api, kind) for api in arguments.api or APIS for kind in arguments.target or KINDS]
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(arguments.jobs) as pool:
        workdir = arguments.reports or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        # Each target is its own processes (server, proxy, harness): the threads only wait for them.
        futures = [
            pool.submit(sweep_target, api, kind, seeds, arguments.max_examples, workdir) for api, kind in targets
        ]
        for (api, kind), future in zip(targets, futures, strict=True):
            results += future.result()
            print(f"{api} {kind}: exits {[result.exit_code for result in results[-len(seeds) :]]}", flush=True)
    print(table(results))
    if arguments.json:
        arguments.json.write_text(json.dumps([asdict(result) for result in results], indent=2), encoding="utf-8")
    return 0 if all(result.exit_code == 0 for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
