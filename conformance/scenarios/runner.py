"""Run scenarios against a target: substitute variables, send each step, compare, capture, restore."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from jsonpointer import JsonPointerException, resolve_pointer

from conformance.apis import Api, Operation
from conformance.http import Client, TargetUnreachable
from conformance.invariants import INVARIANTS, UpdateModel, Write, check_write, parse_body
from conformance.restore import RESTORE, Ledger, RestoreError, Restorer, Snapshot
from conformance.results import CaseResult, Exchange, Outcome, Suite, Violation
from conformance.scenarios.matchers import ABSENT, Literal, match
from conformance.scenarios.model import SAFE_METHODS, Scenario, Step
from conformance.scenarios.template import UndefinedVariable, render
from conformance.target import Credentials, Target
from openapi_model.values import same_value

DEFAULT_CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


class ScenarioAborted(Exception):
    """The scenario cannot go on, for a reason that is not the target's fault."""


class DataDoesNotFit(Exception):
    """The target's data is not what the scenario needs (a "change" to the value a member already has)."""


@dataclass
class ScenarioSession:
    """What every scenario of one API shares."""

    target: Target
    client: Client
    writes_allowed: bool
    ledger: Ledger | None = None
    allow_creates: bool = False  # create records the API documents no way to delete

    def __post_init__(self) -> None:
        self.restorer = Restorer(self.target.api, self.client, self.ledger)
        self.updates = UpdateModel(self.target.api)
        # Records a scenario changed and could not write back: one error each, listed after every result.
        self.restore_failures: list[CaseResult] = []
        self.created: list[str] = []  # paths of records scenarios created and did not delete
        self.run_variables = run_variables()

    def credentials_for(self, scenario: Scenario) -> Credentials:
        """On the bundled mock, a tenant per scenario, so that scenarios never see each other's writes."""
        credentials = self.target.credentials
        return credentials.for_tenant(f"{credentials.tenant}-{scenario.id}")


def skip_reason(scenario: Scenario, session: ScenarioSession) -> str:
    missing = [name for name in scenario.requires if name not in session.target.variables]
    if missing:
        return f"the target file does not define {', '.join(missing)}"
    if scenario.writes and not session.writes_allowed:
        return "changes state: run with --allow-writes to include it"
    lasting = [step.request["path"] for step in scenario.steps if creates_for_good(session.target.api, step)]
    if lasting and not session.allow_creates:
        return (
            f"creates a record at {lasting[0]} that the API documents no way to delete: "
            "run with --allow-creates to include it"
        )
    return ""


def creates_for_good(api: Api, step: Step) -> bool:
    """A step that creates a record (a POST expected to succeed) where the spec has no DELETE to undo it."""
    if step.method != "POST":
        return False
    statuses = step.expect["status"] if isinstance(step.expect["status"], list) else [step.expect["status"]]
    if not any(200 <= int(status) < 300 for status in statuses):
        return False
    collection = str(step.request["path"]).rstrip("/")
    return not any(
        operation.method == "DELETE" and operation.path.rstrip("/").startswith(collection + "/")
        for operation in api.operations()
    )


def run_variables() -> dict[str, str]:
    """Names and dates unique to one run, so that what a run creates never collides with an earlier run's."""
    run_id = secrets.token_hex(4)
    start = dt.date(2100, 1, 1) + dt.timedelta(days=int(run_id, 16) % 36_500)
    return {
        "run_id": run_id,
        "run_date": start.isoformat(),
        "run_date_end": (start + dt.timedelta(days=30)).isoformat(),
    }


def run_scenario(scenario: Scenario, session: ScenarioSession) -> CaseResult:
    started = time.monotonic()
    result = CaseResult(
        api=scenario.api,
        suite=Suite.SCENARIOS,
        name=scenario.id,
        title=scenario.title,
        outcome=Outcome.PASSED,
        source=scenario.source,
        basis=scenario.basis,
    )
    reason = skip_reason(scenario, session)
    if reason:
        result.outcome, result.detail = Outcome.SKIPPED, reason
        return result
    run = _ScenarioRun(scenario, session, result)
    try:
        run.execute()
    finally:
        result.duration = time.monotonic() - started
    return result


