"""`contract-mock serve`: run the mock with uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import socket
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mock_server.config import (
    DEFAULT_FIXTURES_DIR,
    DEFAULT_SPEC_DIR,
    DEFAULT_TODAY,
    SETTINGS_ENV,
    STORE_ENV,
    Settings,
    user_cache_dir,
)


def _today(value: str) -> dt.date | None:
    if value == "system":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or 'system', got {value!r}") from exc


# No vendor API is a WebSocket: uvicorn then does not import a WebSocket implementation at start (cold start).
NO_WEBSOCKETS = "none"
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


class _PrintVersion(argparse.Action):
    """`--version`: the installed version, looked up only when asked (not at every start)."""

    def __init__(self, option_strings: list[str], dest: str, **_: Any) -> None:
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS, help="show the version")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"{parser.prog} {version('contract-mock-kit')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contract-mock", description="Stateful mock of four contract APIs")
    parser.add_argument("--version", action=_PrintVersion)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock over HTTP")
    serve.add_argument("--host", default=Settings.host, help=f"address to bind (default: {Settings.host})")
    serve.add_argument("--port", type=int, default=Settings.port)
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
        help=f"shared state: redis://HOST:PORT/DB or redis-cluster://HOST:PORT (default: in memory; env {STORE_ENV})",
    )
    serve.add_argument(
        "--max-tenants",
        type=_positive,
        default=Settings.max_tenants,
        help="tenants kept; the least recently used goes first",
    )
    serve.add_argument(
        "--tenant-idle-ttl", type=_duration, default=Settings.tenant_idle_ttl_seconds, metavar="DURATION",
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
    inferences.add_argument(
        "--format",
        choices=("text", "markdown", "csv", "json"),
        default="text",
        help="text and markdown (a checklist) wrap at 80 columns; csv and json are one row per inference",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "inferences":
        return print_inferences(args.specs, args.api, args.format)
    settings = settings_from_args(args)
    if args.workers > 1 and settings.store_url is None:
        print(
            f"contract-mock: cannot start: --workers {args.workers} needs a shared store: each worker would keep "
            "its own copy of every tenant's data. Add --store redis://HOST:PORT/DB (or set "
            f"{STORE_ENV}), or use --workers 1.",
            file=sys.stderr,
        )
        return 2
    return serve(settings, workers=args.workers, log_level=args.log_level, access_log=not args.no_access_log)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The one place flags become settings."""
    return Settings(
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
        cache_dir=user_cache_dir(),
    )


WORKER_FACTORY = "mock_server.asgi:create"


def serve(
    settings: Settings,
    *,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
    factory: str = WORKER_FACTORY,
) -> int:
    """Serve until interrupted. With several `workers`, each builds its app by calling `factory` ("module:function",
    taking no argument; the settings reach it through the environment, `Settings.from_environment`)."""
    from mock_server import startup

    with startup.collector_paused():
        from mock_server import _compat

        _compat.defer_unused_imports()  # first: what Connexion imports and serving never uses stays unloaded
        import uvicorn

        from mock_server.app import StartupError, create_app
        from mock_server.engine.spec import SpecError
        from mock_server.state.fixtures import FixtureError
        from mock_server.state.store import StoreUnavailable

        try:
            listener = _listen(settings.host, settings.port, apart=workers > 1 and _compat.workers_listen_apart())
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
        # Each worker builds its own app; the state they share lives in the --store (README "Workers").
        os.environ[SETTINGS_ENV] = settings.to_json()
        options: dict[str, Any] = dict(
            factory=True, host=settings.host, port=settings.port, workers=workers, lifespan="on",
            log_level=log_level, access_log=access_log, ws=NO_WEBSOCKETS,
        )  # fmt: skip
        if not _compat.workers_listen_apart():
            listener.close()  # the address was free a moment ago; uvicorn binds it again for its workers
            uvicorn.run(factory, **options)
            return 0
        with listener, contextlib.suppress(KeyboardInterrupt):  # kept, not listening, while workers listen apart
            _compat.serve_workers(uvicorn.Config(factory, **options))
        return 0
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, lifespan="on", log_level=log_level, access_log=access_log,
        ws=NO_WEBSOCKETS,
    )  # fmt: skip
    from uvicorn.server import Server  # what `uvicorn.Server` names, without uvicorn's command line (cold start)

    Server(config).run(sockets=[listener])
    return 0


def _listen(host: str, port: int, *, apart: bool = False) -> socket.socket:
    """The listening socket, bound before anything is printed: a busy port is one line and exit 2.

    `apart` (workers each listening on a socket of their own): once nothing else holds the port, a socket
    bound to it with SO_REUSEPORT and not listening, which keeps it from other programs meanwhile."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, reuse_port=False)
    if not apart:
        return listener
    listener.close()
    from mock_server import _compat

    return _compat.reuse_port_socket(host, port)


def print_inferences(spec_dir: Path, apis: list[str], output_format: str = "text") -> int:
    """Every inference with the sentence it rests on, one entry each; exit 2 for an API without a spec."""
    from mock_server.inferences import load_inferences, render

    known = sorted(path.stem for path in spec_dir.glob("*.yaml"))
    unknown = sorted(set(apis) - set(known))
    if unknown:
        print(f"contract-mock: unknown API {', '.join(unknown)}; available: {', '.join(known)}", file=sys.stderr)
        return 2
    sys.stdout.write(render(load_inferences(spec_dir, apis), output_format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
