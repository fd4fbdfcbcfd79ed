"""One conformance run: for each API, resolve the target, check it answers, run the suites, collect."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from rich.console import Console

from conformance import fanout, planning, preflight
from conformance.apis import Api, Operation
from conformance.boundaries import BoundaryRun
from conformance.budget import Budget, BudgetExhausted, Plan, metering
from conformance.concurrency import DEFAULT_PARALLEL_UPDATES, ConcurrencyCheck
from conformance.fuzz import DEFAULT_MAX_EXAMPLES, FuzzOptions, run_fuzz
from conformance.http import Client, RateCap, TargetUnreachable
from conformance.invariants import UpdateModel
from conformance.limits import RateLimitError
from conformance.reporting.progress import finished
from conformance.restore import RESTORE, Ledger, RestoreError, Restorer, Snapshot
from conformance.results import CaseResult, ExitCode, Outcome, RunResult, Suite, Unrestored
from conformance.scenarios.loader import load_directory
from conformance.scenarios.model import Scenario
from conformance.scenarios.runner import ScenarioSession, run_scenario
from conformance.target import Redactor, Target, TargetError, resolve_target
from launcher.servers import MockStartError, bundled_mock

Progress = Callable[[str], None]


class SuiteChoice(StrEnum):
    FUZZ = "fuzz"
    SCENARIOS = "scenarios"
    BOUNDARIES = "boundaries"
    CONCURRENCY = "concurrency"
    ALL = "all"

    def includes(self, suite: Suite) -> bool:
        return self == SuiteChoice.ALL or self.value == suite.value


@dataclass(frozen=True)
class RunOptions:
    apis: list[Api]
    base_url: str | None = None  # None: start the bundled mock
    suite: SuiteChoice = SuiteChoice.ALL
    token: str | None = None
    org_id: str | None = None
    target_file: Path | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    allow_writes: bool = False
    rate_limit: str | None = None
    parallel_updates: int = DEFAULT_PARALLEL_UPDATES
    budget: int | None = None  # requests; default: the vendor's documented allowance off the bundled mock
    strict: bool = False  # differences from our inferences and from HTTP hygiene fail the run too
    allow_creates: bool = False  # create records the API documents no way to delete


class CouldNotRun(Exception):
    """Nothing can be judged: a bad target file, a target that does not answer, credentials refused."""


def execute(options: RunOptions, *, on_progress: Progress = lambda message: None) -> RunResult:
    """Run the chosen suites against the target, or against the bundled mock when no base URL is given."""
    started = time.monotonic()
    seed = options.seed if options.seed is not None else secrets.randbits(64)
    cases: list[CaseResult] = []
    targets: dict[str, str] = {}
    not_run: list[str] = []
    requests: dict[str, str] = {}
    aftermath = Aftermath()
    outcomes: list[ApiOutcome] = []
    workers = fanout.Workers(side_by_side(options))
    try:
        # The workers' interpreters start while the bundled mock does.
        with workers, root_url(options, on_progress) as root:
            tenant = f"conformance-{secrets.token_hex(4)}" if options.base_url is None else None
            jobs = [ApiJob(portable.apis[index], portable, root, tenant, seed)
                    for index, portable in enumerate(_portable(options) for _ in options.apis)]  # fmt: skip
            outcomes = workers.run(judge_api, jobs, on_progress=on_progress)
    except CouldNotRun as exc:
        not_run = [str(exc)]
    for api, outcome in zip(options.apis, outcomes, strict=False):
        if outcome.target_url is not None:
            targets[api.name] = outcome.target_url
        if outcome.not_run is not None:
            not_run.append(outcome.not_run)
        if outcome.spent is not None:
            requests[api.name] = outcome.spent
        cases.extend(outcome.cases)
        aftermath.unrestored.extend(outcome.aftermath.unrestored)
        aftermath.created.extend(outcome.aftermath.created)
    for case in cases:
        case.settle()
    # One API that cannot be reached is an error among the results; none reachable means nothing was judged.
    fatal = "; ".join(not_run) if len(not_run) >= len(options.apis) or not cases else ""
    return RunResult(
        cases=cases, duration=time.monotonic() - started, targets=targets, seed=seed, fatal=fatal,
        requests=requests, strict=options.strict, unrestored=aftermath.unrestored, created=aftermath.created,
    )  # fmt: skip


@dataclass(frozen=True)
class ApiJob:
    """One API's share of a run: what a worker process is sent to judge it."""

    api: Api
    options: RunOptions
    root: str | None  # the bundled mock's root, None for the target the options name
    tenant: str | None
    seed: int


