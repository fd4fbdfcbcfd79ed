"""`contract-mock serve`: run the mock with uvicorn."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, DEFAULT_TODAY, Settings


def _today(value: str) -> dt.date | None:
    if value == "system":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or 'system', got {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contract-mock", description="Stateful mock of four contract APIs")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api", action="append", default=[], metavar="NAME", help="serve only this API (repeatable)")
    serve.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES_DIR, help="fixtures directory")
    serve.add_argument("--specs", type=Path, default=DEFAULT_SPEC_DIR, help="OpenAPI specs directory")
    serve.add_argument(
        "--admin-token", default=None, help="enable /__admin on non-loopback hosts, guarded by this token"
    )
    serve.add_argument(
        "--today", type=_today, default=DEFAULT_TODAY, help=f"the mock's today, or 'system' (default: {DEFAULT_TODAY})"
    )
    serve.add_argument("--validate-responses", action="store_true", help="check every response against the spec")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn workers (each has its own state)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-access-log", action="store_true")
    _add_proxy_command(commands)
    return parser


def _add_proxy_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    proxy = commands.add_parser(
        "proxy", help="forward to a real vendor, judging every exchange against the spec (docs/PROXY.md)"
    )
    proxy.add_argument("--api", required=True, metavar="NAME", help="the API whose spec judges the exchanges")
    proxy.add_argument("--upstream", required=True, metavar="URL", help="the vendor's base URL")
    proxy.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=8080)
    proxy.add_argument("--record", type=Path, metavar="FILE.har", help="append every exchange to a HAR 1.2 file")
    proxy.add_argument("--errors", action="store_true", help="answer a violating exchange with 502")
    proxy.add_argument(
        "--redact", nargs="+", default=[], metavar="FIELD", help="body members to redact in recordings (a.b.c)"
    )
    proxy.add_argument("--ca-bundle", type=Path, metavar="PEM", help="trust only these CAs for the upstream")
    proxy.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the upstream (default: 30)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "proxy":
        return run_proxy(args)
    settings = Settings(
        host=args.host,
        port=args.port,
        apis=tuple(args.api),
        spec_dir=args.specs,
        fixtures_dir=args.fixtures,
        validate_responses=args.validate_responses,
        admin_token=args.admin_token,
        today=args.today,
    )
    return serve(settings, workers=args.workers, log_level=args.log_level, access_log=not args.no_access_log)


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info", access_log: bool = True) -> int:
    import uvicorn

    from mock_server.app import StartupError, create_app
    from mock_server.fixtures import FixtureError
    from mock_server.http_protocol import CoalescingHttpToolsProtocol
    from mock_server.spec import SpecError

    try:
        app = create_app(settings)
    except (StartupError, SpecError, FixtureError) as exc:
        print(f"contract-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    for name in sorted(settings.apis or app.app.extensions["contract_mock"].vendors):
        print(f"  {name:<10} http://{settings.host}:{settings.port}/{name}/ui/", file=sys.stderr)
    server_options = {
        "host": settings.host, "port": settings.port, "http": CoalescingHttpToolsProtocol,
        "lifespan": "on", "log_level": log_level, "access_log": access_log,
    }  # fmt: skip
    if workers > 1:
        # Each worker builds its own app and its own in-memory state: see README "Workers".
        import os

        os.environ["CONTRACT_MOCK_SETTINGS"] = settings_to_env(settings)
        uvicorn.run("mock_server.asgi:app", workers=workers, **server_options)
        return 0
    uvicorn.run(app, **server_options)
    return 0


def run_proxy(args: argparse.Namespace) -> int:
    import uvicorn

    from conformance.apis import UnknownApi, select
    from mock_server.proxy import ProxySettings, create_proxy

    try:
        (api,) = select(args.api)
    except (UnknownApi, ValueError) as exc:
        print(f"contract-mock proxy: {exc}", file=sys.stderr)
        return 2
    if not args.upstream.startswith(("http://", "https://")):
        print(f"contract-mock proxy: --upstream must be an http(s) URL, got {args.upstream!r}", file=sys.stderr)
        return 2
    if args.ca_bundle is not None and not args.ca_bundle.is_file():
        print(f"contract-mock proxy: --ca-bundle {args.ca_bundle}: no such file", file=sys.stderr)
        return 2
    settings = ProxySettings(
        api=api,
        upstream=args.upstream,
        record=args.record,
        errors=args.errors,
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
    return 0


def settings_to_env(settings: Settings) -> str:
    import json

    return json.dumps(
        {
            "host": settings.host,
            "port": settings.port,
            "apis": list(settings.apis),
            "spec_dir": str(settings.spec_dir),
            "fixtures_dir": str(settings.fixtures_dir),
            "validate_responses": settings.validate_responses,
            "admin_token": settings.admin_token,
            "today": settings.today.isoformat() if settings.today else None,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