class _ScenarioRun:
    def __init__(self, scenario: Scenario, session: ScenarioSession, result: CaseResult) -> None:
        self.scenario = scenario
        self.session = session
        self.result = result
        self.credentials = session.credentials_for(scenario)
        self.variables: dict[str, Any] = {**session.run_variables, **session.target.variables}

    def execute(self) -> None:
        snapshots: list[Snapshot] = []
        try:
            snapshots = self._snapshots()
            for step in self.scenario.steps:
                if not self._run_step(step):
                    break
        except (UndefinedVariable, ScenarioAborted, TargetUnreachable, RestoreError) as exc:
            self._error(str(exc))
        except DataDoesNotFit as exc:
            if self.result.outcome == Outcome.PASSED:
                self.result.outcome, self.result.detail = Outcome.NOT_RUN, str(exc)
        finally:
            # Also on KeyboardInterrupt: the records go back before the interruption propagates.
            self._restore(snapshots)

    def _snapshots(self) -> list[Snapshot]:
        snapshots = []
        for path in self._paths_to_restore():
            try:
                snapshot = self.session.restorer.snapshot(path, self._headers("default"))
            except RestoreError:
                # Not readable (an unknown id answered with 400, say): nothing to restore, and whether that
                # answer is right is for the scenario's own steps to judge, not a reason to skip them.
                continue
            if snapshot is not None:
                snapshots.append(snapshot)
        return snapshots

    def _paths_to_restore(self) -> list[str]:
        """Declared paths, plus the path of every write step that the spec lets us read back."""
        paths = [render(path, self.variables) for path in self.scenario.restore]
        for step in self.scenario.steps:
            readable = self.session.target.api.operation_for("GET", step.request["path"]) is not None
            # a POST creates a record at a new path; what it posts to is a collection, not a record
            if step.method in SAFE_METHODS or step.method == "POST" or not readable:
                continue
            try:
                path = render(step.request["path"], self.variables)
            except UndefinedVariable:
                continue  # depends on a capture: only the declared `restore` paths can cover it
            if path not in paths:
                paths.append(path)
        return paths

    def _restore(self, snapshots: list[Snapshot]) -> None:
        for snapshot in snapshots:
            try:
                self.session.restorer.restore(snapshot, self._headers("default"))
            except (RestoreError, TargetUnreachable) as exc:
                self.session.restore_failures.append(
                    CaseResult(
                        api=self.scenario.api, suite=Suite.SCENARIOS, name=f"restore after {self.scenario.id}",
                        title=RESTORE, outcome=Outcome.ERROR,
                        detail=self.session.client.redactor.text(f"restore failed: {exc}"),
                    )
                )  # fmt: skip

    def _error(self, message: str) -> None:
        if self.result.outcome != Outcome.FAILED:
            self.result.outcome = Outcome.ERROR
        self.result.detail = "; ".join(filter(None, [self.result.detail, message]))

    def _run_step(self, step: Step) -> bool:
        request = render(step.request, self.variables)
        operation = self.session.target.api.operation_for(request["method"], request["path"])
        watched = (
            operation is not None and request["method"] not in SAFE_METHODS and self.session.updates.checked(operation)
        )
        before = self._read_record(request["path"]) if watched else None
        if before is not None and operation is not None:
            self._check_fits(step, operation, request, before)
        response = self._send(request)
        self._track_creates(request, response)
        exchange = self.session.client.record(response)
        self.result.exchanges.append(exchange)
        if watched and operation is not None and before is not None:
            self._check_invariants(step, operation, request["path"], response, before, exchange)
        problems = check_response(render(step.expect, self.variables, wrap=Literal), response)
        if not problems:
            problems = self._capture(step, response)
        if problems:
            self.result.outcome = Outcome.FAILED
            self.result.violations.append(
                Violation(
                    rule=self.scenario.id,
                    message=self.session.client.redactor.text(
                        f"{self.scenario.id}: {self.scenario.title} — {step.label}: " + "; ".join(problems)
                    ),
                    expected=describe_expectation(step.expect),
                    exchange=exchange,
                    basis=self.scenario.step_basis(step),
                )
            )
            return False
        return True

    def _check_fits(self, step: Step, operation: Operation, request: Mapping[str, Any], before: Any) -> None:
        """A write the step expects refused must change something: sending a member the value it already has
        tests nothing (the target file's data does not differ where the scenario assumes it does)."""
        statuses = step.expect["status"] if isinstance(step.expect["status"], list) else [step.expect["status"]]
        if not isinstance(before, dict) or any(int(status) < 400 for status in statuses):
            return
        sent = members_set(request.get("json"), self.session.updates.semantics(operation))
        if sent and all(name in before and same_value(value, before[name]) for name, value in sent.items()):
            shown = ", ".join(f"{name}={json.dumps(value, default=str)}" for name, value in sent.items())
            raise DataDoesNotFit(
                f"{step.label}: the record already holds {shown}, so the write changes nothing; "
                "give the target file a value other than the record's current one"
            )

    def _track_creates(self, request: Mapping[str, Any], response: httpx.Response) -> None:
        """Records a POST created and a DELETE removed: what is left is listed when the run ends."""
        if request["method"] == "DELETE" and response.is_success:
            path = str(request["path"]).rstrip("/")
            self.session.created[:] = [created for created in self.session.created if created.rstrip("/") != path]
        if request["method"] != "POST" or not response.is_success:
            return
        body, problem = json_body(response)
        location = response.headers.get("location")
        new_id = _record_id(self.session.target.api, str(request["path"]), body) if not problem else None
        if location or new_id is not None:
            self.session.created.append(location or f"{str(request['path']).rstrip('/')}/{new_id}")

    def _read_record(self, path: str) -> Any:
        """The record at `path` as read with the default credentials, or None when there is none."""
        response = self.session.client.send(
            "GET", path, headers={**self.session.target.headers, **self._headers("default")}
        )
        body, problem = json_body(response) if response.status_code == 200 else (None, "not read")
        return None if problem else body

    def _check_invariants(
        self, step: Step, operation: Operation, path: str, response: httpx.Response, before: Any, exchange: Exchange
    ) -> None:
        """The after-step of every write: read the record back and hold it to the spec's update semantics."""
        after = self._read_record(path)
        if after is None:
            return
        content_type = media_type(response.request.headers.get("content-type", ""))
        write = Write(operation, content_type, parse_body(response.request.content, content_type), response.status_code)
        for finding in check_write(self.session.updates, write, before, after):
            self.result.outcome = Outcome.FAILED
            self.result.violations.append(
                Violation(
                    rule=finding.invariant,
                    message=self.session.client.redactor.text(
                        f"{finding.invariant}: {finding.message} (scenario {self.scenario.id}, {step.label})"
                    ),
                    expected=INVARIANTS[finding.invariant],
                    exchange=exchange,
                    subject=finding.member,
                    basis=finding.basis,
                )
            )

    def _send(self, request: Mapping[str, Any]) -> httpx.Response:
        content, content_type = encode_body(request)
        headers = {**self.session.target.headers, **self._headers(request.get("auth", "default"))}
        if content_type is not None:
            headers["Content-Type"] = content_type
        headers = apply_header_overrides(headers, request.get("headers", {}))
        return self.session.client.send(
            request["method"], request["path"], headers=headers, params=request.get("query"), content=content
        )

    def _headers(self, auth: str) -> dict[str, str]:
        if auth == "none":
            return self.credentials.org()
        if auth == "default":
            return self.credentials.headers()
        if auth not in self.variables:
            raise ScenarioAborted(f"auth: {auth} names no variable of the target file")
        return {**self.credentials.org(), **self.credentials.authorization(str(self.variables[auth]))}

    def _capture(self, step: Step, response: httpx.Response) -> list[str]:
        if not step.capture:
            return []
        body, problem = json_body(response)
        if problem:
            return [f"cannot capture {', '.join(step.capture)}: {problem}"]
        problems = []
        for name, pointer in step.capture.items():
            try:
                self.variables[name] = resolve_pointer(body, pointer)
            except JsonPointerException:
                problems.append(f"cannot capture {name}: the response body has nothing at {pointer}")
        return problems


