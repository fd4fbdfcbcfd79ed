"""`conformance proxy`, `conformance drift` and `conformance scenario`: the commands that make and read recordings
(docs/PROXY.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from conformance.apis import UnknownApi, discover, select
from conformance.reporting import json_report, junit, write_html
from conformance.reporting.console import print_report
from conformance.results import ExitCode
from conformance.scenarios.loader import ScenarioError
from recordings import har

# drift and scenario export load the specs' validators: imported when used, so `conformance run` starts as fast

COMMANDS = ("proxy", "drift", "scenario")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _add_proxy_command(commands)
    drift = commands.add_parser(
        "drift",
        help="replay a recording's writes against the mock and report every difference",
        description="Exit codes: 0 the mock answers like the vendor (or differs only where our spec infers), "
        "1 drift from documented behaviour, 2 the recording cannot be used.",
    )
    drift.add_argument("--api", required=True, help=f"one of {', '.join(discover())}")
    drift.add_argument("--har", required=True, type=Path, metavar="FILE", help="a HAR recording (conformance proxy)")
    drift.add_argument("--base-url", help="the mock's root URL, admin API included (default: start the bundled mock)")
    drift.add_argument(
        "--target-file", type=Path, metavar="FILE",
        help="names the credentials to replay: readonly_token, other_org_id (default: fixtures/<api>/target.yaml)",
    )  # fmt: skip
    drift.add_argument(
        "--strict", action="store_true", help="fail on differences from our inferences and HTTP hygiene too"
    )
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


def _add_proxy_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    proxy = commands.add_parser(
        "proxy", help="forward to a real vendor, judging every exchange against the spec (docs/PROXY.md)"
    )
    proxy.add_argument("--api", required=True, metavar="NAME", help="the API whose spec judges the exchanges")
    proxy.add_argument("--upstream", required=True, metavar="URL", help="the vendor's base URL")
    proxy.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=8080)
    proxy.add_argument("--record", type=Path, metavar="FILE.har", help="append every exchange to a HAR 1.2 file")
    proxy.add_argument("--errors", action="store_true", help="answer a violation of a documented rule with 502")
    proxy.add_argument(
        "--strict", action="store_true", help="with --errors, answer differences from our inferences with 502 too"
    )
    proxy.add_argument(
        "--redact", nargs="+", default=[], metavar="FIELD", help="body members to redact in recordings (a.b.c)"
    )
    proxy.add_argument("--ca-bundle", type=Path, metavar="PEM", help="trust only these CAs for the upstream")
    proxy.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the upstream (default: 30)")


def main(args: argparse.Namespace, console: Console) -> int:
    if args.command == "proxy":
        return _proxy(args)
    if args.command == "drift":
        return _drift(args, console)
    return _scenario(args, console)


def _proxy(args: argparse.Namespace) -> int:
    import uvicorn

    from conformance.proxy import ProxySettings, create_proxy

    try:
        (api,) = select(args.api)
    except (UnknownApi, ValueError) as exc:
        print(f"conformance proxy: {exc}", file=sys.stderr)
        return ExitCode.COULD_NOT_RUN
    if not args.upstream.startswith(("http://", "https://")):
        print(f"conformance proxy: --upstream must be an http(s) URL, got {args.upstream!r}", file=sys.stderr)
        return ExitCode.COULD_NOT_RUN
    if args.ca_bundle is not None and not args.ca_bundle.is_file():
        print(f"conformance proxy: --ca-bundle {args.ca_bundle}: no such file", file=sys.stderr)
        return ExitCode.COULD_NOT_RUN
    settings = ProxySettings(
        api=api,
        upstream=args.upstream,
        record=args.record,
        errors=args.errors,
        strict=args.strict,
        redact=tuple(args.redact),
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
    )
    print(f"  proxy {api.name}: http://{args.host}:{args.port} -> {args.upstream}", file=sys.stderr)
    # The vendor's own Date and Server headers pass through; uvicorn adds none of its own.
    uvicorn.run(
        create_proxy(settings),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
    )
    return ExitCode.CONFORMS


def _drift(args: argparse.Namespace, console: Console) -> int:
    from conformance.drift import DriftOptions, drift_heading, run_drift

    try:
        (api,) = select(args.api)
    except (UnknownApi, ValueError):
        console.print(f"conformance drift: --api takes one of {', '.join(discover())}", style="red")
        return ExitCode.COULD_NOT_RUN
    options = DriftOptions(
        api=api, har_path=args.har, base_url=args.base_url, target_file=args.target_file, strict=args.strict
    )
    result = run_drift(options, on_progress=lambda message: None)
    result.recording = str(args.har)
    if not result.fatal:
        console.print(drift_heading(options, result))
    print_report(result, console)
    for path, writer in ((args.junit, junit.write), (args.json, json_report.write), (args.html, write_html)):
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
