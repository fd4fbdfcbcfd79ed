"""The fuzz suite: Schemathesis' engine driven by the project's spec.

Every phase runs (the spec's examples, the coverage phase's boundary and negative values, random
positive and negative data, and stateful sequences through the spec's links: update, then read
back), with Schemathesis' own checks. Results are grouped into one case per operation and check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import Interaction, ScenarioRecorder
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER, HookContext
from schemathesis.schemas import BaseSchema

from conformance import budget
from conformance.apis import Api
from conformance.evidence import fuzz_basis, operation_by_label
from conformance.http import NOISE_HEADERS, RateCap
from conformance.invariants import UpdateModel
from conformance.results import DOCUMENTED, Basis, CaseResult, Exchange, Outcome, Suite, Violation
from conformance.target import Redactor, Target
from conformance.write_check import CHECK_NAME, InvariantViolated, before_write, watching_writes
from openapi_model import keywords

DEFAULT_MAX_EXAMPLES = 10
DEFAULT_STATEFUL_STEPS = 4
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Schema-valid data can still break a documented cross-field or state rule, which these vendors
# answer with 400 or 422 (Revnue's date order, Zoho's SLA of another department, Elevate's billing
# lock); `positive_data_acceptance` only flags what no documented rule explains (405, 406, 415, ...).
POSITIVE_DATA_STATUSES = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
# Methods the coverage phase may try on a real target's paths: a DELETE the spec does not document
# could still exist there.
SAFE_UNEXPECTED_METHODS = ["options", "trace"]
MAX_VIOLATIONS_PER_CASE = 3


class UnsafeRequest(Exception):
    """A write the target file does not allow was about to be sent; it is not."""


@dataclass(frozen=True)
class FuzzOptions:
    seed: int
    max_examples: int = DEFAULT_MAX_EXAMPLES
    stateful_steps: int = DEFAULT_STATEFUL_STEPS
    protected: frozenset[str] = frozenset()  # members no write may set: the target could not empty them again


@dataclass
class FuzzPlan:
    """What the safety rules leave to fuzz on one target."""

    config: dict[str, Any]
    excluded_methods: list[str] = field(default_factory=list)
    write_record: str | None = None  # the only id writes may use; None = any (the bundled mock)
    protected: frozenset[str] = frozenset()  # members a write may not set (only to null, meaning "not sent")
    notes: dict[str, str] = field(default_factory=dict)  # what is not fuzzed -> why


def plan(target: Target, options: FuzzOptions, *, writes_allowed: bool) -> FuzzPlan:
    config: dict[str, Any] = {
        "seed": options.seed,
        "cache": {"enabled": False},
        "base-url": target.base_url,
        "headers": {**target.headers, **target.credentials.headers()},
        "workers": 1,
        # Schemathesis waits out 429s as their Retry-After says; the cap, if any, is `RateCap`.
        "rate-limit": "auto",
        "generation": {"max-examples": options.max_examples, "database": "none"},
        "phases": {
            # Error feedback learns constraints from the target's 4xx messages; with these vendors'
            # cross-field rules it talks itself into "cannot generate" and makes runs less repeatable.
            "fuzzing": {"error-feedback": {"enabled": False}},
            "stateful": {"max-steps": options.stateful_steps},
        },
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_DATA_STATUSES}},
    }
    if budget.limited():
        # its probes (the request again without credentials) bypass `before_call`: the budget could not count them
        config["checks"]["ignored_auth"] = {"enabled": False}
    if target.bundled:
        return FuzzPlan(config)
    config["phases"]["coverage"] = {"unexpected-methods": SAFE_UNEXPECTED_METHODS}
    if not writes_allowed or not target.record_ids:
        # The spec's links start from writes: without them there is no sequence to test.
        config["phases"]["stateful"]["enabled"] = False
        reason = "run with --allow-writes" if not writes_allowed else "the target file lists no record_ids"
        return FuzzPlan(
            config,
            excluded_methods=list(WRITE_METHODS),
            notes={
                "write operations": f"not fuzzed: {reason}",
                "stateful sequences": "not run: they start with a write",
            },
        )
    record = str(target.record_ids[0])
    # Every write goes to the first record of the target file; `guarded_calls` refuses any other.
    config["operations"] = [
        {
            "include-method": method,
            "parameters": {
                f"path.{name}": record
                for operation in target.api.operations()
                if operation.method == method
                for name in operation.path_parameters
            },
        }
        for method in ("PUT", "PATCH")
    ]
    notes = {"POST and DELETE": "not fuzzed: what they create or delete cannot be restored"}
    # A replacement rewrites every member, the protected ones too: none of its cases could be sent.
    model = UpdateModel(target.api)
    replacing = sorted({op.method for op in target.api.operations() if model.semantics(op) == "replace"})
    if options.protected and replacing:
        notes[" and ".join(replacing)] = (
            f"not fuzzed: a replacement rewrites {', '.join(sorted(options.protected))}, "
            "which the target could not be put back from"
        )
    return FuzzPlan(
        config,
        excluded_methods=["POST", "DELETE", *(replacing if options.protected else [])],
        write_record=record,
        protected=options.protected,
        notes=notes,
    )


def load_schema(api: Api, fuzz_plan: FuzzPlan) -> BaseSchema:
    schema: BaseSchema = schemathesis.openapi.from_path(
        api.spec_path, config=SchemathesisConfig.from_dict(fuzz_plan.config)
    )
    if fuzz_plan.excluded_methods:
        schema = schema.exclude(method=fuzz_plan.excluded_methods)

    @schema.hook
    def filter_case(context: HookContext, case: schemathesis.Case[Any]) -> bool:
        meta = case.meta
        negative = meta is not None and meta.generation.mode.is_negative
        # A negative value the target reads as null ("" in a form whose binder says so) is no negative value.
        if negative and binds_as_null_somewhere(api, case):
            return False
        if fuzz_plan.write_record is None:
            return True
        # The write's id is pinned to an allowed record, so a case meant to send an invalid id
        # would send a valid one and be judged as if it had not.
        pinned = case.method.upper() in WRITE_METHODS and meta is not None
        if pinned and meta is not None and meta.is_negative_at(ParameterLocation.PATH):
            return False
        return not sets_protected(case, fuzz_plan.protected)

    return schema


def _unsafe_request(error: BaseException) -> UnsafeRequest | None:
    """The `UnsafeRequest` behind an error the fuzzer reports (our hook refused to send the case), if any."""
    for _ in range(10):  # a chain of causes is short; bounded all the same
        if isinstance(error, UnsafeRequest):
            return error
        if isinstance(error, BaseExceptionGroup) and error.exceptions:
            error = error.exceptions[0]
            continue
        cause = error.__cause__ or error.__context__
        if cause is None:
            return None
        error = cause
    return None


def binds_as_null_somewhere(api: Api, case: schemathesis.Case[Any]) -> bool:
    """Whether the body holds a value its schema's binder reads as null (`x-empty-means-null`)."""
    operation = api.operation_for(case.method, case.operation.path)
    if operation is None or not isinstance(case.body, dict) or not case.media_type:
        return False
    schema = operation.request_schema(case.media_type)
    return any(keywords.binds_as_null(value, schema) for value in case.body.values() if value is not None)


