"""Instructions per request of the mock's ASGI app, in process, counted by valgrind's callgrind.

    .venv/bin/python bench/instructions.py [--tree DIR] [--api NAME] [--requests 100]

Unlike CPU time, an instruction count does not depend on what else the machine runs: two source trees
(`--tree DIR`, default this one) are compared exactly, one run each. The requests are the bench's mix
(`mix.py`: read, valid update, invalid update per API), built against a `contract-mock serve` of this
tree; then, under callgrind, `create_app` with every API (as `contract-mock serve` runs it, limits off
as in the bench), each kind warmed up and then counted over `--requests` calls on one tenant per API.
Needs gcc and valgrind's `callgrind.h` (a three-line helper library is compiled into a temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asgi_call import status_of

HELPER = r"""
#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_START_INSTRUMENTATION; }
void zero(void) { CALLGRIND_ZERO_STATS; }
void dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""
WARMUP = 20


def build_helper(directory: Path) -> Path:
    source, library = directory / "cg.c", directory / "libcg.so"
    source.write_text(HELPER)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def build_mixes(apis: list[str]) -> dict[str, list[dict[str, Any]]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from mix import BASE_TOKEN, MixBuilder, Target, auth_scheme

    from launcher.servers import HOST, bundled_mock
    from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
    from mock_server.vendors import discover

    vendors = {name: vendor for name, vendor in discover().items() if not apis or name in apis}
    mixes: dict[str, list[dict[str, Any]]] = {}
    with bundled_mock() as url:
        port = int(url.rsplit(":", 1)[1])
        for name, vendor in vendors.items():
            scheme = auth_scheme(name, DEFAULT_SPEC_DIR)
            mix = MixBuilder(vendor, DEFAULT_SPEC_DIR, DEFAULT_FIXTURES_DIR).build(
                Target(HOST, port, vendor.prefix, scheme)
            )
            calls = {}
            for call in mix.calls:  # one request of each kind
                headers = [("host", f"{HOST}:{port}"), ("authorization", f"{scheme} {BASE_TOKEN}.instructions")]
                headers += [(header.lower(), value) for header, value in call.headers]
                if call.media_type is not None:
                    headers += [("content-type", call.media_type), ("content-length", str(len(call.body)))]
                path, _, query = (vendor.prefix + call.path).partition("?")
                calls.setdefault(
                    call.kind,
                    {"kind": call.kind, "method": call.method, "path": path, "query": query,
                     "headers": headers, "body": call.body.decode("latin-1"), "expect": call.expect},
                )  # fmt: skip
            mixes[name] = list(calls.values())
    return mixes


async def call(app: Any, request: dict[str, Any]) -> int:
    headers = [(name.encode(), value.encode("latin-1")) for name, value in request["headers"]]
    return await status_of(
        app, request["method"], request["path"], headers, request["body"].encode("latin-1"), request["query"]
    )


def child(mixes_file: Path, library: Path, requests: int) -> int:
    sys.path.insert(0, str(Path.cwd()))
    from mock_server.app import create_app
    from mock_server.config import Settings

    helper = ctypes.CDLL(str(library))
    mixes = json.loads(mixes_file.read_text())
    app = create_app(Settings(limits=False))
    gc.freeze()  # as `contract-mock serve` does after start-up

    async def measure() -> None:
        helper.start()
        for api, calls in mixes.items():
            for request in calls:
                statuses = {await call(app, request) for _ in range(WARMUP)}
                helper.zero()
                for _ in range(requests):
                    await call(app, request)
                helper.dump(f"{api}|{request['kind']}".encode())
                if any(status // 100 != request["expect"] for status in statuses):
                    print(f"{api} {request['kind']}: unexpected statuses {sorted(statuses)}", file=sys.stderr)

    asyncio.run(measure())
    return 0


def counts(directory: Path) -> dict[str, int]:
    found = {}
    for dump in directory.glob("callgrind.out.*"):
        text = dump.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.MULTILINE)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if label and total:
            found[label.group(1)] = int(total.group(1))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path.cwd(), help="the source tree to measure")
    parser.add_argument("--api", action="append", default=[])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="copy callgrind's files here (for callgrind_annotate)")
    parser.add_argument("--child", nargs=2, metavar=("MIXES", "LIBRARY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(Path(args.child[0]), Path(args.child[1]), args.requests)
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        library = build_helper(directory)
        mixes_file = directory / "mixes.json"
        mixes_file.write_text(json.dumps(build_mixes(args.api)))
        command = [
            "valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={directory}/callgrind.out.%p",
            sys.executable, str(Path(__file__).resolve()), "--requests", str(args.requests),
            "--child", str(mixes_file), str(library),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(args.tree.resolve())}
        subprocess.run(command, cwd=args.tree, env=env, check=True)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for dump in directory.glob("callgrind.out.*"):
                shutil.copy(dump, args.keep / dump.name)
        for label, total in sorted(counts(directory).items()):
            api, kind = label.split("|")
            print(f"{api:<10} {kind:<15} {total / args.requests / 1000:8.0f} k instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
