"""The update-semantics invariants as a Schemathesis check, for every fuzzed and stateful write.

Schemathesis registers checks and the `before_call` hook globally: `watching_writes` registers the
check for the time of one schema's run only (nothing is registered on import), and the check passes
every case of any other schema.
Before each write of an operation the spec declares `x-update` for, the record is read; the check
reads it again after the response and holds the pair to `conformance.invariants.check_write`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.schemas import BaseSchema

from conformance._compat import registered_check
from conformance.http import Client, TargetUnreachable
from conformance.invariants import UpdateModel, Write, check_write, parse_body
from conformance.target import Redactor, Target
from openapi_model.evidence import DOCUMENTED, Basis

CHECK_NAME = "update_semantics"


class InvariantViolated(Failure):
    """One write broke a documented update invariant; `title` is the invariant's id."""

    code: ClassVar[str] = "ST990"
    kind_title: ClassVar[str] = "Update invariant violated"
    basis: Basis = DOCUMENTED  # the weakest of the findings' (documented when one of them is)


class WriteWatcher:
    """Reads the record before each write of one schema's run, and judges it after."""

    def __init__(self, target: Target, schema: BaseSchema, redactor: Redactor) -> None:
        self.target = target
        self.schema = schema
        self.model = UpdateModel(target.api)
        self.client = Client(target.base_url, redactor=redactor)
        self.headers: Mapping[str, str] = {**target.headers, **target.credentials.headers()}
        self.before: dict[str, Any] = {}

    def close(self) -> None:
        self.client.close()

    def watched(self, case: schemathesis.Case[Any]) -> bool:
        operation = self.target.api.operation_for(case.method, case.operation.path)
        return operation is not None and case.method.upper() != "GET" and self.model.checked(operation)

    def read(self, case: schemathesis.Case[Any]) -> Any:
        try:
            response = self.client.send("GET", case.formatted_path, headers=self.headers)
        except TargetUnreachable:
            return None
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def remember(self, case: schemathesis.Case[Any]) -> None:
        if self.watched(case):
            self.before[case.id] = self.read(case)

    def judge(self, case: schemathesis.Case[Any], status: int, content: bytes | None, media_type: str) -> None:
        before = self.before.pop(case.id, None)
        operation = self.target.api.operation_for(case.method, case.operation.path)
        if before is None or operation is None:
            return
        after = self.read(case)
        write = Write(operation, media_type, parse_body(content, media_type), status)
        findings = check_write(self.model, write, before, after)
        if findings:
            # Documented findings first: the failure is documented when one of them is.
            findings.sort(key=lambda finding: not finding.basis.documented)
            failure = InvariantViolated(
                operation=case.operation.label,
                title=findings[0].invariant,
                message=self.client.redactor.text("\n".join(f"{f.invariant}: {f.message}" for f in findings)),
                case_id=case.id,
            )
            failure.basis = findings[0].basis
            raise failure


_ACTIVE: dict[int, WriteWatcher] = {}


def update_semantics(ctx: Any, response: Any, case: schemathesis.Case[Any]) -> bool | None:
    """Documented update semantics hold around the write (no-op for schemas not being watched)."""
    watcher = _ACTIVE.get(id(case.operation.schema))
    if watcher is None:
        return None
    request = response.request
    media_type = str(request.headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    body = request.body.encode() if isinstance(request.body, str) else request.body
    watcher.judge(case, response.status_code, body, media_type)
    return None


def before_write(case: schemathesis.Case[Any]) -> None:
    """Called from the run's `before_call` hook."""
    watcher = _ACTIVE.get(id(case.operation.schema))
    if watcher is not None:
        watcher.remember(case)


@contextmanager
def watching_writes(target: Target, schema: BaseSchema, redactor: Redactor) -> Iterator[WriteWatcher]:
    watcher = WriteWatcher(target, schema, redactor)
    _ACTIVE[id(schema)] = watcher
    try:
        with registered_check(update_semantics):
            yield watcher
    finally:
        del _ACTIVE[id(schema)]
        watcher.close()