def sets_protected(case: schemathesis.Case[Any], protected: AbstractSet[str]) -> bool:
    """Whether a write sets a member the target could not empty again (a null or empty value sets nothing)."""
    body = case.body if case.method.upper() in WRITE_METHODS else None
    return isinstance(body, dict) and any(body.get(name) not in (None, "") for name in protected & set(body))


@contextmanager
def guarded_calls(schema: BaseSchema, fuzz_plan: FuzzPlan, rate_cap: RateCap | None) -> Iterator[None]:
    """While open, every request of `schema` waits for the rate cap and must write only to allowed ids.

    Schemathesis only offers `before_call` as a global hook, so it is registered for the run and
    removed afterwards, and ignores other schemas' calls.
    """

    def before_call(context: HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
        if case.operation.schema is not schema:
            return
        if fuzz_plan.write_record is not None and case.method.upper() in WRITE_METHODS:
            ids = {str(value) for value in (case.path_parameters or {}).values()}
            if ids != {fuzz_plan.write_record}:
                raise UnsafeRequest(f"{case.method} {case.formatted_path}: not the first of the target's record_ids")
            if sets_protected(case, fuzz_plan.protected):
                raise UnsafeRequest(f"{case.method} {case.formatted_path}: sets a member the target cannot empty again")
        budget.before_fuzz_call()
        if rate_cap is not None:
            rate_cap.wait()
        before_write(case)

    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(before_call, "before_call")
    try:
        yield
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)


