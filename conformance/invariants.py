"""The documented update semantics, checked around every write the harness makes.

What each write operation does with the members it is sent, and which response members the
service derives, is declared in the spec, never here:

- `x-update` on a write operation: `partial` (members not sent stay unchanged), `replace`
  (members not sent become null or their default) or `json-patch` (RFC 6902 applied to the record).
- `x-null-means-unsent: true` on a write operation: a member sent as `null` is kept; with
  `x-empty-means-null` on a form's schema, so is an empty form value (read in `openapi_model.keywords`,
  the one reading the mock shares).
- `x-derived-from: [member, ...]` on a response member: the service computes it from those members
  (`["*"]`: from any change); it is never compared as "unchanged" and, when exactly one of its
  inputs changes, it must change too.
- `x-read-form: name` on a response member: it reads back as the name of the record sent by id, so
  read-after-write cannot compare it.
- `x-immutable: true` on a request member: set when the record is created; a replacement keeps it.
- `readOnly` response members are never compared.

`check_write` compares the record read before a write with the record read after it, values in their
read forms (`openapi_model.values.same_value`); each finding carries the basis of the keywords it rests on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonpatch

from conformance.apis import Api, Operation
from openapi_model import keywords, properties
from openapi_model.evidence import DOCUMENTED, Basis, node_basis, weakest
from openapi_model.values import same_value as same_value  # re-exported: the harness's reading

READ_AFTER_WRITE = "invariant:read-after-write"
UNSENT_UNCHANGED = "invariant:unsent-member-unchanged"
REPLACE_NULLS_UNSENT = "invariant:replace-nulls-unsent"
REJECTED_CHANGES_NOTHING = "invariant:rejected-write-changes-nothing"
DERIVED_RECOMPUTED = "invariant:derived-member-recomputed"

INVARIANTS = {
    READ_AFTER_WRITE: "Every member a write sends is read back as sent.",
    UNSENT_UNCHANGED: "A partial update leaves every member it does not send unchanged.",
    REPLACE_NULLS_UNSENT: "A full replacement sets every writable member it does not send to null or its default.",
    REJECTED_CHANGES_NOTHING: "A rejected write leaves the record exactly as it was.",
    DERIVED_RECOMPUTED: "A derived member is recomputed when one of the members it is derived from changes.",
}


@dataclass(frozen=True)
class Finding:
    invariant: str
    member: str
    message: str
    basis: Basis = DOCUMENTED  # the spec keywords the expectation rests on


@dataclass(frozen=True)
class Write:
    """One write as sent and answered: the operation, its media type and body, and the status."""

    operation: Operation
    media_type: str
    body: Any
    status: int

    @property
    def label(self) -> str:
        return f"{self.operation.method} {self.operation.path}"


class UpdateModel:
    """The spec's word on one API's writes: semantics per operation, derived and read-only members."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def semantics(self, operation: Operation) -> str | None:
        value = operation.definition.get("x-update")
        return str(value) if value is not None else None

    def basis(self, operation: Operation, *more: Basis | None) -> Basis:
        """What an invariant of `operation` rests on: its `x-update` (and any further keyword used)."""
        definition = operation.definition
        return weakest([node_basis(definition), node_basis(definition, "x-update"), *more])

    def member_basis(self, operation: Operation, media_type: str, name: str) -> Basis | None:
        """The request member's own mark (not its parents'): what the spec says a write of it does."""
        return node_basis(self.request_members(operation, media_type).get(name))

    def checked(self, operation: Operation) -> bool:
        """Writes whose record the harness can read back (a GET on the same path) and whose semantics are declared."""
        return self.semantics(operation) is not None and self.api.operation_for("GET", operation.path) is not None

    def record_members(self, operation: Operation) -> dict[str, Any]:
        return {name: dict(member) for name, member in properties(self.record_schema(operation)).items()}

    def record_schema(self, operation: Operation) -> Any:
        """The schema of the record `operation` writes, as its read (a GET on the same path) answers it."""
        read = self.api.operation_for("GET", operation.path)
        if read is None:
            return {}
        response = read.definition.get("responses", {}).get("200", {})
        content: dict[str, Any] = response.get("content", {})
        first: dict[str, Any] = next(iter(content.values()), {})
        return first.get("schema", {})

    def derived(self, operation: Operation) -> dict[str, list[str]]:
        return {
            name: list(member["x-derived-from"])
            for name, member in self.record_members(operation).items()
            if "x-derived-from" in member
        }

    def compared(self, operation: Operation) -> set[str]:
        """Record members an unchanged-check compares: neither read-only nor derived."""
        return {
            name
            for name, member in self.record_members(operation).items()
            if not member.get("readOnly") and "x-derived-from" not in member
        }

    def request_members(self, operation: Operation, media_type: str) -> dict[str, Any]:
        body = operation.definition.get("requestBody", {})
        schema = body.get("content", {}).get(media_type, {}).get("schema", {})
        return {name: member for name, member in properties(schema).items()}


def parse_body(content: bytes | None, media_type: str) -> Any:
    """A request body as data: JSON, or a form as a mapping of its last values per name."""
    if not content:
        return None
    if "form-urlencoded" in media_type:
        return dict(parse_qsl(content.decode("utf-8", errors="replace"), keep_blank_values=True))
    try:
        return json.loads(content)
    except ValueError:
        return None


