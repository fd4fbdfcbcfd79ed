"""The `concurrency` check: N partial updates of distinct members of one record, sent at once, all survive.

A target that updates by read-modify-write without a lock loses some of them. Members are chosen
from the spec: free-text strings and bounded integers that a partial update may set on their own.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from conformance.apis import Api, Operation
from conformance.http import Client, TargetUnreachable
from conformance.invariants import UpdateModel
from conformance.restore import Ledger, RestoreError, Restorer
from conformance.results import CaseResult, Outcome, Suite, Violation
from openapi_model import keywords
from openapi_model.values import same_value

DEFAULT_PARALLEL_UPDATES = 8
LOST_UPDATE = "concurrency:lost-update"
EXPECTATION = "Partial updates of different members sent at the same moment all survive."


@dataclass
class ConcurrencyCheck:
    api: Api
    client: Client
    headers: Mapping[str, str]
    parallel: int = DEFAULT_PARALLEL_UPDATES
    ledger: Ledger | None = None

    def run(self, operation: Operation, path: str) -> CaseResult:
        result = CaseResult(
            api=self.api.name, suite=Suite.CONCURRENCY, name=f"{operation.label} · lost update",
            title=EXPECTATION, outcome=Outcome.PASSED,
        )  # fmt: skip
        restorer = Restorer(self.api, self.client, self.ledger)
        try:
            snapshot = restorer.snapshot(path, self.headers)
        except (RestoreError, TargetUnreachable) as exc:
            result.outcome, result.detail = Outcome.ERROR, f"cannot read {path}: {exc}"
            return result
        if snapshot is None or not isinstance(snapshot.record, dict):
            result.outcome, result.detail = Outcome.ERROR, f"no record at {path} to update"
            return result
        unclearable = restorer.unclearable(path, snapshot.record)
        changes = distinct_changes(self.api, operation, snapshot.record, self.parallel, skip=unclearable)
        if len(changes) < 2:
            result.outcome, result.detail = Outcome.NOT_RUN, "the spec documents fewer than two members to update"
            return result
        try:
            self._judge(operation, path, changes, result)
        finally:
            try:
                restorer.restore(snapshot, self.headers)
            except (RestoreError, TargetUnreachable) as exc:
                if result.outcome != Outcome.FAILED:
                    result.outcome = Outcome.ERROR
                result.detail = f"restoring {path} failed: {exc}"
        return result

    def _judge(self, operation: Operation, path: str, changes: dict[str, Any], result: CaseResult) -> None:
        barrier = threading.Barrier(len(changes))
        model = UpdateModel(self.api)

        def send(member: str) -> int:
            value = changes[member]
            body: Any = [{"op": "replace", "path": f"/{member}", "value": value}]
            if model.semantics(operation) != "json-patch":
                body = {member: value}
            barrier.wait(timeout=10)
            response = self.client.send(
                operation.method, path, headers={**self.headers, "Content-Type": json_media_type(self.api, operation)},
                content=json.dumps(body).encode(),
            )  # fmt: skip
            return response.status_code

        with ThreadPoolExecutor(max_workers=len(changes)) as pool:
            statuses = dict(zip(changes, pool.map(send, changes), strict=True))
        result.cases, result.positive = len(changes), len(changes)
        refused = {member: status for member, status in statuses.items() if status >= 300}
        after = self.client.send("GET", path, headers=self.headers)
        record = after.json() if after.status_code == 200 else {}
        lost = sorted(m for m in changes if m not in refused and not same_value(changes[m], record.get(m)))
        if refused:
            result.detail = "refused: " + ", ".join(f"{m} ({status})" for m, status in refused.items())
        if lost:
            result.outcome = Outcome.FAILED
            result.violations.append(
                Violation(
                    rule=LOST_UPDATE,
                    message=f"{LOST_UPDATE}: {len(changes)} parallel {operation.method} {path} of distinct members; "
                    f"lost update of {', '.join(lost)} (accepted, then not read back)",
                    expected=EXPECTATION,
                    exchange=self.client.record(after),
                    basis=model.basis(operation),  # partial updates keep what they do not send
                )
            )


def distinct_changes(
    api: Api, operation: Operation, record: Mapping[str, Any], limit: int, skip: Set[str] = frozenset()
) -> dict[str, Any]:
    """Up to `limit` members the operation may set on their own, each with a valid value different from the record's."""
    model = UpdateModel(api)
    if model.semantics(operation) == "json-patch":
        compared = model.compared(operation)
        members = {name: schema for name, schema in model.record_members(operation).items() if name in compared}
    else:
        members = model.request_members(operation, json_media_type(api, operation))
    token = secrets.token_hex(3)
    changes: dict[str, Any] = {}
    for index, (name, schema) in enumerate(members.items()):
        if len(changes) >= limit or name not in record or name in skip or "x-boundaries" in schema:
            continue
        if keywords.immutable(schema):
            continue
        value = _new_value(schema, record[name], f"c{index}-{token}")
        if value is not None:
            changes[name] = value
    return changes


def json_media_type(api: Api, operation: Operation) -> str:
    content = operation.definition.get("requestBody", {}).get("content", {})
    return next((media for media in content if "json" in media), next(iter(content), "application/json"))


def _new_value(schema: Mapping[str, Any], current: Any, text: str) -> Any:
    kind = schema.get("type")
    if kind == "string" and not {"pattern", "format", "enum"} & set(schema):
        limit = int(schema.get("maxLength", 40))
        value = text[:limit]
        return value if len(value) >= int(schema.get("minLength", 0)) and value != current else None
    if kind == "integer" and "minimum" in schema and "maximum" in schema:
        low, high = int(schema["minimum"]), int(schema["maximum"])
        candidate = low + 1 if current != low + 1 else low + 2
        return candidate if candidate <= high else None
    return None