def members_set(body: Any, semantics: str | None) -> dict[str, Any]:
    """The top-level members a write body sets, and to what (JSON Patch `add`/`replace`, or a merge body)."""
    if semantics == "json-patch" and isinstance(body, list):
        return {
            str(op["path"]).lstrip("/"): op.get("value")
            for op in body
            if isinstance(op, Mapping)
            and op.get("op") in ("add", "replace")
            and str(op.get("path", "")).count("/") == 1
        }
    return dict(body) if isinstance(body, Mapping) else {}


def _record_id(api: Api, collection: str, body: Any) -> Any:
    """The id of a created record: the member named like the read's path parameter, `id`, or the first `…ID`."""
    if not isinstance(body, dict):
        return None
    read = api.record_read()
    candidates = [*(read.path_parameters if read is not None else []), "id"]
    candidates += [name for name in body if name.lower().endswith("id")]
    return next((body[name] for name in candidates if name in body), None)


def encode_body(request: Mapping[str, Any]) -> tuple[bytes | None, str | None]:
    """The request body as bytes, and its content type (the step's, else the default for its kind)."""
    content_type = request.get("content_type")
    if "json" in request:
        return json.dumps(request["json"]).encode(), content_type or DEFAULT_CONTENT_TYPES["json"]
    if "form" in request:
        return urlencode(_form_pairs(request["form"])).encode(), content_type or DEFAULT_CONTENT_TYPES["form"]
    if "body" in request:
        return str(request["body"]).encode(), content_type
    return None, content_type


