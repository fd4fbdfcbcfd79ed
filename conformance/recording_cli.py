"""`conformance drift` and `conformance scenario`: the commands that read recordings (docs/PROXY.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from conformance import har
from conformance.apis import UnknownApi, discover, select
from conformance.reporting import html, json_report, junit
from conformance.reporting.console import print_report
from conformance.results import ExitCode
from conformance.scenarios.loader import ScenarioError

# drift and scenario export load the specs' validators: imported when used, so `conformance run` starts as fast

COMMANDS = ("drift", "scenario")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    drift = commands.add_parser(
        "drift",
        help="replay a recording's writes against the mock and report every difference",
        description="Exit codes: 0 the mock answers like the vendor, 1 drift, 2 the recording cannot be used.",
    )
    drift.add_argument("--api", required=True, help=f"one of {', '.join(discover())}")
    drift.add_argument("--har", required=True, type=Path, metavar="FILE", help="a HAR recording (contract-mock proxy)")
    drift.add_argument("--base-url", help="the mock's root URL, admin API included (default: start the bundled mock)")
    drift.add_argument("--junit", type=Path, metavar="PATH", help="write a JUnit XML report")
    drift.add_argument("--json", type=Path, metavar="PATH", help="write a JSON report")
    drift.add_argument("--html", type=Path, metavar="PATH", help="write a single-file HTML report")

    scenario = commands.add_parser("scenario", help="keep a recorded exchange as a scenario file")
    scenario.add_argument("--from-har", required=True, type=Path, metavar="FILE", help="a HAR recording")
    scenario.add_argument("--entry", required=True, type=int, metavar="N", help="the entry's index, from 0")
    scenario.add_argument("--id", help="the scenario id (default: <api>.recorded-<method>-<N>)")
    scenario.add_argument("--api", help="the API (default: the one whose spec declares the entry's operation)")
    scenario.add_argument(
        "--output", type=Path, metavar="PATH", help="where to write (default: fixtures/<api>/scenarios/<id>.yaml)"
    )


def main(args: argparse.Namespace, console: Console) -> int:
    if args.command == "drift":
        return _drift(args, console)
    return _scenario(args, console)


def _drift(args: argparse.Namespace, console: Console) -> int:
    from conformance.drift import DriftOptions, run_drift

    try:
        (api,) = select(args.api)
    except (UnknownApi, ValueError):
        console.print(f"conformance drift: --api takes one of {', '.join(discover())}", style="red")
        return ExitCode.COULD_NOT_RUN
    options = DriftOptions(api=api, har_path=args.har, base_url=args.base_url)
    result = run_drift(options, on_progress=lambda message: None)
    result.recording = str(args.har)
    print_report(result, console)
    for path, writer in ((args.junit, junit.write), (args.json, json_report.write), (args.html, html.write)):
        if path is not None:
            writer(result, path)
            console.print(f"report written to {path}", style="dim")
    return int(result.exit_code)


def _scenario(args: argparse.Namespace, console: Console) -> int:
    from conformance.scenario_export import ExportError, export

    try:
        apis = select(args.api) if args.api else list(discover().values())
        exported = export(args.from_har, args.entry, apis, scenario_id=args.id, output=args.output)
    except (UnknownApi, ExportError, har.HarError) as exc:
        console.print(f"conformance scenario: {exc}", style="red")
        return ExitCode.COULD_NOT_RUN
    except ScenarioError as exc:  # the loader refused what was written: a bug here, reported plainly
        console.print(f"conformance scenario: the written scenario does not load: {exc}", style="red")
        return ExitCode.COULD_NOT_RUN
    console.print(f"scenario {exported.scenario.id} written to {exported.path}")
    return ExitCode.CONFORMS
