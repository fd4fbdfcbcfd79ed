"""The update invariants, read from each spec's `x-update` and `x-derived-from`, judge a write from the record
read before it and after it."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.apis import Api, Operation, discover
from conformance.boundaries import boundaries
from conformance.invariants import (
    DERIVED_RECOMPUTED,
    READ_AFTER_WRITE,
    REJECTED_CHANGES_NOTHING,
    REPLACE_NULLS_UNSENT,
    UNSENT_UNCHANGED,
    UpdateModel,
    Write,
    check_write,
    same_value,
)

APIS = discover()


def writes(semantics: str) -> list[tuple[Api, Operation]]:
    found = []
    for api in APIS.values():
        model = UpdateModel(api)
        found += [(api, op) for op in api.operations() if model.checked(op) and model.semantics(op) == semantics]
    return found


def ids(pairs: list[tuple[Api, Operation]]) -> list[str]:
    return [f"{api.name} {operation.label}" for api, operation in pairs]


def plain_members(api: Api, operation: Operation, media_type: str) -> list[str]:
    """Writable record members a merge body can carry as text."""
    model = UpdateModel(api)
    request = model.request_members(operation, media_type)
    return [
        name
        for name in sorted(model.compared(operation))
        if request.get(name, {}).get("type") == "string" and not {"pattern", "format", "enum"} & set(request[name])
    ]


def record(api: Api, operation: Operation) -> dict[str, Any]:
    return {name: f"{name} before" for name in UpdateModel(api).record_members(operation)}


def first_media_type(api: Api, operation: Operation) -> str:
    return next(iter(operation.definition["requestBody"]["content"]))


@pytest.mark.parametrize(("api", "operation"), writes("partial"), ids=ids(writes("partial")))
def test_partial_update_must_keep_members_it_does_not_send(api: Api, operation: Operation) -> None:
    model, media_type = UpdateModel(api), first_media_type(api, operation)
    sent, cleared = plain_members(api, operation, media_type)[:2]
    before = record(api, operation)
    write = Write(operation, media_type, {sent: "new"}, 200)

    assert check_write(model, write, before, {**before, sent: "new"}) == []
    findings = check_write(model, write, before, {**before, sent: "new", cleared: ""})

    assert [(f.invariant, f.member) for f in findings] == [(UNSENT_UNCHANGED, cleared)]
    assert cleared in findings[0].message and operation.method in findings[0].message


@pytest.mark.parametrize(("api", "operation"), writes("partial"), ids=ids(writes("partial")))
def test_a_member_sent_must_read_back_as_sent(api: Api, operation: Operation) -> None:
    model, media_type = UpdateModel(api), first_media_type(api, operation)
    sent = plain_members(api, operation, media_type)[0]
    before = record(api, operation)

    findings = check_write(model, Write(operation, media_type, {sent: "new"}, 200), before, before)

    assert [(f.invariant, f.member) for f in findings] == [(READ_AFTER_WRITE, sent)]


@pytest.mark.parametrize(("api", "operation"), writes("partial") + writes("json-patch"))
def test_a_rejected_write_must_leave_the_record_exactly_as_it_was(api: Api, operation: Operation) -> None:
    model, before = UpdateModel(api), record(api, operation)
    member = sorted(before)[0]
    write = Write(operation, first_media_type(api, operation), {}, 400)

    assert check_write(model, write, before, dict(before)) == []
    findings = check_write(model, write, before, {**before, member: "partly applied"})
    assert [(f.invariant, f.member) for f in findings] == [(REJECTED_CHANGES_NOTHING, member)]


@pytest.mark.parametrize(("api", "operation"), writes("replace"), ids=ids(writes("replace")))
def test_a_replacement_must_null_the_writable_members_it_does_not_send(api: Api, operation: Operation) -> None:
    model, media_type = UpdateModel(api), first_media_type(api, operation)
    sent, unsent = plain_members(api, operation, media_type)[:2]
    before = record(api, operation)
    nulled = {name: None for name in model.request_members(operation, media_type) if name in before and name != sent}
    immutable = {n: before[n] for n, s in model.request_members(operation, media_type).items() if s.get("x-immutable")}
    after = {**before, **nulled, **immutable, sent: "new"}
    write = Write(operation, media_type, {sent: "new"}, 200)

    assert check_write(model, write, before, after) == []
    findings = check_write(model, write, before, {**after, unsent: "kept"})
    assert [(f.invariant, f.member) for f in findings] == [(REPLACE_NULLS_UNSENT, unsent)]


@pytest.mark.parametrize(("api", "operation"), writes("json-patch"), ids=ids(writes("json-patch")))
def test_a_json_patch_changes_exactly_what_it_says(api: Api, operation: Operation) -> None:
    model = UpdateModel(api)
    inputs = {name for names in model.derived(operation).values() for name in names}
    touched, untouched = sorted(model.compared(operation) - inputs)[:2]
    before = record(api, operation)
    write = Write(operation, "application/json-patch+json", [{"op": "replace", "path": f"/{touched}", "value": 3}], 200)

    assert check_write(model, write, before, {**before, touched: 3}) == []
    lost = check_write(model, write, before, before)
    spilled = check_write(model, write, before, {**before, touched: 3, untouched: None})
    assert [(f.invariant, f.member) for f in lost] == [(READ_AFTER_WRITE, touched)]
    assert [(f.invariant, f.member) for f in spilled] == [(UNSENT_UNCHANGED, untouched)]


DERIVED = [
    (api, operation, member, inputs)
    for api in APIS.values()
    for operation in api.operations()
    if UpdateModel(api).checked(operation) and operation.method != "GET"
    for member, inputs in UpdateModel(api).derived(operation).items()
    if "*" not in inputs
]


@pytest.mark.parametrize(("api", "operation", "member", "inputs"), DERIVED)
def test_a_derived_member_must_follow_a_change_of_what_it_is_derived_from(
    api: Api, operation: Operation, member: str, inputs: list[str]
) -> None:
    model, before = UpdateModel(api), record(api, operation)
    changed = {**before, inputs[0]: "changed"}
    write = Write(operation, first_media_type(api, operation), {}, 200)

    findings = [f for f in check_write(model, write, before, changed) if f.invariant == DERIVED_RECOMPUTED]
    assert [f.member for f in findings] == [member]
    assert not [f for f in check_write(model, write, before, {**changed, member: "recomputed"}) if f.member == member]


@pytest.mark.parametrize(
    ("sent", "read"),
    [(3, {"id": 3, "name": "x"}), ("5", 5), (True, "true"), ("2025-11-02", "2025-11-02T00:00:00"),
     ("2025-11-02T20:49", "2025-11-02T20:49:00"), ({"a": 1, "unknown": 2}, {"a": 1, "b": 2})],
)  # fmt: skip
def test_documented_read_forms_are_the_value_sent(sent: Any, read: Any) -> None:
    assert same_value(sent, read)


@pytest.mark.parametrize(("sent", "read"), [(3, 4), ("2025-11-02", "2025-11-03T00:00:00"), ("ab", "abc"), (None, "")])
def test_other_values_are_not(sent: Any, read: Any) -> None:
    assert not same_value(sent, read)


def test_boundaries_cover_every_kind_and_honour_x_boundaries() -> None:
    api = next(iter(APIS.values()))
    schema = {"type": "integer", "minimum": 0, "maximum": 28}
    text = {"type": "string", "maxLength": 3, "enum": ["a", "b", None]}
    either = {"anyOf": [{"type": "string"}, {"type": "integer"}]}

    assert [(b.kind, b.value) for b in boundaries("n", schema, 5, api)] == [("minimum", 0), ("maximum", 28)]
    assert [b.value for b in boundaries("s", text, "a", api)] == ["a", "b"]
    assert [b.value for b in boundaries("s", {"type": "string", "maxLength": 3}, "a", api)] == ["xxx"]
    assert [b.value for b in boundaries("i", either, "12", api)] == ["12", 12]
    assert [b.kind for b in boundaries("n", {**schema, "x-boundaries": {"maximum": "why"}}, 5, api)] == ["minimum"]
    assert list(boundaries("n", {**schema, "x-boundaries": "why"}, 5, api)) == []
