"""A quiet, honest command line: `--version`, start-up failures as one line and exit 2, no warnings of ours."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.servers import bundled_mock, free_port, serve_command, start_server, stop_process
from mock_server import _compat

VERSION = version("contract-mock-kit")
READER = {"Authorization": "Bearer dev-token.cli-startup"}


def python_ok(script: str) -> subprocess.CompletedProcess[str]:
    """`script` run by a new interpreter of this environment, which must exit 0."""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("module", "prog"), [("mock_server.cli", "contract-mock"), ("conformance", "conformance")])
def test_version(module: str, prog: str) -> None:
    result = run(module, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{prog} {VERSION}"
    assert result.stderr == ""


def test_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run("mock_server.cli", "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"contract-mock: cannot start: 127.0.0.1:{port}: Address already in use"]


def test_unreachable_store_is_one_line_with_its_reason_and_exit_2() -> None:
    nothing_listens = free_port()
    where = f"127.0.0.1:{nothing_listens}/0"
    result = run(
        "mock_server.cli", "serve", "--port", str(free_port()), "--store", f"redis://127.0.0.1:{nothing_listens}/0"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"contract-mock: cannot start: cannot reach the Redis store at {where}: Connection refused"
    ]


def test_importing_the_mock_warns_about_nothing() -> None:
    """Python's default warning filters, as a user's command has them (pytest's are in tests/test_wheel.py)."""
    result = subprocess.run(
        [sys.executable, "-c", "import mock_server.app, mock_server.cli, mock_server.testing"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_mock_imports_without_the_harness_dependencies() -> None:
    """`pip install contract-mock-kit` (no [conformance] extra) has no Schemathesis nor Hypothesis."""
    blocker = (
        "import sys\n"
        "class NotInstalled:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('schemathesis', 'hypothesis'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, NotInstalled())\n"
        "import mock_server.app, mock_server.cli, mock_server.testing, mock_server.pytest_plugin\n"
        "from mock_server.app import create_app\n"
        "create_app()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('schemathesis', 'hypothesis'))))\n"
    )
    result = python_ok(blocker)
    assert result.stdout.strip() == "[]"


# Imported by Connexion (its package, `connexion.security`, `connexion.json_schema`, its decorators' package,
# Werkzeug's package through `connexion.lifecycle`) or by uvicorn's package, never used to serve
# (mock_server/_compat.py, `defer_unused_imports`), the admin API's Flask app until it is first used
# (mock_server/admin/lazy.py), Jinja2's compiler until a page is first rendered (`pages`,
# `_compat.swagger_ui_templates_on_first_use`). A submodule of each is what its package imports first.
NOT_NEEDED_TO_SERVE = (
    *("starlette.testclient", "httpx._client", "requests.api", "urllib3", "rich", "connexion.apps"),
    *("connexion.decorators.main", "flask", "werkzeug.serving", "werkzeug.test", "uvicorn.main", "click"),
    "jinja2.environment",  # Jinja2's template compiler: Connexion's Swagger UI page, the landing and OAuth pages
    "mock_server.admin.api",
)


def test_serve_answers_without_importing_what_serving_never_uses() -> None:
    """The real command, started as the harness starts it, up to its first 2xx on a read; `-X importtime`
    lists every module the process imported."""
    port = free_port()
    command = serve_command(port)
    with tempfile.TemporaryFile() as log:
        process = start_server([command[0], "-X", "importtime", *command[1:]], log)
        try:
            status = _first_read_status(f"http://127.0.0.1:{port}", process)
        finally:
            stop_process(process)
        log.seek(0)
        imported = {line.rpartition("|")[2].strip() for line in log.read().decode().splitlines()}
    assert status == 200
    assert "connexion.middleware" in imported  # the list is the one of a started mock
    assert sorted(imported & set(NOT_NEEDED_TO_SERVE)) == []


def test_the_admin_api_and_the_landing_page_answer_once_the_vendors_are_served() -> None:
    """The admin API's Flask app, not built at start (mock_server/admin/lazy.py), is built by its first
    request: the landing page lists its routes and its first request is answered."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = start_server(serve_command(port), log)
        try:
            url = f"http://127.0.0.1:{port}"
            assert _first_read_status(url, process) == 200
            landing = httpx.get(url, headers={"Accept": "application/json"}, timeout=10)
            admin = httpx.get(f"{url}/__admin", timeout=10)
            clock = httpx.get(f"{url}/__admin/clock", timeout=10)
        finally:
            stop_process(process)
    assert landing.status_code == 200 and "GET /__admin/clock" in landing.json()["admin"]["endpoints"]
    assert admin.status_code == 200 and "POST /__admin/reset" in admin.json()["endpoints"]
    assert clock.status_code == 200


def test_connexion_httpx_and_requests_work_whole_once_used() -> None:
    """What `defer_unused_imports` left unloaded loads on first use, silently, with one identity."""
    script = (
        "import sys\n"
        "from mock_server import _compat\n"
        "assert _compat.defer_unused_imports()\n"
        "from mock_server.app import create_app\n"
        "create_app()\n"
        "import connexion, httpx, requests\n"
        "from connexion import FlaskApp, AsyncApp\n"
        "from connexion.middleware import ConnexionMiddleware\n"
        "assert connexion.ConnexionMiddleware is ConnexionMiddleware\n"
        "import requests.exceptions\n"
        "assert requests.RequestException is requests.exceptions.RequestException\n"
        "assert httpx.Client is sys.modules['httpx._client'].Client\n"
        "print(FlaskApp.__name__, AsyncApp.__name__, sys.modules['requests'] is requests)\n"
    )
    result = python_ok(script)
    assert result.stdout.split() == ["FlaskApp", "AsyncApp", "True"]
    assert result.stderr == ""


def test_werkzeug_uvicorn_and_connexion_decorators_work_whole_once_used() -> None:
    """Names of a package whose `__init__` only re-exports come from their module alone, the others
    run the `__init__`: one identity either way, and Flask's app (which uses them all) works after."""
    script = (
        "import sys\n"
        "from mock_server import _compat\n"
        "assert _compat.defer_unused_imports()\n"
        "from mock_server.app import create_app\n"
        "create_app()\n"
        "import werkzeug, uvicorn\n"
        "from werkzeug import Request\n"
        "assert 'werkzeug.serving' not in sys.modules and 'uvicorn.main' not in sys.modules\n"
        "assert Request is sys.modules['werkzeug.wrappers'].Request\n"
        "from uvicorn import Config\n"
        "assert Config is sys.modules['uvicorn.config'].Config and uvicorn.__all__[0] == 'main'\n"
        "assert uvicorn.__version__ == sys.modules['uvicorn._version'].__version__\n"
        "assert 'uvicorn.main' not in sys.modules\n"
        "from werkzeug import run_simple\n"
        "assert run_simple is sys.modules['werkzeug.serving'].run_simple\n"
        "assert uvicorn.Server is sys.modules['uvicorn.server'].Server and callable(uvicorn.run)\n"
        "import connexion.decorators\n"
        "from connexion.decorators import FlaskDecorator, StarletteDecorator\n"
        "assert FlaskDecorator is sys.modules['connexion.decorators.main'].FlaskDecorator\n"
        "import flask\n"
        "app = flask.Flask('probe')\n"
        "app.get('/')(lambda: 'ok')\n"
        "print(app.test_client().get('/').text, werkzeug.Request is Request)\n"
    )
    result = python_ok(script)
    assert result.stdout.split() == ["ok", "True"]
    assert result.stderr == ""


def test_a_package_init_that_only_re_exports_is_read_name_by_name(tmp_path: Path) -> None:
    """`_compat.reexports`: what each name of such an `__init__` is; None for any other `__init__`."""
    package = tmp_path / "reexporting"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""Docs."""\nfrom __future__ import annotations\nfrom .one import A as A, B\n'
        "from reexporting.two import C as D\n__all__ = ['A', 'D']\n__version__ = '1.0'\n"
    )
    assert _compat.reexports(_spec_of(package)) == {
        "A": ("reexporting.one", "A"),
        "B": ("reexporting.one", "B"),
        "D": ("reexporting.two", "C"),
        "__all__": ("", ["A", "D"]),
        "__version__": ("", "1.0"),
    }
    for init in (
        "from .one import *\n",  # what it defines is known only once run
        "from os import path\n",  # not its own module
        "import os\n",
        "from .one import A\nA.setting = 1\n",  # a side effect
        "try:\n    from .one import A\nexcept ImportError:\n    A = None\n",
        "from .one import A\nB = A()\n",  # not a constant
    ):
        (package / "__init__.py").write_text(init)
        assert _compat.reexports(_spec_of(package)) is None, init


def _spec_of(package: Path) -> Any:
    return importlib.util.spec_from_file_location(
        package.name, package / "__init__.py", submodule_search_locations=[str(package)]
    )


@pytest.mark.parametrize("distribution", sorted(_compat.CHECKED_VERSIONS))
def test_the_import_workarounds_match_the_installed_versions(distribution: str) -> None:
    """Fails when a library moves past the versions `_compat.CHECKED_VERSIONS` were checked against:
    re-check that serving uses none of what its deferred packages' `__init__` imports, then widen the range."""
    low, high = _compat.CHECKED_VERSIONS[distribution]
    assert low <= _compat._version(version(distribution)) < high


def _first_read_status(url: str, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"{url}/elevate/customer-contracts/1", headers=READER, timeout=5).status_code
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"the mock did not answer (exit status {process.returncode})")


def test_a_websocket_upgrade_is_answered_as_the_plain_request_it_also_is() -> None:
    """No vendor API is a WebSocket (`serve` runs uvicorn with `ws="none"`): the upgrade is ignored, not a 500."""
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
    with bundled_mock() as url:
        plain = httpx.get(f"{url}/elevate/customer-contracts/1", headers=READER, timeout=10)
        upgraded = httpx.get(
            f"{url}/elevate/customer-contracts/1",
            headers={**READER, **upgrade, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
            timeout=10,
        )
    assert (upgraded.status_code, upgraded.json()) == (plain.status_code, plain.json()) == (200, plain.json())


def test_the_collector_is_paused_while_the_app_is_built_and_on_again_after() -> None:
    """`startup.collector_paused` (cold start): what start-up built is frozen, and collection goes on after."""
    script = (
        "import gc\n"
        "from mock_server import startup\n"
        "with startup.collector_paused():\n"
        "    assert not gc.isenabled()\n"
        "    from mock_server.app import create_app\n"
        "    create_app()\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 100_000, gc.get_freeze_count()\n"
        "gc.disable()\n"
        "with startup.collector_paused():\n"
        "    pass\n"
        "print(gc.isenabled())\n"  # a process that had it off keeps it off
    )
    result = python_ok(script)
    assert result.stdout.strip() == "False"
