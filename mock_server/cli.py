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
    serve.add_argument(
        "--limits", choices=("on", "off"), default="on", help="enforce the vendors' documented limits (default: on)"
    )
    serve.add_argument("--faults", type=Path, default=None, metavar="FILE.yaml", help="faults to install at start")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-access-log", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings(
        host=args.host,
        port=args.port,
        apis=tuple(args.api),
        spec_dir=args.specs,
        fixtures_dir=args.fixtures,
        validate_responses=args.validate_responses,
        admin_token=args.admin_token,
        today=args.today,
        limits=args.limits == "on",
        faults_file=args.faults,
    )
    return serve(settings, workers=args.workers, log_level=args.log_level, access_log=not args.no_access_log)


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info", access_log: bool = True) -> int:
    import uvicorn

    from mock_server.app import StartupError, create_app
    from mock_server.fixtures import FixtureError
    from mock_server.spec import SpecError

    try:
        app = create_app(settings)
    except (StartupError, SpecError, FixtureError) as exc:
        print(f"contract-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    for name in sorted(app.state.vendors):
        print(f"  {name:<10} http://{settings.host}:{settings.port}/{name}/ui/", file=sys.stderr)
    if workers > 1:
        # Each worker builds its own app and its own in-memory state: see README "Workers".
        import os

        os.environ["CONTRACT_MOCK_SETTINGS"] = settings_to_env(settings)
        uvicorn.run(
            "mock_server.asgi:app", host=settings.host, port=settings.port, workers=workers,
            lifespan="on", log_level=log_level, access_log=access_log,
        )  # fmt: skip
        return 0
    uvicorn.run(app, host=settings.host, port=settings.port, lifespan="on", log_level=log_level, access_log=access_log)
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
            "limits": settings.limits,
            "faults_file": str(settings.faults_file) if settings.faults_file else None,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
