"""Boundary cases generated from the spec: every limit of every writable member, from both sides, each sent as
a one-member change of a valid record.

For each write operation whose record can be read back, and each media type it accepts:
- one case per valid boundary of each writable member: every enum value, a string of exactly
  `maxLength`, exactly `minimum` and `maximum`, the record's own value in each alternative type the
  schema documents, and (for every media type) the record's own value of one plain member. A 4xx is a
  valid value refused;
- one case per limit, just past it: a string one character longer than `maxLength`, one below
  `minimum`, one above `maximum`, a text that is no value of an `enum`. A 2xx is an invalid value
  accepted (the record is put back at once).
Each case changes one member of a valid record, so no cross-field rule applies. A member whose limits
depend on other members says so in the spec with `x-boundaries: <why not>` (or, for some kinds only,
`x-boundaries: {maximum: <why not>}`), and those cases are left out on both sides. Each finding is classed
by the limit's own mark, through every schema above the member (`conformance.evidence.member_basis`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from conformance.apis import Api, Operation
from conformance.evidence import member_basis
from conformance.http import Client, TargetUnreachable
from conformance.invariants import UpdateModel
from conformance.restore import RESTORE, Ledger, RestoreError, Restorer
from conformance.results import Basis, CaseResult, Outcome, Suite, Violation
from openapi_model.evidence import node_basis, weakest
from openapi_model.values import same_value

VALID_VALUE_REFUSED = "boundary:valid-value-refused"
ALTERNATIVE = "alternative type "  # the kind of a case that sends the record's value in another documented type
INVALID_VALUE_ACCEPTED = "boundary:invalid-value-accepted"
EXPECTATION = (
    "A value the spec documents as valid is accepted, and a value just past a documented limit refused, "
    "when it is the only change to a valid record."
)


@dataclass(frozen=True)
class Boundary:
    member: str
    value: Any
    kind: str  # enum, maxLength, minimum, maximum, alternative type, content type
    valid: bool = True  # False: just past the limit `kind` names, so the target must refuse it


def boundaries(member: str, schema: Mapping[str, Any], current: Any, api: Api) -> Iterator[Boundary]:
    """The valid boundary values of one member, from its schema (and its current value, for alternative types)."""
    exempt = schema.get("x-boundaries", {})
    if isinstance(exempt, str) or schema.get("x-immutable"):
        return
    for boundary in _all_boundaries(member, _flatten(schema, api), current, api):
        if boundary.kind not in exempt:
            yield boundary


def past_limits(member: str, schema: Mapping[str, Any], api: Api) -> Iterator[Boundary]:
    """A value just past each documented limit of one member: what the target must refuse."""
    exempt = schema.get("x-boundaries", {})
    if isinstance(exempt, str) or schema.get("x-immutable"):
        return
    for boundary in _all_past_limits(member, _flatten(schema, api), api):
        if boundary.kind not in exempt:
            yield boundary


def _all_past_limits(member: str, schema: Mapping[str, Any], api: Api) -> Iterator[Boundary]:
    kinds = _types(schema, api)
    choices = [value for value in schema.get("enum", []) if value is not None]
    if kinds == {"string"} and choices and "pattern" not in schema:
        yield Boundary(member, _not_a_choice(choices), "enum", valid=False)
    if kinds == {"string"} and "maxLength" in schema and not {"pattern", "format", "enum"} & set(schema):
        yield Boundary(member, "x" * (int(schema["maxLength"]) + 1), "maxLength", valid=False)
    if kinds & {"integer", "number"}:
        # One whole unit past: an exact JSON number however large the limit (a cent past 999999999999999 is
        # not one in binary floating point), and past any `multipleOf`.
        for keyword, step in (("minimum", -1), ("maximum", 1)):
            if keyword in schema and not schema.get(f"exclusive{keyword.capitalize()}"):
                limit = schema[keyword]
                past = int(limit) + step if float(limit).is_integer() else limit + step
                yield Boundary(member, past, keyword, valid=False)


def _not_a_choice(choices: list[Any]) -> str:
    """A text no choice is, in any letter case (some frameworks match enum names case-insensitively)."""
    candidate = "undocumented-choice"
    taken = {str(choice).lower() for choice in choices}
    while candidate in taken:
        candidate += "-x"
    return candidate


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
                yield Boundary(member, converted, f"{ALTERNATIVE}{option.get('type')}")


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
        result.cases = len(cases)
        result.positive = sum(1 for case in cases if case.valid)
        result.negative = result.cases - result.positive
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
            yield from past_limits(member, schema, self.api)
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
        refused = response.status_code >= 400
        if refused == (not case.valid) or (not case.valid and response.status_code >= 500):
            return  # as documented; a 5xx is a refusal, left to the fuzz suite's server-error check
        if not case.valid and not self._stored(path, case):
            return  # answered 2xx but kept nothing of it (a member the target ignores): nothing past the limit is kept
        rule, what = (
            (VALID_VALUE_REFUSED, "valid value refused")
            if case.valid
            else (INVALID_VALUE_ACCEPTED, "value past the limit accepted")
        )
        result.outcome = Outcome.FAILED
        result.violations.append(
            Violation(
                rule=rule,
                message=self.client.redactor.text(
                    f"{rule}: {what} — {operation.method} {path} ({media_type}) "
                    f"{case.member}={_show(case.value)} ({case.kind}) answered {response.status_code}"
                ),
                expected=EXPECTATION,
                exchange=self.client.record(response),
                subject=case.member,
                basis=self._basis(operation, media_type, case),
            )
        )

    def _stored(self, path: str, case: Boundary) -> bool:
        """Whether the record now holds the value the case sent (in any form the specs document)."""
        try:
            response = self.client.send("GET", path, headers=self.headers)
            record = response.json() if response.status_code == 200 else None
        except (TargetUnreachable, ValueError):
            return True  # cannot tell: the 2xx stands
        return not isinstance(record, dict) or same_value(case.value, record.get(case.member))

    def _basis(self, operation: Operation, media_type: str, case: Boundary) -> Basis:
        """The limit's own mark, through every schema above the member; a content type's, on the body."""
        if case.kind.startswith("content type"):
            return weakest([node_basis(operation.definition), node_basis(operation.request_schema(media_type))])
        if case.kind.startswith(ALTERNATIVE):
            # the alternative sent is what the case rests on, not the member's other alternatives
            json_type = case.kind.removeprefix(ALTERNATIVE)
            return limit_basis(self.model, operation, media_type, case.member, "type", json_type=json_type)
        return limit_basis(self.model, operation, media_type, case.member, case.kind.split(" ", 1)[0])


def limit_basis(
    model: UpdateModel, operation: Operation, media_type: str, member: str, keyword: str, json_type: str | None = None
) -> Basis:
    """What one limit (`keyword`) of one member of a write rests on: the operation's marks, and the keyword's own
    through every schema above the member (an object marked `x-likely` makes its members' limits inferred).
    The one reading for a boundary finding and for the rule matrix."""
    if model.semantics(operation) == "json-patch":
        body = model.record_schema(operation)  # a JSON Patch names the record's members
    else:
        body = operation.request_schema(media_type) or {}
    return weakest([model.basis(operation), member_basis(body, f"/{member}", keyword, json_type)])


def _form_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else f"{text[:20]}… ({len(str(value))} characters)"