def run_fuzz(
    target: Target,
    options: FuzzOptions,
    *,
    writes_allowed: bool,
    redactor: Redactor,
    rate_cap: RateCap | None = None,
    on_progress: Callable[[str], None] = lambda message: None,
) -> list[CaseResult]:
    fuzz_plan = plan(target, options, writes_allowed=writes_allowed)
    schema = load_schema(target.api, fuzz_plan)
    labels = _labels(schema)
    model = UpdateModel(target.api)
    watched = {op.label for op in target.api.operations() if op.method != "GET" and model.checked(op)}
    collector = Collector(target.api.name, redactor, labels, watched, target.api)
    started = time.monotonic()
    with watching_writes(target, schema, redactor), guarded_calls(schema, fuzz_plan, rate_cap):
        stream = from_schema(schema).execute()
        try:
            for event in stream:
                collector.handle(event)
                if isinstance(event, events.ScenarioFinished):
                    budget.fuzz_answered(len(event.recorder.interactions))
                elif isinstance(event, events.PhaseFinished):
                    budget.fuzz_probed(event.payload)
                if isinstance(event, events.PhaseStarted):
                    on_progress(f"fuzz {target.api.name}: {event.phase.name.value}")
                if event.is_terminal or not budget.fuzz_may_send():
                    break
        finally:
            stream.stop()
    results = collector.results(time.monotonic() - started)
    if not budget.fuzz_may_send():
        results.append(
            CaseResult(
                api=target.api.name, suite=Suite.FUZZ, name="fuzzing", title="fuzzing", outcome=Outcome.NOT_RUN,
                detail="not run (budget): fuzzing stopped where the request budget ran out; the cases above ran",
            )
        )  # fmt: skip
    results.extend(
        CaseResult(api=target.api.name, suite=Suite.FUZZ, name=name, title=name, outcome=Outcome.SKIPPED, detail=why)
        for name, why in fuzz_plan.notes.items()
    )
    return results


def _labels(schema: BaseSchema) -> list[str]:
    """The labels of the operations the schema will fuzz (after the plan's exclusions)."""
    labels = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            labels.append(result.ok().label)
    return labels


@dataclass
class _CheckCase:
    outcome: Outcome = Outcome.PASSED
    violations: list[Violation] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    positive: int = 0
    negative: int = 0


