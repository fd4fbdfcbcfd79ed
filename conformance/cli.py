"""`conformance run`: judge the bundled mock, or any endpoint, against the documented behaviour.

Exit codes: 0 conforms, 1 at least one violation, 2 could not run.
"""

from __future__ import annotations

import argparse
import signal
import sys
from importlib.metadata import version
from pathlib import Path
from types import FrameType

from rich.console import Console

from conformance import recording_cli
from conformance.apis import UnknownApi, discover, select
from conformance.concurrency import DEFAULT_PARALLEL_UPDATES
from conformance.fuzz import DEFAULT_MAX_EXAMPLES
from conformance.reporting import json_report, junit, write_html
from conformance.reporting.console import print_report, print_rules
from conformance.reporting.progress import RunProgress, stages
from conformance.results import ExitCode, Suite
from conformance.rules import rule_matrix, rules_json, rules_markdown
from conformance.run import RunOptions, SuiteChoice, execute, print_plans
from conformance.target import ORG_ID_ENV, TOKEN_ENV


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('contract-mock-kit')}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the conformance suites", description=__doc__)
    run.add_argument("--api", required=True, help=f"one of {', '.join(discover())}, a comma-separated list, or all")
    run.add_argument(
        "--base-url",
        help="API root including any prefix (default: start the bundled mock); with several APIs, the mock's root",
    )
    run.add_argument("--token", help=f"token for the default credentials (default: ${TOKEN_ENV}); never printed")
    run.add_argument("--org-id", help=f"organisation id, for APIs that need one (default: ${ORG_ID_ENV})")
    run.add_argument("--target-file", type=Path, help="TOML or YAML target file (default: fixtures/<api>/target.yaml)")
    run.add_argument("--suite", choices=[choice.value for choice in SuiteChoice], default=SuiteChoice.ALL.value)
    run.add_argument("--max-examples", type=_positive, default=DEFAULT_MAX_EXAMPLES, help="fuzzing depth per operation")
    run.add_argument("--seed", type=int, help="seed for the fuzz suite (default: random, printed at the end)")
    run.add_argument(
        "--rate-limit", metavar="N/min|none",
        help="cap the request rate, e.g. 100/min or 5/s; 'none' switches it off (also rate_limit in the target file; "
        "default: the vendor's documented limit when the target is not the bundled mock)",
    )  # fmt: skip
    run.add_argument(
        "--budget", type=_positive, metavar="N",
        help="send at most N requests in all (pre-flight, reads around writes and restores included); what does not "
        "fit is reported 'not run (budget)' (default off the bundled mock: the vendor's documented daily allowance)",
    )  # fmt: skip
    run.add_argument("--dry-run", action="store_true", help="print the plan (what runs within the budget) and stop")
    run.add_argument(
        "--allow-writes", action="store_true", help="allow changing state on a target that is not the bundled mock"
    )
    run.add_argument(
        "--strict", action="store_true",
        help="also fail (exit 1) on differences from our inferences (x-likely) and from HTTP hygiene (RFC 9110)",
    )  # fmt: skip
    run.add_argument(
        "--allow-creates", action="store_true",
        help="with --allow-writes: also create records the API documents no way to delete (listed at the end)",
    )  # fmt: skip
    run.add_argument("--junit", type=Path, metavar="PATH", help="write a JUnit XML report")
    run.add_argument("--json", type=Path, metavar="PATH", help="write a JSON report")
    run.add_argument("--html", type=Path, metavar="PATH", help="write a single-file HTML report")
    run.add_argument(
        "--parallel-updates", type=_positive, default=DEFAULT_PARALLEL_UPDATES,
        help="partial updates the concurrency check sends at once",
    )  # fmt: skip
    rules = commands.add_parser("rules", help="list the API's documented rules and what checks each (unchecked first)")
    rules.add_argument("--api", required=True, help=f"one of {', '.join(discover())}, a comma-separated list, or all")
    rules.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="how to print them")
    recording_cli.add_commands(commands)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if args.command in recording_cli.COMMANDS:
        return recording_cli.main(args, console)
    try:
        apis = select(args.api)
    except UnknownApi as exc:
        console.print(f"conformance: {exc}", style="red")
        return ExitCode.COULD_NOT_RUN
    if args.command == "rules":
        matrices = {api.name: rule_matrix(api) for api in apis}
        if args.format == "json":
            sys.stdout.write(rules_json(matrices))
        elif args.format == "markdown":
            sys.stdout.write(rules_markdown(matrices))
        else:
            for name, rules in matrices.items():
                print_rules(name, rules, console)
        return 0
    if args.target_file is not None and len(apis) > 1:
        console.print("conformance: --target-file describes one API; use it with a single --api", style="red")
        return ExitCode.COULD_NOT_RUN
    options = RunOptions(
        apis=apis,
        base_url=args.base_url,
        suite=SuiteChoice(args.suite),
        token=args.token,
        org_id=args.org_id,
        target_file=args.target_file,
        max_examples=args.max_examples,
        seed=args.seed,
        allow_writes=args.allow_writes,
        rate_limit=args.rate_limit,
        parallel_updates=args.parallel_updates,
        strict=args.strict,
        allow_creates=args.allow_creates,
        budget=args.budget,
    )
    if args.dry_run:
        return print_plans(options, console)
    # SIGTERM ends the run like Ctrl-C does, so that the records a scenario changed are restored.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        included = [suite for suite in Suite if options.suite.includes(suite)]
        with RunProgress(console, stages([api.name for api in apis], included)) as progress:
            result = execute(options, on_progress=progress)
    except KeyboardInterrupt:
        console.print(
            "conformance: interrupted; the records being changed were written back where the target allowed it "
            "(not verified: run again to check)",
            style="yellow",
        )
        return ExitCode.COULD_NOT_RUN
    print_report(result, console)
    for name, requests in result.requests.items():
        console.print(f"{name}: {requests}", style="dim")
    for path, writer in ((args.junit, junit.write), (args.json, json_report.write), (args.html, write_html)):
        if path is not None:
            writer(result, path)
            console.print(f"report written to {path}", style="dim")
    return int(result.exit_code)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
