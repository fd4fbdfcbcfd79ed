"""Acceptance cases generated from the spec: every valid boundary, sent as a one-member change.

For each write operation whose record can be read back, and each media type it accepts, one case
per boundary of each writable member: every enum value, a string of exactly `maxLength`, exactly
`minimum` and `maximum`, the record's own value in each alternative type the schema documents, and
(for every media type) the record's own value of one plain member. Each case changes one member of a
valid record, so no cross-field rule applies: a 4xx is a valid value refused. A member whose limits
depend on other members says so in the spec with `x-boundaries: <why not>` (or, for some kinds only,
`x-boundaries: {maximum: <why not>}`), and those cases are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from conformance.apis import Api, Operation
from conformance.http import Client, TargetUnreachable
from conformance.invariants import UpdateModel
from conformance.restore import RESTORE, Ledger, RestoreError, Restorer
from conformance.results import Basis, CaseResult, Outcome, Suite, Violation
from openapi_model.evidence import node_basis, weakest

VALID_VALUE_REFUSED = "boundary:valid-value-refused"
EXPECTATION = "A value the spec documents as valid is accepted when it is the only change to a valid record."


@dataclass(frozen=True)
class Boundary:
    member: str
    value: Any
    kind: str  # enum, maxLength, minimum, maximum, alternative type, content type


def boundaries(member: str, schema: Mapping[str, Any], current: Any, api: Api) -> Iterator[Boundary]:
    """The valid boundary values of one member, from its schema (and its current value, for alternative types)."""
    exempt = schema.get("x-boundaries", {})
    if isinstance(exempt, str) or schema.get("x-immutable"):
        return
    for boundary in _all_boundaries(member, _flatten(schema, api), current, api):
        if boundary.kind not in exempt:
            yield boundary


def _all_boundaries(member: str, schema: Mapping[str, Any], current: Any, api: Api) -> Iterator[Boundary]:
    for value in schema.get("enum", []):
        if value is not None:
            yield Boundary(member, value, "enum")
    kinds = _types(schema, api)
    if "string" in kinds and "maxLength" in schema and not {"pattern", "format", "enum"} & set(schema):
        yield Boundary(member, "x" * int(schema["maxLength"]), "maxLength")
    if kinds & {"integer", "number"}:
        for keyword in ("minimum", "maximum"):
            if keyword in schema and not schema.get(f"exclusive{keyword.capitalize()}"):
                value = schema[keyword]
                yield Boundary(member, int(value) if "integer" in kinds else value, keyword)
    alternatives = [option for option in schema.get("anyOf", []) + schema.get("oneOf", [])]
    if len(alternatives) > 1 and current is not None:
        for option in alternatives:
            converted = _as_type(current, option.get("type"))
            if converted is not None:
                yield Boundary(member, converted, f"alternative type {option.get('type')}")


def _flatten(schema: Mapping[str, Any], api: Api) -> dict[str, Any]:
    """The schema with the keywords of its `allOf` parts merged in (the specs use `allOf` to add a description)."""
    merged: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        merged.update(_flatten(part, api))
    merged.update({key: value for key, value in schema.items() if key != "allOf"})
    return merged


def _types(schema: Mapping[str, Any], api: Api) -> set[str]:
    """The types the schema takes, its alternatives' too: limits beside an `anyOf` of a number and a decimal
    string (Revnue's amounts) are the number's."""
    declared = schema.get("type")
    kinds = set(declared) if isinstance(declared, list) else {declared} if declared else set()
    for option in [*schema.get("anyOf", []), *schema.get("oneOf", [])]:
        kinds |= _types(option, api) if isinstance(option, Mapping) else set()
    return kinds


def _takes(option: Any, value: Any) -> bool:
    """Whether a value of this JSON type can be valid for the alternative `option` (one without a type takes any)."""
    kind = option.get("type") if isinstance(option, Mapping) else None
    if kind is None or value is None:
        return True
    json_types = {bool: "boolean", str: "string", dict: "object", list: "array"}
    found = json_types.get(type(value), "integer" if isinstance(value, int) else "number")
    return kind == found or (kind == "number" and found == "integer")


def _as_type(value: Any, kind: Any) -> Any:
    if kind == "string" and isinstance(value, int | str) and not isinstance(value, bool):
        return str(value)
    if kind == "integer" and isinstance(value, int | str) and str(value).isdigit():
        return int(value)
    return None


@dataclass
class BoundaryRun:
    api: Api
    client: Client
    headers: Mapping[str, str]
    ledger: Ledger | None = None

    def __post_init__(self) -> None:
        self.restorer = Restorer(self.api, self.client, self.ledger)
        self.model = UpdateModel(self.api)
        self.restore_failures: list[CaseResult] = []

    def run(self, paths: list[tuple[Operation, str]]) -> list[CaseResult]:
        """One result per operation and media type; records that could not be written back are errors after them."""
        results = []
        for operation, path in paths:
            content = operation.definition.get("requestBody", {}).get("content", {})
            for media_type in content:
                results.append(self._operation(operation, media_type, path))
        return results + self.restore_failures

    def _operation(self, operation: Operation, media_type: str, path: str) -> CaseResult:
        result = CaseResult(
            api=self.api.name,
            suite=Suite.BOUNDARIES,
            name=f"{operation.label} · {media_type}",
            title=EXPECTATION,
            outcome=Outcome.PASSED,
        )
        try:
            snapshot = self.restorer.snapshot(path, self.headers)
        except (RestoreError, TargetUnreachable) as exc:
            result.outcome, result.detail = Outcome.ERROR, f"cannot read {path}: {exc}"
            return result
        if snapshot is None or not isinstance(snapshot.record, dict):
            result.outcome, result.detail = Outcome.ERROR, f"no record at {path} to send boundary values to"
            return result
        cases = list(self._cases(operation, media_type, path, snapshot.record))
        sent = 0
        for case in cases:
            self._send(operation, media_type, path, case, result)
            sent += 1
            try:
                self.restorer.restore(snapshot, self.headers)
            except (RestoreError, TargetUnreachable) as exc:
                # The record is no longer the valid one the other cases need: stop, and say why after all results.
                self.restore_failures.append(
                    CaseResult(
                        api=self.api.name, suite=Suite.BOUNDARIES, name=f"restore {path}", title=RESTORE,
                        outcome=Outcome.ERROR,
                        detail=f"restore failed: writing {path} back after {case.member}={_show(case.value)}: {exc}",
                    )
                )  # fmt: skip
                break
        cases = cases[:sent]
        result.cases, result.positive = len(cases), len(cases)
        kinds = sorted({case.kind.split(" ", 1)[0] for case in cases})
        result.detail = "; ".join(filter(None, [result.detail, f"{len(cases)} case(s): {', '.join(kinds)}"]))
        if not cases:
            result.outcome, result.detail = Outcome.NOT_RUN, "the spec documents no boundary for this media type"
        return result

    def _cases(self, operation: Operation, media_type: str, path: str, record: Mapping[str, Any]) -> Iterator[Boundary]:
        members = self._members(operation, media_type)
        unclearable = self.restorer.unclearable(path, record)
        plain: Boundary | None = None
        for member, schema in members.items():
            if member not in record or member in unclearable:
                continue
            yield from boundaries(member, schema, record[member], self.api)
            if plain is None and isinstance(record[member], str) and not {"pattern", "format", "enum"} & set(schema):
                plain = Boundary(member, record[member], f"content type {media_type}")
        if plain is not None:
            yield plain

    def _members(self, operation: Operation, media_type: str) -> dict[str, Any]:
        if self.model.semantics(operation) == "json-patch":
            compared = self.model.compared(operation)
            return {name: schema for name, schema in self.model.record_members(operation).items() if name in compared}
        return self.model.request_members(operation, media_type)

    def _send(self, operation: Operation, media_type: str, path: str, case: Boundary, result: CaseResult) -> None:
        if self.model.semantics(operation) == "json-patch":
            body: Any = [{"op": "replace", "path": f"/{case.member}", "value": case.value}]
        else:
            body = {case.member: case.value}
        if "form-urlencoded" in media_type:
            content = urlencode({case.member: _form_text(case.value)}).encode()
        else:
            content = json.dumps(body).encode()
        response = self.client.send(
            operation.method, path, headers={**self.headers, "Content-Type": media_type}, content=content
        )
        if response.status_code < 400:
            return
        result.outcome = Outcome.FAILED
        result.violations.append(
            Violation(
                rule=VALID_VALUE_REFUSED,
                message=self.client.redactor.text(
                    f"{VALID_VALUE_REFUSED}: valid value refused — {operation.method} {path} ({media_type}) "
                    f"{case.member}={_show(case.value)} ({case.kind}) answered {response.status_code}"
                ),
                expected=EXPECTATION,
                exchange=self.client.record(response),
                subject=case.member,
                basis=self._basis(operation, media_type, case),
            )
        )

    def _basis(self, operation: Operation, media_type: str, case: Boundary) -> Basis:
        """The limit's own mark, on the member or any schema it is built from; a content type's, on the body."""
        if case.kind.startswith("content type"):
            return weakest([node_basis(operation.definition), node_basis(operation.request_schema(media_type))])
        schema = self._members(operation, media_type).get(case.member, {})
        keyword = case.kind.split(" ", 1)[0]
        # an alternative of another type (the decimal string beside a number) does not bear on the value
        alternatives = [o for o in [*schema.get("anyOf", []), *schema.get("oneOf", [])] if _takes(o, case.value)]
        parts = [schema, *schema.get("allOf", []), *alternatives]
        return weakest([self.model.basis(operation), *(node_basis(part, keyword) for part in parts)])


def _form_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else f"{text[:20]}… ({len(str(value))} characters)"
