"""What a run found, in the shape every report reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from openapi_model.evidence import DOCUMENTED, Basis, Evidence

__all__ = ["DOCUMENTED", "Basis", "CaseResult", "Evidence", "Exchange", "ExitCode", "Outcome", "RunResult"]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the target departs from documented behaviour
    DIFFERS = "differs"  # the target departs only from our inference or from HTTP hygiene: fails only --strict
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
    basis: Basis = DOCUMENTED  # what the rule rests on: documented, inferred (and from what), or HTTP hygiene

    @property
    def evidence(self) -> Evidence:
        return self.basis.evidence

    @property
    def explanation(self) -> str:
        """How a report words it: a violation, or a difference from what we inferred and why."""
        if self.basis.documented:
            return self.message
        kind = "differs from our inference" if self.evidence == Evidence.INFERRED else "differs from HTTP hygiene"
        because = f" because {self.basis.source}" if self.basis.source else ""
        return f"{kind}: {self.message}{because}"


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
    basis: Basis = DOCUMENTED  # what the check as a whole rests on (each violation carries its own)

    @property
    def evidence(self) -> Evidence:
        """The class the case reports: its violations' weakest, else the check's own."""
        if self.violations:
            if any(violation.basis.documented for violation in self.violations):
                return Evidence.DOCUMENTED
            return self.violations[0].evidence
        return self.basis.evidence

    def settle(self) -> None:
        """A case failed only on inferred or HTTP-hygiene rules differs; it does not fail."""
        if self.outcome == Outcome.FAILED and self.violations and not any(v.basis.documented for v in self.violations):
            self.outcome = Outcome.DIFFERS


@dataclass(frozen=True)
class Unrestored:
    """A record the run wrote to and could not put back as it first read it."""

    api: str
    path: str
    members: dict[str, tuple[object, object]]  # member -> (as first read, as read at the end)
    request: str  # the request that would put them back, ready to send
    reason: str = ""


@dataclass
class RunResult:
    cases: list[CaseResult]
    duration: float
    targets: dict[str, str]  # API name -> base URL tested
    seed: int | None = None
    fatal: str = ""  # why nothing could be judged
    strict: bool = False  # differences from our inferences and from HTTP hygiene fail the run too
    unrestored: list[Unrestored] = field(default_factory=list)  # the partner's data the run left changed
    created: list[str] = field(default_factory=list)  # records the run created and could not delete
    requests: dict[str, str] = field(default_factory=dict)  # API name -> requests sent, of what budget, 429s seen
    recording: str = ""  # the HAR file a drift run replayed

    @property
    def violations(self) -> list[Violation]:
        return [violation for case in self.cases for violation in case.violations]

    def count(self, outcome: Outcome, cases: Iterable[CaseResult] | None = None) -> int:
        return sum(1 for case in (self.cases if cases is None else cases) if case.outcome == outcome)

    @property
    def documented_violations(self) -> list[Violation]:
        return [violation for violation in self.violations if violation.basis.documented]

    @property
    def exit_code(self) -> ExitCode:
        if self.unrestored:
            return ExitCode.COULD_NOT_RUN  # the partner must act: their data is not as it was
        if self.count(Outcome.FAILED) or (self.strict and self.count(Outcome.DIFFERS)):
            return ExitCode.VIOLATIONS
        if self.fatal or self.count(Outcome.ERROR):
            return ExitCode.COULD_NOT_RUN
        return ExitCode.CONFORMS
