"""`python -m tests.faithful.serve NAME [--upstream URL]`: one WSGI app as a real server on 127.0.0.1.

Binds a free port, prints `PORT <n>` on stdout once it listens, then serves on threads until terminated.
NAME is a faithful implementation (`APPS`) or `proxy` (a pass-through forwarder to `--upstream`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from werkzeug.serving import make_server

HOST = "127.0.0.1"
# name -> module with `create_app() -> WSGI app`
APPS = {
    "elevate": "tests.faithful.elevate_spring.app",
    "abillity": "tests.faithful.abillity_aspnet.app",
    "zoho-desk": "tests.faithful.zoho_gateway.app",
    "revnue": "tests.faithful.revnue_drf.app",
}


def build(name: str, upstream: str | None) -> Any:
    if name == "proxy":
        from tests.faithful.proxy import create_proxy

        if upstream is None:
            raise SystemExit("proxy needs --upstream")
        return create_proxy(upstream)
    return importlib.import_module(APPS[name]).create_app()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faithful.serve")
    parser.add_argument("name", choices=[*APPS, "proxy"])
    parser.add_argument("--upstream")
    arguments = parser.parse_args(argv)
    server = make_server(HOST, 0, build(arguments.name, arguments.upstream), threaded=True)
    print(f"PORT {server.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