class Collector:
    """Turns the engine's events into one result per (operation, check)."""

    def __init__(
        self,
        api: str,
        redactor: Redactor,
        operations: Sequence[str] = (),
        watched: AbstractSet[str] = frozenset(),
        api_spec: Api | None = None,
    ) -> None:
        self.api = api
        self.api_spec = api_spec  # the spec the failures are classed by
        self.redactor = redactor
        self.operations = list(operations)  # every operation fuzzed, by label
        self.watched = watched  # operations the update-semantics check applies to
        self.checks: dict[tuple[str, str], _CheckCase] = {}
        self.errors: list[CaseResult] = []
        self.skipped: dict[str, str] = {}

    def handle(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            if event.status == Status.SKIP and event.label and event.skip_reason:
                self.skipped.setdefault(f"{event.label} · {event.phase.value} phase", event.skip_reason)
            self._record(event.recorder)
        elif isinstance(event, events.NonFatalError):
            if budget.is_budget_error(event.value):
                return  # a case the budget refused was not sent: reported once, as "not run (budget)"
            if (unsafe := _unsafe_request(event.value)) is not None:
                # a case the run refused to send (the target could not be put back after it) was not sent
                self.skipped.setdefault(f"{event.label} · not sent", str(unsafe))
                return
            self.errors.append(self._error(event.label, f"{event.info.title}: {event.info.message}"))
        elif isinstance(event, events.FatalError):
            self.errors.append(self._error("engine", repr(event.exception)))

    def _error(self, label: str, message: str) -> CaseResult:
        return CaseResult(
            api=self.api,
            suite=Suite.FUZZ,
            name=label,
            title=label,
            outcome=Outcome.ERROR,
            detail=self.redactor.text(message),
        )

    def _record(self, recorder: ScenarioRecorder) -> None:
        for case_id, nodes in recorder.checks.items():
            generated = recorder.cases[case_id].value
            operation = generated.operation.label
            negative = generated.meta is not None and generated.meta.generation.mode.is_negative
            for node in nodes:
                if node.name == CHECK_NAME and operation not in self.watched:
                    continue
                case = self.checks.setdefault((operation, node.name), _CheckCase())
                if negative:
                    case.negative += 1
                else:
                    case.positive += 1
                if node.status == Status.FAILURE and node.failure_info is not None:
                    self._add_failure(case, node.name, node.failure_info.failure, recorder, case_id)
                elif node.status == Status.ERROR and case.outcome == Outcome.PASSED:
                    case.outcome = Outcome.ERROR

    def _add_failure(
        self, case: _CheckCase, check: str, failure: Failure, recorder: ScenarioRecorder, case_id: str
    ) -> None:
        case.outcome = Outcome.FAILED
        key = (failure.title, failure.message)
        if key in case.seen or len(case.violations) >= MAX_VIOLATIONS_PER_CASE:
            return
        case.seen.add(key)
        interaction = recorder.interactions.get(failure.case_id or case_id)
        operation = failure.operation or recorder.cases[case_id].value.operation.label
        rule = failure.title if check == CHECK_NAME else check
        message = f"{check}: {failure.title} — {operation}" if rule == check else f"{operation} (fuzzed write)"
        if failure.message:
            message += f": {failure.message}"
        case.violations.append(
            Violation(
                rule=rule,
                message=self.redactor.text(message),
                expected=CHECK_EXPECTATIONS.get(check, ""),
                exchange=_exchange(interaction, self.redactor) if interaction is not None else None,
                basis=self._basis(check, failure, operation, interaction),
            )
        )

    def _basis(self, check: str, failure: Failure, operation: str, interaction: Interaction | None) -> Basis:
        if isinstance(failure, InvariantViolated):
            return failure.basis
        if self.api_spec is None:
            return DOCUMENTED
        request = interaction.request if interaction is not None else None
        response = interaction.response if interaction is not None else None
        return fuzz_basis(
            self.api_spec,
            check,
            operation_by_label(self.api_spec, operation),
            status=response.status_code if response is not None else None,
            request_body=request.body if request is not None else None,
            request_media_type=_media_type(request.headers) if request is not None else "",
            response_body=response.content if response is not None else None,
            response_media_type=_media_type(response.headers) if response is not None else "",
            query=dict(parse_qsl(urlsplit(request.uri).query)) if request is not None else None,
        )

    def results(self, duration: float) -> list[CaseResult]:
        results = [
            CaseResult(
                api=self.api,
                suite=Suite.FUZZ,
                name=f"{operation} · {check}",
                title=CHECK_EXPECTATIONS.get(check, check),
                outcome=case.outcome,
                violations=case.violations,
                cases=case.positive + case.negative,
                positive=case.positive,
                negative=case.negative,
            )
            for (operation, check), case in sorted(self.checks.items())
        ]
        tested = {operation for operation, _ in self.checks}
        # An operation no check ran a case on is "not run", with the engine's reason, never "passed".
        untested = [label for label in [*self.operations, *self.skipped] if label not in tested and label]
        results.extend(
            CaseResult(
                api=self.api, suite=Suite.FUZZ, name=label, title=label, outcome=Outcome.NOT_RUN, cases=0,
                detail=self.skipped.get(label, "no case was generated for this operation"),
            )
            for label in dict.fromkeys(untested)
        )  # fmt: skip
        results.extend(self.errors)
        if results:
            share = duration / len(results)
            for result in results:
                result.duration = share
        return results


# What each check holds the target to, for reports.
CHECK_EXPECTATIONS = {
    "not_a_server_error": "No response is a 5xx server error.",
    "status_code_conformance": "Every status code is one the spec documents for the operation.",
    "content_type_conformance": "Every response has a content type the spec documents.",
    "response_headers_conformance": "Every response carries the headers the spec requires.",
    "response_schema_conformance": "Every response body matches the schema the spec documents for its status.",
    "negative_data_rejection": "Requests that break the spec's schema are rejected with a 4xx.",
    "positive_data_acceptance": "Requests that fit the spec's schema are refused only as a documented rule explains.",
    "missing_required_header": "A request without a required header is rejected.",
    "unsupported_method": "A method the spec does not document on a path is answered with 405.",
    "allow_header_conformance": "A 405 lists the allowed methods in its Allow header.",
    "ignored_auth": "Requests without valid credentials are rejected with 401 or 403.",
    "use_after_free": "A deleted resource is no longer served.",
    "ensure_resource_availability": "A resource is readable right after the operation that made it.",
    CHECK_NAME: "Every write keeps the update semantics the spec declares (x-update, x-derived-from).",
}


def _exchange(interaction: Interaction, redactor: Redactor) -> Exchange:
    request, response = interaction.request, interaction.response
    return Exchange(
        method=request.method,
        url=redactor.text(request.uri),
        request_headers=redactor.headers(dict(_flatten(request.headers))),
        request_body=redactor.text(_text(request.body)) if request.body else None,
        status=response.status_code if response is not None else None,
        response_headers=redactor.headers(dict(_flatten(response.headers))) if response is not None else {},
        response_body=redactor.text(_text(response.content)) if response is not None and response.content else None,
    )


def _media_type(headers: dict[str, list[str]]) -> str:
    values = next((values for name, values in headers.items() if name.lower() == "content-type"), [""])
    return (values[0] if values else "").split(";", 1)[0].strip().lower()


def _flatten(headers: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for name, values in headers.items():
        if name.lower() not in NOISE_HEADERS | {"x-schemathesis-testcaseid"}:
            yield name, ", ".join(values)


def _text(content: bytes) -> str:
    text = content.decode("utf-8", errors="replace")
    return text if len(text) <= 10_000 else text[:10_000] + "…"