def check_write(model: UpdateModel, write: Write, before: Any, after: Any) -> list[Finding]:
    """Every way the record read after `write` departs from the documented semantics."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    if write.status >= 400:
        if before == after:
            return []
        changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
        return [
            Finding(
                REJECTED_CHANGES_NOTHING,
                name,
                f"{write.label} was refused with {write.status} but changed {name}: "
                f"{_show(before.get(name))} → {_show(after.get(name))}",
            )
            for name in changed
            if not same_value(before.get(name), after.get(name))
        ]
    if not 200 <= write.status < 300:
        return []
    semantics = model.semantics(write.operation)
    if semantics == "json-patch":
        findings = _json_patch(model, write, before, after)
    elif semantics in ("partial", "replace"):
        findings = _merge(model, write, semantics, before, after)
    else:
        return []
    return findings + _derived(model, write, before, after)


def _merge(
    model: UpdateModel, write: Write, semantics: str, before: dict[str, Any], after: dict[str, Any]
) -> list[Finding]:
    if not isinstance(write.body, dict):
        return []
    definition = write.operation.definition
    request_schema = write.operation.request_schema(write.media_type)
    sent = {name: value for name, value in write.body.items() if not keywords.unsent(value, definition, request_schema)}
    # Members sent, but as values the spec reads as "not sent": that reading is itself a basis.
    unsent_as_null = {name for name in write.body if name not in sent}
    null_basis = weakest(
        [node_basis(definition, "x-null-means-unsent"), node_basis(request_schema, "x-empty-means-null")]
    )
    compared = model.compared(write.operation)
    comparable = {name for name, member in model.record_members(write.operation).items() if "x-read-form" not in member}
    findings = []
    writable = model.request_members(write.operation, write.media_type)
    for name, value in sent.items():
        if name in compared & comparable and name in after and not same_value(value, after[name]):
            if keywords.immutable(writable.get(name, {})) and same_value(before.get(name), after[name]):
                continue  # an immutable member the target ignored: not a failed write
            findings.append(
                Finding(
                    READ_AFTER_WRITE,
                    name,
                    f"{write.label} sent {name}={_show(value)} but it reads back as {_show(after[name])}",
                    model.basis(write.operation, model.member_basis(write.operation, write.media_type, name)),
                )
            )
    for name in sorted(compared - set(sent)):
        if name not in before or name not in after:
            continue
        if semantics == "partial" and not same_value(before[name], after[name]):
            how = f"sent {name} as {_show(write.body[name])}, read as not sent" if name in unsent_as_null else ""
            findings.append(
                Finding(
                    UNSENT_UNCHANGED,
                    name,
                    f"{write.label} did not send {name}, yet it changed: {_show(before[name])} → {_show(after[name])}"
                    + (f" ({how})" if how else ""),
                    model.basis(write.operation, null_basis if name in unsent_as_null else None),
                )
            )
        elif (
            semantics == "replace"
            and name in writable
            and not writable[name].get("x-immutable")
            and not _null_or_default(after[name], writable[name])
        ):
            findings.append(
                Finding(
                    REPLACE_NULLS_UNSENT,
                    name,
                    f"{write.label} replaces the record without {name}, yet it reads {_show(after[name])}, "
                    "not null or its default",
                    model.basis(write.operation, model.member_basis(write.operation, write.media_type, name)),
                )
            )
    return findings


def _json_patch(model: UpdateModel, write: Write, before: dict[str, Any], after: dict[str, Any]) -> list[Finding]:
    if not isinstance(write.body, list):
        return []
    try:
        expected = jsonpatch.JsonPatch(write.body).apply(before)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, ValueError):
        return []  # the target accepted what RFC 6902 cannot apply: other checks judge the status
    if not isinstance(expected, dict):
        return []
    touched = {_top_member(op.get(key)) for op in write.body if isinstance(op, dict) for key in ("path", "from")}
    findings = []
    for name in sorted(model.compared(write.operation)):
        if expected.get(name) == after.get(name):
            continue
        if name in touched:
            message = (
                f"{write.label} set {name} to {_show(expected.get(name))}, "
                f"but it reads back as {_show(after.get(name))}"
            )
            findings.append(Finding(READ_AFTER_WRITE, name, message, model.basis(write.operation)))
        else:
            message = (
                f"{write.label} did not touch {name}, yet it changed: "
                f"{_show(before.get(name))} → {_show(after.get(name))}"
            )
            findings.append(Finding(UNSENT_UNCHANGED, name, message, model.basis(write.operation)))
    return findings


def _derived(model: UpdateModel, write: Write, before: dict[str, Any], after: dict[str, Any]) -> list[Finding]:
    findings = []
    sent = _sent_members(write)
    for name, inputs in model.derived(write.operation).items():
        if "*" in inputs or name in sent or name not in after or after[name] is None:
            continue
        changed = [member for member in inputs if before.get(member) != after.get(member)]
        if len(changed) == 1 and before.get(name) == after.get(name):
            findings.append(
                Finding(
                    DERIVED_RECOMPUTED,
                    name,
                    f"{write.label} changed {changed[0]} ({_show(before.get(changed[0]))} → "
                    f"{_show(after.get(changed[0]))}), yet {name}, derived from it, still reads {_show(after[name])}",
                    model.basis(
                        write.operation, node_basis(model.record_members(write.operation)[name], "x-derived-from")
                    ),
                )
            )
    return findings


def _sent_members(write: Write) -> set[str]:
    if isinstance(write.body, dict):
        return set(write.body)
    if isinstance(write.body, list):
        return {_top_member(op.get(key)) for op in write.body if isinstance(op, dict) for key in ("path", "from")}
    return set()


def _top_member(pointer: Any) -> str:
    if not isinstance(pointer, str):
        return ""
    return pointer.lstrip("/").split("/", 1)[0].replace("~1", "/").replace("~0", "~")


def _null_or_default(value: Any, schema: Mapping[str, Any]) -> bool:
    return value is None or ("default" in schema and value == schema["default"])


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:80] + "…"