def _form_pairs(form: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in form.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict | list):
                raise ScenarioAborted(f"form field {name!r} holds {type(item).__name__}: forms carry text values only")
            pairs.append((str(name), _form_text(item)))
    return pairs


def _form_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def apply_header_overrides(headers: Mapping[str, str], overrides: Mapping[str, str | None]) -> dict[str, str]:
    """Step headers win over the harness's (names compared case-insensitively); `null` removes one."""
    result = {name: value for name, value in headers.items() if name.lower() not in {key.lower() for key in overrides}}
    result.update({name: value for name, value in overrides.items() if value is not None})
    return result


def check_response(expect: Mapping[str, Any], response: httpx.Response) -> list[str]:
    """Every way the response departs from the step's expectation, each as one sentence."""
    problems = []
    statuses = expect["status"] if isinstance(expect["status"], list) else [expect["status"]]
    if response.status_code not in statuses:
        problems.append(f"expected status {' or '.join(map(str, statuses))}, got {response.status_code}")
    if "content_type" in expect:
        actual = media_type(response.headers.get("content-type", ""))
        if actual != media_type(expect["content_type"]):
            problems.append(f"expected content type {expect['content_type']}, got {actual or 'none'}")
    for name, expected in expect.get("headers", {}).items():
        value = response.headers.get(name, ABSENT)
        problems.extend(f"header {name} {mismatch}" for mismatch in match(expected, value))
    if "body" in expect:
        body, problem = json_body(response)
        if problem:
            problems.append(problem)
        else:
            problems.extend(f"body {mismatch}" for mismatch in match(expect["body"], body))
    return problems


def json_body(response: httpx.Response) -> tuple[Any, str]:
    try:
        return response.json(), ""
    except ValueError:
        kind = media_type(response.headers.get("content-type", "")) or "no content type"
        return None, f"expected a JSON body, got {kind}: {response.text[:200] or 'an empty body'}"


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def describe_expectation(expect: Mapping[str, Any]) -> str:
    return json.dumps(expect, indent=2, ensure_ascii=False, default=str)