@dataclass
class ApiOutcome:
    """What judging one API gave: its results, where it was judged, the requests it took, what it left."""

    cases: list[CaseResult]
    target_url: str | None = None
    spent: str | None = None
    not_run: str | None = None  # why the API could not be judged
    aftermath: Aftermath = field(default_factory=lambda: Aftermath())


def judge_api(job: ApiJob, on_progress: Progress) -> ApiOutcome:
    """Every chosen suite against one API (in a worker process when APIs are judged side by side)."""
    outcome = ApiOutcome(cases=[])
    spent: dict[str, str] = {}
    try:
        target = target_for(job.api, job.options, job.root, job.tenant)
        outcome.target_url = target.base_url
        outcome.cases = run_api(
            target, job.options, seed=job.seed, on_progress=on_progress, spent=spent, aftermath=outcome.aftermath
        )
    except (CouldNotRun, TargetError, RateLimitError) as exc:
        outcome.not_run = str(exc)
        outcome.cases = [_not_run(job.api, str(exc))]
    outcome.spent = spent.get(job.api.name)
    on_progress(finished(job.api.name))
    return outcome


def side_by_side(options: RunOptions) -> int:
    """How many worker processes judge the APIs side by side (0: one after the other, in this process).

    Only on the bundled mock, one per core: every API and every suite of it works in tenants of its
    own there, and the mock keeps no state across tenants or APIs and enforces no limits, so no API's
    requests can change what another's read. Which worker judges which API depends only on their
    order (`fanout.shares`), so a seed repeats the run exactly. Any other target is judged one API
    after the other, within its budget and rate limit, as a partner's records, limits and ordering
    require.
    """
    if options.base_url is not None or len(options.apis) < 2 or fanout.cores() < 2:
        return 0
    return min(fanout.cores(), len(options.apis))


def _portable(options: RunOptions) -> RunOptions:
    """The options as a worker process receives them: each API without what this process has read of it."""
    return replace(options, apis=[replace(api) for api in options.apis])


@dataclass
class Aftermath:
    """What a run leaves on a target: records it could not put back, records it created and kept."""

    unrestored: list[Unrestored] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def print_plans(options: RunOptions, console: Console) -> int:
    """`--dry-run`: each API's plan, without sending a request."""
    root = "http://127.0.0.1:0" if options.base_url is None else None
    try:
        for api in options.apis:
            target = target_for(api, options, root, "dry-run" if root else None)
            scenarios = _load_scenarios(api)[0] if options.suite.includes(Suite.SCENARIOS) else []
            limits, run_plan = plan_for(target, options, scenarios)
            planning.print_plan(run_plan, limits, console)
    except (TargetError, RateLimitError) as exc:
        console.print(f"conformance: {exc}", style="red")
        return ExitCode.COULD_NOT_RUN
    return ExitCode.CONFORMS


def _not_run(api: Api, reason: str) -> CaseResult:
    return CaseResult(
        api=api.name, suite=Suite.SCENARIOS, name="target", title="target", outcome=Outcome.ERROR, detail=reason
    )


@contextmanager
def root_url(options: RunOptions, on_progress: Progress = lambda message: None) -> Iterator[str | None]:
    """The bundled mock's root while the context is open (None when a base URL is given)."""
    if options.base_url is not None:
        yield None
        return
    on_progress("starting the bundled mock")
    try:
        with bundled_mock() as url:
            yield url
    except (OSError, MockStartError) as exc:
        raise CouldNotRun(f"cannot start the bundled mock: {exc}") from exc


def target_for(api: Api, options: RunOptions, root: str | None, tenant: str | None) -> Target:
    if root is not None:
        base_url, bundled = f"{root}/{api.name}", True
    elif len(options.apis) > 1:
        # Only the mock serves several APIs from one root: each under its own prefix.
        base_url, bundled = f"{(options.base_url or '').rstrip('/')}/{api.name}", False
    else:
        base_url, bundled = options.base_url or "", False
    return resolve_target(
        api,
        base_url=base_url,
        bundled=bundled,
        target_file=options.target_file,
        token=options.token,
        org_id=options.org_id,
        rate_limit=options.rate_limit,
        tenant=tenant,
    )


