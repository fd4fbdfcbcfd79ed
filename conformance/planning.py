"""The run's plan against one target: its request budget, its rate, and what fits in them.

`conformance run` calls these hooks: `limits_for` once per API (budget and rate: the flags, the
target file, else the vendor's documented limits when the target is not the bundled mock), `plan`
for `--dry-run` and the order of the run, and `not_run` for what does not fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from conformance.apis import Api, Operation
from conformance.boundaries import boundaries, past_limits
from conformance.budget import (
    FUZZ_RESERVE,
    NOT_RUN_BUDGET,
    PREFLIGHT_REQUESTS,
    READS_AROUND_WRITE,
    RESTORE_REQUESTS,
    Budget,
    Plan,
    estimate_record_check,
)
from conformance.invariants import UpdateModel
from conformance.limits import documented_limits, parse_rate
from conformance.results import CaseResult, Outcome, Suite
from conformance.scenarios.model import SAFE_METHODS, Scenario
from conformance.target import Target

FUZZ_UNIT = "fuzzing (what is left)"


def estimate_scenario(api: Api, scenario: Scenario) -> int:
    """Steps, the reads around each write, and a snapshot and restore of every record it may change."""
    cost = 0
    restored = set(scenario.restore)
    for step in scenario.steps:
        cost += 1
        if step.method not in SAFE_METHODS:
            cost += READS_AROUND_WRITE
            if step.method != "POST":
                restored.add(str(step.request["path"]))
    return cost + (1 + RESTORE_REQUESTS) * len(restored)


@dataclass(frozen=True)
class RunLimits:
    budget: int | None  # requests; None: counted, not capped
    rate: str | None  # `100/m`; None: not capped
    budget_source: str
    rate_source: str


def limits_for(target: Target, budget: int | None) -> RunLimits:
    """Flags, then the target file (`rate_limit`), then — off the bundled mock — the documented limits."""
    documented = documented_limits(target.api) if not target.bundled else None
    if target.rate_limit is not None:
        rate, rate_source = parse_rate(target.rate_limit), "--rate-limit or the target file"
    elif documented is not None and documented.rate is not None:
        rate, rate_source = documented.rate, "the vendor's documented rate limit"
    else:
        rate, rate_source = None, "none"
    if budget is not None:
        return RunLimits(budget, rate, "--budget", rate_source)
    if documented is not None and documented.daily_requests is not None:
        return RunLimits(
            documented.daily_requests, rate, "the vendor's smallest documented daily allowance", rate_source
        )
    return RunLimits(None, rate, "none", rate_source)


def plan(
    target: Target,
    limits: RunLimits,
    *,
    scenarios: Sequence[Scenario],
    boundary_operations: Sequence[Operation],
    concurrency_operations: Sequence[Operation],
    parallel_updates: int,
    fuzz: bool,
    writable_records: int,
) -> Plan:
    """Pre-flight, every scenario, the boundary cases, the concurrency check, then fuzzing with what is left."""
    api = target.api
    planned = Plan(api.name, limits.budget, limits.rate)
    planned.add("pre-flight", "target answers as the API", PREFLIGHT_REQUESTS)
    for scenario in scenarios:
        planned.add(Suite.SCENARIOS.value, scenario.id, estimate_scenario(api, scenario))
    if boundary_operations:
        cases = boundary_cases(api, boundary_operations)
        planned.add(
            Suite.BOUNDARIES.value, "boundaries", estimate_record_check(cases, _media_types(boundary_operations))
        )
    if concurrency_operations:
        per_operation = parallel_updates + 1  # the parallel writes and the read after them
        planned.add(
            Suite.CONCURRENCY.value,
            "concurrency",
            estimate_record_check(per_operation * len(concurrency_operations), len(concurrency_operations)),
        )
    if fuzz:
        planned.add(
            Suite.FUZZ.value, "fuzzing (what is left)", writable_records * (1 + RESTORE_REQUESTS) + FUZZ_RESERVE
        )
    return planned


def boundary_cases(api: Api, operations: Sequence[Operation]) -> int:
    """How many requests of boundary cases the boundaries suite sends at most (alternative types counted as if all
    apply; a case past a limit counted twice, for its read-back)."""
    model = UpdateModel(api)
    total = 0
    for operation in operations:
        for media_type in operation.definition.get("requestBody", {}).get("content", {}):
            if model.semantics(operation) == "json-patch":
                compared = model.compared(operation)
                members = {n: s for n, s in model.record_members(operation).items() if n in compared}
            else:
                members = model.request_members(operation, media_type)
            total += 1 + sum(len(list(boundaries(name, schema, 1, api))) for name, schema in members.items())
            # a value past a limit the target accepts is read back once more (whether it kept it)
            total += 2 * sum(len(list(past_limits(name, schema, api))) for name, schema in members.items())
    return total


def _media_types(operations: Sequence[Operation]) -> int:
    return sum(len(operation.definition.get("requestBody", {}).get("content", {})) for operation in operations)


def not_run(api: Api, suite: Suite, name: str, estimate: int, budget: Budget) -> CaseResult:
    return CaseResult(
        api=api.name,
        suite=suite,
        name=name,
        title=name,
        outcome=Outcome.NOT_RUN,
        detail=f"{NOT_RUN_BUDGET}: needs up to {estimate} requests, {budget.left} left of {budget.limit}",
    )


def spent(budget: Budget) -> str:
    of = f" of a budget of {budget.limit}" if budget.limit is not None else ""
    return f"{budget.sent} requests sent{of}, {budget.throttled} answered 429"


def stopped(api: Api, reason: str) -> CaseResult:
    return CaseResult(
        api=api.name, suite=Suite.FUZZ, name="budget", title="budget", outcome=Outcome.NOT_RUN,
        detail=f"{NOT_RUN_BUDGET}: {reason}",
    )  # fmt: skip


def print_plan(planned: Plan, limits: RunLimits, console: Console) -> None:
    budget = f"{limits.budget} requests ({limits.budget_source})" if limits.budget is not None else "no budget"
    rate = f"{limits.rate} ({limits.rate_source})" if limits.rate is not None else "no rate limit"
    table = Table(title=f"Plan for {planned.api}: {budget}, {rate}")
    for column in ("#", "suite", "unit", "requests at most", "runs"):
        table.add_column(column)
    for number, unit in enumerate(planned.units, 1):
        estimate = "the rest" if unit.suite == Suite.FUZZ.value else str(unit.estimate)
        table.add_row(str(number), unit.suite, unit.name, estimate, "yes" if unit.fits else NOT_RUN_BUDGET)
    console.print(table)
    left = planned.left_for_fuzzing
    fits = sum(1 for unit in planned.units if unit.fits)
    console.print(
        f"{fits} of {len(planned.units)} units fit; planned {planned.planned} requests"
        + (f", {left} left for fuzzing" if left is not None else ", fuzzing to its usual depth")
    )
