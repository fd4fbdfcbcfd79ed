"""A request budget for one run, and the plan that spends it.

Every request the harness sends goes through `Budget.take` (the HTTP client and the fuzzer's
`before_call` hook both meter the active budget), so none is sent beyond the limit. The run is
planned in order of what a team most needs to know: the pre-flight, every scenario, the boundary
cases, the concurrency check, then fuzzing with what is left. A unit starts only when the most it
can cost (`estimate_*`, an upper bound: reads around writes and restores included) fits in what is
left; otherwise it is reported "not run (budget)".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from schemathesis.core.result import Ok

NOT_RUN_BUDGET = "not run (budget)"
PREFLIGHT_REQUESTS = 3  # a known record, an unknown one, and one spare for a 429 retry
# A write the harness watches is read before and after; a restore reads, writes, and reads again.
READS_AROUND_WRITE = 2
RESTORE_REQUESTS = 3
# The fuzzer stops while this much is left: one case in flight, the reads around it, and a restore per record.
FUZZ_RESERVE = 1 + READS_AROUND_WRITE + RESTORE_REQUESTS * 2
FUZZ_PROBES = 2  # the fuzzer's probing phase, before any case: requests the budget can only count afterwards


class BudgetExhausted(Exception):
    """A request would go beyond the budget: it is not sent."""


@dataclass
class Budget:
    """At most `limit` requests (None: no limit, only counted)."""

    limit: int | None = None
    sent: int = 0
    refused: int = 0  # requests not sent because the budget was spent
    throttled: int = 0  # 429 answers received (each one counted as sent)
    waiting_until: float | None = None  # monotonic time a Retry-After wait ends, while one lasts
    fuzz_calls: int = 0  # the fuzzer's requests metered so far
    fuzz_interactions: int = 0  # the fuzzer's requests as its own records show them
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.sent, 0)

    def fits(self, requests: int) -> bool:
        left = self.left
        return left is None or requests <= left

    def take(self, requests: int = 1) -> None:
        with self._lock:
            if self.limit is not None and self.sent + requests > self.limit:
                self.refused += requests
                raise BudgetExhausted(f"the budget of {self.limit} requests is spent ({self.sent} sent)")
            self.sent += requests


_active: Budget | None = None
_active_lock = threading.Lock()


def active() -> Budget | None:
    """The budget every request of the harness is metered against, while a run has one."""
    return _active


@contextmanager
def metering(budget: Budget) -> Iterator[Budget]:
    global _active
    with _active_lock:
        previous, _active = _active, budget
    try:
        yield budget
    finally:
        with _active_lock:
            _active = previous


def fuzz_may_send() -> bool:
    """Whether the fuzzer may send one more case: the reads around it and the restores still fit."""
    metered = active()
    return metered is None or metered.fits(FUZZ_RESERVE)


def before_fuzz_call() -> None:
    """The fuzzer's `before_call`: meter the case, or refuse it when it would eat into the reserve."""
    metered = active()
    if metered is None:
        return
    if not fuzz_may_send():
        raise BudgetExhausted(f"fuzzing stopped with {metered.left} requests left for reads and restores")
    metered.take()
    metered.fuzz_calls += 1


def fuzz_answered(interactions: int) -> None:
    """After each of the fuzzer's scenarios: count what it sent besides its cases (checks' probes, recorded
    as interactions but never passed through `before_call`), so that the count is what the target received."""
    metered = active()
    if metered is None:
        return
    with metered._lock:
        metered.fuzz_interactions += interactions
        unmetered = metered.fuzz_interactions - metered.fuzz_calls
        if unmetered > 0:
            metered.sent += unmetered
            metered.fuzz_calls += unmetered


def fuzz_probed(payload: object) -> None:
    """Count the requests of the fuzzer's probing phase (it sends them before any case, past `before_call`)."""
    metered = active()
    if metered is None or not isinstance(payload, Ok):
        return
    probes = getattr(payload.ok(), "probes", None) or []  # other phases' payloads have none
    sent = sum(1 for probe in probes if getattr(probe, "response", None) is not None)
    with metered._lock:
        metered.sent += sent


def is_budget_error(error: BaseException) -> bool:
    """Whether an error the fuzzer reports is the budget refusing a case (possibly inside a group)."""
    if isinstance(error, BudgetExhausted):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(is_budget_error(inner) for inner in error.exceptions)
    cause = error.__cause__ or error.__context__
    return cause is not None and is_budget_error(cause)


def limited() -> bool:
    metered = active()
    return metered is not None and metered.limit is not None


# --- upper bounds of what each unit can cost ---------------------------------------------------


def estimate_record_check(cases: int, operations: int) -> int:
    """Boundaries or concurrency: a snapshot per operation, each case, and a restore after each."""
    return operations * (1 + RESTORE_REQUESTS) + cases * (1 + RESTORE_REQUESTS)


@dataclass(frozen=True)
class PlannedUnit:
    suite: str
    name: str
    estimate: int  # requests at most; 0 for fuzzing, which takes what is left
    fits: bool


@dataclass
class Plan:
    """What a run will send, in order, and what does not fit."""

    api: str
    budget: int | None
    rate: str | None
    units: list[PlannedUnit] = field(default_factory=list)

    def add(self, suite: str, name: str, estimate: int) -> PlannedUnit:
        spent = sum(unit.estimate for unit in self.units if unit.fits)
        unit = PlannedUnit(suite, name, estimate, self.budget is None or spent + estimate <= self.budget)
        self.units.append(unit)
        return unit

    @property
    def planned(self) -> int:
        return sum(unit.estimate for unit in self.units if unit.fits)

    @property
    def left_for_fuzzing(self) -> int | None:
        return None if self.budget is None else max(self.budget - self.planned, 0)