@dataclass
class ApiConnection:
    """What every suite of one API shares: the target, its redactor, rate cap and client, and the scenarios."""

    target: Target
    client: Client
    redactor: Redactor
    rate_cap: RateCap | None
    writes_allowed: bool
    scenarios: list[Scenario]
    invalid_scenarios: list[CaseResult]
    budget: Budget
    plan: Plan
    ledger: Ledger | None = None  # first reads of every record written, on a target that is not the bundled mock
    allow_creates: bool = False

    def scenario_session(self) -> ScenarioSession:
        return ScenarioSession(
            self.target, self.client, self.writes_allowed, ledger=self.ledger, allow_creates=self.allow_creates
        )

    def close(self) -> None:
        self.client.close()


def connect(target: Target, options: RunOptions) -> ApiConnection:
    """Load the scenarios, build the client (with the rate cap) and check that the target answers."""
    scenarios, invalid = _load_scenarios(target.api) if options.suite.includes(Suite.SCENARIOS) else ([], [])
    redactor = Redactor(frozenset(target.secrets(_auth_variables(scenarios))))
    limits, run_plan = plan_for(target, options, scenarios)
    rate_cap = RateCap(limits.rate) if limits.rate else None
    client = Client(target.base_url, redactor=redactor, rate_cap=rate_cap)
    budget = Budget(limits.budget)
    writes_allowed = target.bundled or options.allow_writes
    connection = ApiConnection(
        target, client, redactor, rate_cap, writes_allowed, scenarios, invalid, budget, run_plan,
        ledger=Ledger() if writes_allowed and not target.bundled else None,
        allow_creates=target.bundled or options.allow_creates,
    )  # fmt: skip
    try:
        with metering(budget):
            known = (
                target.record_ids[0] if target.record_ids else example_record_id(target.api) if target.bundled else None
            )
            preflight.check(target, client, known)
    except preflight.PreflightFailed as exc:
        connection.close()
        raise CouldNotRun(str(exc)) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def plan_for(target: Target, options: RunOptions, scenarios: list[Scenario]) -> tuple[planning.RunLimits, Plan]:
    """The run's budget and rate, and what it will send in them (`--dry-run` prints it)."""
    limits = planning.limits_for(target, options.budget)
    writes_allowed = target.bundled or options.allow_writes
    record_checks = _one_member_writes(target.api) if writes_allowed else []
    run_plan = planning.plan(
        target,
        limits,
        scenarios=scenarios,
        boundary_operations=record_checks if options.suite.includes(Suite.BOUNDARIES) else [],
        concurrency_operations=record_checks if options.suite.includes(Suite.CONCURRENCY) else [],
        parallel_updates=options.parallel_updates,
        fuzz=options.suite.includes(Suite.FUZZ),
        writable_records=len(_writable_record_paths(target)) if writes_allowed and not target.bundled else 0,
    )
    return limits, run_plan


def run_api(
    target: Target,
    options: RunOptions,
    *,
    seed: int,
    on_progress: Progress,
    spent: dict[str, str] | None = None,
    aftermath: Aftermath | None = None,
) -> list[CaseResult]:
    connection = connect(target, options)
    if spent is not None:
        spent[target.api.name] = planning.spent(connection.budget)
    results = connection.invalid_scenarios
    restore_failures: list[CaseResult] = []
    session: ScenarioSession | None = None
    ledger = connection.ledger
    try:
        with metering(connection.budget):
            session, restore_failures = _run_suites(connection, options, results, seed=seed, on_progress=on_progress)
    except BudgetExhausted as exc:  # an estimate fell short: nothing more is sent
        results.append(planning.stopped(target.api, str(exc)))
    finally:
        if ledger is not None and aftermath is not None:
            aftermath.unrestored.extend(_unrestored(target, connection.client, ledger))
        if session is not None and aftermath is not None and not target.bundled:
            aftermath.created.extend(f"{target.api.name}: {path}" for path in session.created)
        connection.close()
        if spent is not None:
            spent[target.api.name] = planning.spent(connection.budget)
    if ledger is not None:
        # On a partner's target, what could not be put back is judged once, by reading every record again.
        return [result for result in results if result.title != RESTORE]
    # Every finding is kept; records that could not be written back are errors listed after them.
    return results + restore_failures


