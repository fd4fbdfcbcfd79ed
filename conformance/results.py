"""What a run found, in the shape every report reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the target departs from documented behaviour
    ERROR = "error"  # the harness could not judge (unreachable target, undefined variable, restore failed)
    SKIPPED = "skipped"
    NOT_RUN = "not run"  # a check that executed no case: never reported as passed


class Suite(StrEnum):
    FUZZ = "fuzz"
    SCENARIOS = "scenarios"
    DRIFT = "drift"  # a recorded exchange replayed against the mock
    BOUNDARIES = "boundaries"
    CONCURRENCY = "concurrency"


class ExitCode(IntEnum):
    CONFORMS = 0
    VIOLATIONS = 1
    COULD_NOT_RUN = 2


@dataclass(frozen=True)
class Exchange:
    """One request and its response, with credentials already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None


@dataclass(frozen=True)
class Violation:
    rule: str  # the scenario id, or the Schemathesis check that failed
    message: str  # what the target did, naming the rule
    expected: str = ""  # what the documented behaviour requires
    exchange: Exchange | None = None
    subject: str = ""  # the member the violation is about, where there is one


@dataclass
class CaseResult:
    """One test case of the JUnit report: a scenario, or one check on one fuzzed operation."""

    api: str
    suite: Suite
    name: str
    title: str
    outcome: Outcome
    duration: float = 0.0
    violations: list[Violation] = field(default_factory=list)
    detail: str = ""  # why it was skipped, or what went wrong when it could not be judged
    source: str = ""  # where the rule is documented
    exchanges: list[Exchange] = field(default_factory=list)
    cases: int | None = None  # how many cases the check ran, where it counts them
    positive: int = 0  # of those, cases with data the spec calls valid
    negative: int = 0  # and cases with data it calls invalid


@dataclass
class RunResult:
    cases: list[CaseResult]
    duration: float
    targets: dict[str, str]  # API name -> base URL tested
    seed: int | None = None
    fatal: str = ""  # why nothing could be judged
    recording: str = ""  # the HAR file a drift run replayed

    @property
    def violations(self) -> list[Violation]:
        return [violation for case in self.cases for violation in case.violations]

    def count(self, outcome: Outcome, cases: Iterable[CaseResult] | None = None) -> int:
        return sum(1 for case in (self.cases if cases is None else cases) if case.outcome == outcome)

    @property
    def exit_code(self) -> ExitCode:
        if self.count(Outcome.FAILED):
            return ExitCode.VIOLATIONS
        if self.fatal or self.count(Outcome.ERROR):
            return ExitCode.COULD_NOT_RUN
        return ExitCode.CONFORMS
