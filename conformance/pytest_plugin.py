"""pytest plugin: `pytest --conformance-api=zoho-desk [--conformance-base-url=...]` runs the scenarios as items.

Installed as a `pytest11` entry point, so it is loaded in every pytest run of the environment: it
only adds options, and imports the harness (`conformance.pytest_scenarios`, with Schemathesis and the
run pipeline) only once `--conformance-api` is given.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PLUGIN_NAME = "conformance-scenarios"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance scenarios (contract-mock-kit)")
    group.addoption("--conformance-api", help="collect the scenarios of this API (a name, a list, or all)")
    group.addoption("--conformance-base-url", help="API root to test (default: start the bundled mock)")
    group.addoption("--conformance-token", help="token (default: $CONFORMANCE_TOKEN)")
    group.addoption("--conformance-org-id", help="organisation id, where needed (default: $CONFORMANCE_ORG_ID)")
    group.addoption("--conformance-target-file", type=Path, help="target file (default: fixtures/<api>/target.yaml)")
    group.addoption(
        "--conformance-rate-limit", help="cap the request rate, e.g. 100/m (also rate_limit in the target file)"
    )
    group.addoption(
        "--conformance-allow-writes", action="store_true", help="run scenarios that change state on a real target"
    )
    group.addoption(
        "--conformance-strict", action="store_true",
        help="fail on differences from our inferences (x-likely) too; without it they are reported as xfail",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("conformance_api", None) and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        from conformance import pytest_scenarios

        config.pluginmanager.register(pytest_scenarios, PLUGIN_NAME)