def _unrestored(target: Target, client: Client, ledger: Ledger) -> list[Unrestored]:
    """Every record the run wrote to, read again and compared with its first read."""
    headers = {**target.headers, **target.credentials.headers()}
    try:
        differences = Restorer(target.api, client, ledger).differences(headers, target.base_url)
    except TargetUnreachable as exc:
        return [
            Unrestored(target.api.name, path, {}, "", reason=f"cannot read it again: {exc}")
            for path in ledger.first_reads
        ]
    return [
        Unrestored(target.api.name, difference.path, difference.members, difference.request,
                   reason=ledger.failures.get(difference.path, ""))
        for difference in differences
    ]  # fmt: skip


def _run_suites(
    connection: ApiConnection, options: RunOptions, results: list[CaseResult], *, seed: int, on_progress: Progress
) -> tuple[ScenarioSession | None, list[CaseResult]]:
    """Scenarios, boundaries, concurrency, then fuzzing, each unit only if it fits in the budget left."""
    target, client, budget = connection.target, connection.client, connection.budget
    api = target.api
    estimates = {(unit.suite, unit.name): unit.estimate for unit in connection.plan.units}
    restore_failures: list[CaseResult] = []
    session: ScenarioSession | None = None
    if options.suite.includes(Suite.SCENARIOS):
        session = connection.scenario_session()
        for scenario in connection.scenarios:
            on_progress(f"scenarios {api.name}: {scenario.id}")
            cost = planning.estimate_scenario(api, scenario)
            if not budget.fits(cost):
                results.append(planning.not_run(api, Suite.SCENARIOS, scenario.id, cost, budget))
                continue
            results.append(run_scenario(scenario, session))
        restore_failures = session.restore_failures
    for suite in (Suite.BOUNDARIES, Suite.CONCURRENCY):
        if options.suite.includes(suite):
            on_progress(f"{suite.value} {api.name}")
            cost = estimates.get((suite.value, suite.value), 0)
            if not budget.fits(cost):
                results.append(planning.not_run(api, suite, suite.value, cost, budget))
                continue
            results.extend(_record_checks(suite, target, client, options, connection.writes_allowed, connection.ledger))
    fuzz_cost = estimates.get((Suite.FUZZ.value, planning.FUZZ_UNIT), 0)
    if options.suite.includes(Suite.FUZZ) and not budget.fits(fuzz_cost):
        results.append(planning.not_run(api, Suite.FUZZ, planning.FUZZ_UNIT, fuzz_cost, budget))
    elif options.suite.includes(Suite.FUZZ):
        results.extend(
            _fuzz_restoring(
                _fuzz_target(target),
                FuzzOptions(seed=seed, max_examples=options.max_examples),
                client=client,
                writes_allowed=connection.writes_allowed,
                redactor=connection.redactor,
                rate_cap=connection.rate_cap,
                on_progress=on_progress,
                ledger=connection.ledger,
            )
        )
    return session, restore_failures


def _record_checks(
    suite: Suite, target: Target, client: Client, options: RunOptions, writes_allowed: bool, ledger: Ledger | None
) -> list[CaseResult]:
    """Boundary acceptance cases or the concurrency check, on one writable record of each write operation."""
    operations = _one_member_writes(target.api)
    record = target.record_ids[0] if target.record_ids else (example_record_id(target.api) if target.bundled else None)
    reason = (
        "changes state: run with --allow-writes to include it"
        if not writes_allowed
        else "the target file lists no record_ids"
        if record is None
        else ""
    )
    if reason or not operations:
        return [
            CaseResult(
                api=target.api.name, suite=suite, name=suite.value, title=suite.value, outcome=Outcome.NOT_RUN,
                detail=reason or "the spec declares no write with `x-update` whose record can be read back",
            )
        ]  # fmt: skip
    tenant_target = _fuzz_target(target, suite.value)
    headers = {**target.headers, **tenant_target.credentials.headers()}
    paths = [(operation, fill_path(operation.path, operation.path_parameters, record)) for operation in operations]
    if suite == Suite.BOUNDARIES:
        return BoundaryRun(target.api, client, headers, ledger).run(paths)
    check = ConcurrencyCheck(target.api, client, headers, parallel=options.parallel_updates, ledger=ledger)
    return [check.run(operation, path) for operation, path in paths]


def _one_member_writes(api: Api) -> list[Operation]:
    """Writes that can change one member alone (a replacement cannot) of a record that can be read back."""
    model = UpdateModel(api)
    return [op for op in api.operations() if model.checked(op) and model.semantics(op) in ("partial", "json-patch")]


