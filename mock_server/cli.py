"""`contract-mock serve`: run the mock with uvicorn."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
from importlib.metadata import version
from pathlib import Path

from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, DEFAULT_TODAY, Settings

STORE_ENV = "CONTRACT_MOCK_STORE"


def _today(value: str) -> dt.date | None:
    if value == "system":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or 'system', got {value!r}") from exc


_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _duration(value: str) -> float:
    """Seconds, or a number with a unit: 90s, 30m, 24h, 7d."""
    number, unit = (value[:-1], value[-1]) if value[-1:] in _DURATION_UNITS else (value, "s")
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or a duration such as 24h, got {value!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value!r}")
    return seconds


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contract-mock", description="Stateful mock of four contract APIs")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('contract-mock-kit')}")
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
    serve.add_argument(
        "--workers", type=_positive, default=1, help="uvicorn worker processes (more than 1 needs --store redis://…)"
    )
    serve.add_argument(
        "--store",
        default=os.environ.get(STORE_ENV) or None,
        metavar="URL",
        help=f"shared state: redis://HOST:PORT/DB (default: in memory; env {STORE_ENV})",
    )
    serve.add_argument(
        "--max-tenants", type=_positive, default=10_000, help="tenants kept; the least recently used goes first"
    )
    serve.add_argument(
        "--tenant-idle-ttl", type=_duration, default=86_400.0, metavar="DURATION",
        help="a tenant unused this long starts again from the seed (seconds, or 30m, 24h…; default 24h)",
    )  # fmt: skip
    serve.add_argument(
        "--limits", choices=("on", "off"), default="on", help="enforce the vendors' documented limits (default: on)"
    )
    serve.add_argument("--faults", type=Path, default=None, metavar="FILE.yaml", help="faults to install at start")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-access-log", action="store_true")
    inferences = commands.add_parser(
        "inferences", help="list what the specs infer (x-likely), for a partner to confirm with the vendor"
    )
    inferences.add_argument("--api", action="append", default=[], metavar="NAME", help="only this API (repeatable)")
    inferences.add_argument("--specs", type=Path, default=DEFAULT_SPEC_DIR, help="OpenAPI specs directory")
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
    if args.command == "inferences":
        return print_inferences(args.specs, args.api)
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
        store_url=args.store,
        max_tenants=args.max_tenants,
        tenant_idle_ttl_seconds=args.tenant_idle_ttl,
        limits=args.limits == "on",
        faults_file=args.faults,
    )
    if args.workers > 1 and settings.store_url is None:
        print(
            f"contract-mock: cannot start: --workers {args.workers} needs a shared store: each worker would keep "
            "its own copy of every tenant's data. Add --store redis://HOST:PORT/DB (or set "
            f"{STORE_ENV}), or use --workers 1.",
            file=sys.stderr,
        )
        return 2
    return serve(settings, workers=args.workers, log_level=args.log_level, access_log=not args.no_access_log)


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info", access_log: bool = True) -> int:
    import uvicorn

    from mock_server.app import StartupError, create_app
    from mock_server.engine.spec import SpecError
    from mock_server.state.fixtures import FixtureError
    from mock_server.state.store import StoreUnavailable

    try:
        listener = _listen(settings.host, settings.port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"contract-mock: cannot start: {settings.host}:{settings.port}: {reason}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except (StartupError, SpecError, FixtureError, StoreUnavailable) as exc:
        listener.close()
        print(f"contract-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    for name in sorted(app.state.vendors):
        print(f"  {name:<10} http://{settings.host}:{settings.port}/{name}/ui/", file=sys.stderr)
    if workers > 1:
        listener.close()  # the address was free a moment ago; uvicorn binds it again for its workers
        # Each worker builds its own app; the state they share lives in the --store (README "Workers").
        os.environ["CONTRACT_MOCK_SETTINGS"] = settings_to_env(settings)
        uvicorn.run(
            "mock_server.asgi:app", host=settings.host, port=settings.port, workers=workers,
            lifespan="on", log_level=log_level, access_log=access_log,
        )  # fmt: skip
        return 0
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, lifespan="on", log_level=log_level, access_log=access_log
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed: a busy port is one line and exit 2."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, reuse_port=False)


def print_inferences(spec_dir: Path, apis: list[str]) -> int:
    """A table of every inference with the sentence it rests on; exit 2 for an API without a spec."""
    from rich.console import Console
    from rich.table import Table

    from mock_server.inferences import load_inferences

    known = sorted(path.stem for path in spec_dir.glob("*.yaml"))
    unknown = sorted(set(apis) - set(known))
    if unknown:
        print(f"contract-mock: unknown API {', '.join(unknown)}; available: {', '.join(known)}", file=sys.stderr)
        return 2
    found = load_inferences(spec_dir, apis)
    table = Table(title=f"{len(found)} inferences to confirm with the vendors", show_lines=True)
    for column in ("API", "where in the spec", "inference", "rests on"):
        table.add_column(column, overflow="fold")
    for inference in found:
        table.add_row(inference.api, inference.where, inference.claim, inference.source or "[red]no source[/red]")
    Console().print(table)
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
            "store_url": settings.store_url,
            "max_tenants": settings.max_tenants,
            "tenant_idle_ttl_seconds": settings.tenant_idle_ttl_seconds,
            "limits": settings.limits,
            "faults_file": str(settings.faults_file) if settings.faults_file else None,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
