"""The scenarios as pytest items, registered by `conformance.pytest_plugin` once `--conformance-api` is given.

Targets, clients (with the rate cap) and the bundled mock come from `conformance.run`, the pipeline
`conformance run` uses.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from conformance.apis import Api, UnknownApi, select
from conformance.reporting.console import MAX_SHOWN_PER_RULE
from conformance.results import CaseResult, Outcome
from conformance.run import CouldNotRun, RunOptions, SuiteChoice, connect, root_url, target_for
from conformance.scenarios.loader import load_directory
from conformance.scenarios.model import Scenario
from conformance.scenarios.runner import ScenarioSession, run_scenario
from conformance.target import TargetError

STASH_KEY = pytest.StashKey["ConformanceSessions"]()


class ConformanceSessions:
    """One connection per API, made on first use through the run pipeline and closed when pytest finishes."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.stack = ExitStack()
        self.root: str | None = None
        self.root_open = False
        self.sessions: dict[str, ScenarioSession] = {}
        self.tenant = f"pytest-{secrets.token_hex(4)}"

    def options(self, api: Api) -> RunOptions:
        option = self.config.getoption
        return RunOptions(
            apis=[api],
            base_url=option("conformance_base_url"),
            suite=SuiteChoice.SCENARIOS,
            token=option("conformance_token"),
            org_id=option("conformance_org_id"),
            target_file=option("conformance_target_file"),
            allow_writes=bool(option("conformance_allow_writes")),
            rate_limit=option("conformance_rate_limit"),
        )

    def session_for(self, api: Api) -> ScenarioSession:
        if api.name not in self.sessions:
            options = self.options(api)
            if not self.root_open:
                self.root = self.stack.enter_context(root_url(options))
                self.root_open = True
            tenant = self.tenant if options.base_url is None else None
            connection = connect(target_for(api, options, self.root, tenant), options)
            self.stack.callback(connection.close)
            self.sessions[api.name] = connection.scenario_session()
        return self.sessions[api.name]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STASH_KEY] = ConformanceSessions(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    sessions = config.stash.get(STASH_KEY, None)
    if sessions is not None:
        sessions.stack.close()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the scenarios before other plugins filter the items, so that `-k` and `-m` apply to them."""
    names = config.getoption("conformance_api", None)
    if not names:
        return
    try:
        apis = select(names)
    except UnknownApi as exc:
        raise pytest.UsageError(str(exc)) from None
    for api in apis:
        collector = ApiScenarios.from_parent(session, name=f"conformance[{api.name}]", api=api)
        report = session.ihook.pytest_make_collect_report(collector=collector)
        session.ihook.pytest_collectreport(report=report)
        items.extend(node for node in report.result if isinstance(node, pytest.Item))


class ApiScenarios(pytest.Collector):
    def __init__(self, *, api: Api, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.api = api

    def collect(self) -> Iterator[pytest.Item]:
        loaded = load_directory(self.api.scenarios_dir, self.api.name)
        for error in loaded.errors:
            yield InvalidScenarioFile.from_parent(self, name=error.file.name, problem=str(error))
        for scenario in loaded.scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario, scenarios=loaded.scenarios)


class ScenarioFailed(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, scenarios: list[Scenario], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.scenario = scenario
        self.scenarios = scenarios

    def runtest(self) -> None:
        sessions: ConformanceSessions = self.config.stash[STASH_KEY]
        api: Api = self.parent.api  # type: ignore[union-attr]
        try:
            session = sessions.session_for(api)
        except (CouldNotRun, TargetError) as exc:
            pytest.fail(f"could not run: {exc}", pytrace=False)
        failures = len(session.restore_failures)
        result = run_scenario(self.scenario, session)
        for failure in session.restore_failures[failures:]:
            result.outcome = Outcome.FAILED if result.outcome == Outcome.FAILED else Outcome.ERROR
            result.detail = "; ".join(filter(None, [result.detail, failure.detail]))
        result.settle()
        if result.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN):
            pytest.skip(result.detail)
        if result.outcome == Outcome.DIFFERS and not self.config.getoption("conformance_strict"):
            pytest.xfail(describe(result))
        if result.outcome != Outcome.PASSED:
            raise ScenarioFailed(describe(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.scenario.file, 0, f"{self.scenario.id}: {self.scenario.title}"


class InvalidScenarioFile(pytest.Item):
    def __init__(self, *, problem: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.problem = problem

    def runtest(self) -> None:
        pytest.fail(self.problem, pytrace=False)


def describe(result: CaseResult) -> str:
    lines = [f"{result.name}: {result.title}"]
    if result.source:
        lines.append(f"documented in: {result.source}")
    if result.detail:
        lines.append(result.detail)
    for violation in result.violations[:MAX_SHOWN_PER_RULE]:
        lines.append(f"[{violation.evidence.value}] {violation.explanation}")
        if violation.exchange is not None:
            exchange = violation.exchange
            lines.append(f"  {exchange.method} {exchange.url} -> {exchange.status}")
            if exchange.response_body:
                lines.append(f"  {exchange.response_body[:500]}")
    return "\n".join(lines)