def example_record_id(api: Api) -> object | None:
    """The record the spec's examples name: the example of the read operation's path parameter."""
    operation = api.record_read()
    for parameter in operation.parameters if operation is not None else ():
        if parameter.get("in") == "path" and "example" in parameter:
            example: object = parameter["example"]
            return example
    return None


def _fuzz_target(target: Target, name: str = "fuzz") -> Target:
    """On the bundled mock, fuzzing writes in a tenant of its own, away from the scenarios'."""
    return replace(target, credentials=target.credentials.for_tenant(f"{target.credentials.tenant}-{name}"))


def _load_scenarios(api: Api) -> tuple[list[Scenario], list[CaseResult]]:
    """The API's valid scenarios, and an error result for each file that cannot be used."""
    if not api.scenarios_dir.is_dir():
        return [], []
    loaded = load_directory(api.scenarios_dir, api.name)
    invalid = [
        CaseResult(
            api=api.name,
            suite=Suite.SCENARIOS,
            name=error.file.name,
            title="invalid scenario file",
            outcome=Outcome.ERROR,
            detail=str(error),
        )
        for error in loaded.errors
    ]
    return loaded.scenarios, invalid


def _auth_variables(scenarios: list[Scenario]) -> set[str]:
    return {
        str(step.request["auth"])
        for scenario in scenarios
        for step in scenario.steps
        if step.request.get("auth") not in (None, "none", "default")
    }


def check_reachable(target: Target, client: Client) -> None:
    """One read, before anything else: the target must answer and must accept the credentials."""
    operation = target.api.record_read()
    if operation is None:
        return
    path = fill_path(operation.path, operation.path_parameters, target.record_ids[0] if target.record_ids else 1)
    try:
        response = client.send("GET", path, headers={**target.headers, **target.credentials.headers()})
    except TargetUnreachable as exc:
        raise CouldNotRun(f"{target.api.name}: the target does not answer: {exc}") from exc
    if response.status_code in (401, 403):
        raise CouldNotRun(
            f"{target.api.name}: the target refuses the credentials (GET {path} answered {response.status_code}): "
            "check --token, and --org-id where the API needs one"
        )


def _fuzz_restoring(
    target: Target,
    fuzz_options: FuzzOptions,
    *,
    client: Client,
    writes_allowed: bool,
    redactor: Redactor,
    rate_cap: RateCap | None,
    on_progress: Progress,
    ledger: Ledger | None = None,
) -> list[CaseResult]:
    """Fuzz, and on a real target write back every record the allowed writes may have changed."""
    restorer = Restorer(target.api, client, ledger)
    headers = {**target.headers, **target.credentials.headers()}
    snapshots: list[Snapshot] = []
    if not target.bundled and writes_allowed:
        for path in _writable_record_paths(target):
            snapshot = restorer.snapshot(path, headers)
            if snapshot is not None:
                snapshots.append(snapshot)
    results: list[CaseResult] = []
    # Members empty now that no write could empty again are left alone (aBILLity: null means "not sent").
    protected = frozenset().union(*(restorer.unclearable(s.path, s.record) for s in snapshots))
    try:
        results = run_fuzz(
            target,
            replace(fuzz_options, protected=protected),
            writes_allowed=writes_allowed,
            redactor=redactor,
            rate_cap=rate_cap,
            on_progress=on_progress,
        )
    finally:
        # Every result is kept: a failed restore is one more error, listed after them.
        for snapshot in snapshots:
            try:
                restorer.restore(snapshot, headers)
            except (RestoreError, TargetUnreachable) as exc:
                results.append(
                    CaseResult(
                        api=target.api.name, suite=Suite.FUZZ, name=f"restore {snapshot.path}", title=RESTORE,
                        outcome=Outcome.ERROR, detail=f"fuzzing changed {snapshot.path} and restoring it failed: {exc}",
                    )
                )  # fmt: skip
    return results


def _writable_record_paths(target: Target) -> list[str]:
    """Where fuzzing may write: the write operations' paths, for the first of the target's record ids."""
    if not target.record_ids:
        return []
    paths = []
    for operation in target.api.operations():
        if operation.method in ("PUT", "PATCH") and target.api.operation_for("GET", operation.path):
            path = fill_path(operation.path, operation.path_parameters, target.record_ids[0])
            if path not in paths:
                paths.append(path)
    return paths


def fill_path(template: str, names: list[str], value: object) -> str:
    for name in names:
        template = template.replace(f"{{{name}}}", str(value))
    return template
