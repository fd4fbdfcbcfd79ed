"""Checks of one exchange (a request and the answer it got) against the documented behaviour.

Each check is a plain function registered under the rule id it reports, like Schemathesis checks.
The proxy judges every exchange it forwards with them, and drift judges the mock's answers to the
same requests with them; both read the spec and the vendor module through `exchange_spec`. Each finding
carries what the rule it reports rests on (`conformance.evidence`, the spec's `x-likely` marks): only a
documented one is a violation, the others differ from our inference or from HTTP hygiene.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from jsonpointer import JsonPointerException, resolve_pointer

from conformance.evidence import member_basis
from conformance.exchange_spec import ApiContract, Matched, media_type
from openapi_model.evidence import DOCUMENTED, Basis, node_basis, response_basis, statuses_basis, weakest
from openapi_model.values import same_value

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
NOT_JSON: Final = object()
NUMBERS = frozenset({"integer", "number"})


@dataclass(frozen=True)
class Finding:
    rule: str  # the check that failed
    location: str  # where: `response body /id`, `response header Location`, `status`
    message: str
    basis: Basis = DOCUMENTED  # what the rule rests on: the vendor's documents, our inference, or HTTP

    @property
    def documented(self) -> bool:
        return self.basis.documented

    def as_dict(self) -> dict[str, str]:
        found = {"rule": self.rule, "location": self.location, "message": self.message}
        found["evidence"] = self.basis.evidence.value
        if self.basis.source:
            found["because"] = self.basis.source
        return found


@dataclass(frozen=True)
class Exchange:
    """What a check sees: the request as sent and the response as received (bodies decoded)."""

    method: str
    path: str
    request_headers: Mapping[str, str]  # lower-case names
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]  # lower-case names
    response_body: bytes
    query: str = ""

    @cached_property
    def request_json(self) -> Any:
        return _json(self.request_body, self.request_headers.get("content-type"))

    @cached_property
    def response_json(self) -> Any:
        return _json(self.response_body, self.response_headers.get("content-type"))


def _json(body: bytes, content_type: str | None) -> Any:
    if not body or "json" not in media_type(content_type):
        return NOT_JSON
    try:
        return json.loads(body)
    except ValueError:
        return NOT_JSON


Check = Callable[[ApiContract, Matched, Exchange], Iterator[Finding]]
CHECKS: dict[str, Check] = {}


def check(rule: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[rule] = function
        return function

    return register


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    operation: str = ""  # `PATCH /api/v1/contracts/{contract_id}`, or empty when the spec has none

    @property
    def ok(self) -> bool:
        return not self.findings


def judge(contract: ApiContract, exchange: Exchange) -> Verdict:
    matched = contract.match(exchange.method, exchange.path)
    if matched is None:
        location = f"{exchange.method} {exchange.path}"
        return Verdict([Finding("operation_in_spec", location, "the spec declares no such operation")])
    findings = [finding for function in CHECKS.values() for finding in function(contract, matched, exchange)]
    return Verdict(findings, matched.operation.label)


# --- the checks -----------------------------------------------------------------------------------


@check("status_code_conformance")
def declared_status(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    if contract.response(matched, exchange.status) is None:
        declared = ", ".join(matched.definition.get("responses", {}))
        message = f"{exchange.status} is not declared (declared: {declared})"
        yield Finding("status_code_conformance", "status", message, statuses_basis(matched.definition, exchange.status))


@check("content_type_conformance")
def declared_content_type(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    response = contract.response(matched, exchange.status)
    if response is None or not exchange.response_body or "content" not in response:
        return
    actual = media_type(exchange.response_headers.get("content-type"))
    if actual not in response["content"]:
        declared = ", ".join(response["content"])
        yield Finding(
            "content_type_conformance",
            "response header Content-Type",
            f"{actual!r} is not declared ({declared})",
            response_basis(matched.definition, exchange.status),
        )


@check("response_schema_conformance")
def response_schema(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    response = contract.response(matched, exchange.status)
    actual = media_type(exchange.response_headers.get("content-type"))
    schema = (response or {}).get("content", {}).get(actual, {}).get("schema")
    if schema is None:
        return
    declared = response_basis(matched.definition, exchange.status)
    if exchange.response_json is NOT_JSON:
        yield Finding("response_schema_conformance", "response body", "the body is not valid JSON", declared)
        return
    for pointer, message, broken in contract.classified_errors(schema, exchange.response_json, response=True):
        basis = broken if declared.documented else declared  # an inferred response makes all it states inferred
        yield Finding("response_schema_conformance", f"response body {pointer}", message, basis)


@check("response_headers_conformance")
def required_headers(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    response = contract.response(matched, exchange.status) or {}
    declared = response_basis(matched.definition, exchange.status)
    for name, header in response.get("headers", {}).items():
        if header.get("required") and name.lower() not in exchange.response_headers:
            basis = weakest([declared, node_basis(header)])
            yield Finding("response_headers_conformance", f"response header {name}", "required header missing", basis)


@check("invalid_request_accepted")
def invalid_request_accepted(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    """A request the spec forbids must not succeed (rejecting it is the vendor's business)."""
    if not 200 <= exchange.status < 300 or not exchange.request_body:
        return
    sent = media_type(exchange.request_headers.get("content-type"))
    operation = node_basis(matched.definition)
    if sent not in contract.request_media_types(matched):
        basis = weakest([operation, node_basis(matched.definition.get("requestBody"))])
        yield Finding("invalid_request_accepted", "request header Content-Type", f"{sent!r} is not declared", basis)
        return
    schema = contract.request_schema(matched, sent)
    if schema is None or exchange.request_json is NOT_JSON:
        return
    for pointer, message, broken in contract.classified_errors(schema, exchange.request_json, response=False):
        yield Finding("invalid_request_accepted", f"request body {pointer}", message, weakest([operation, broken]))


@check("update_echoes_request")
def update_echoes_request(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    """A successful update answers with the record as updated: every value sent reads back."""
    if exchange.method not in WRITE_METHODS or not 200 <= exchange.status < 300:
        return
    sent, answered = exchange.request_json, exchange.response_json
    if not isinstance(answered, dict):
        return
    not_read_back = contract.not_read_back(matched)
    for pointer, value in sent_values(sent):
        got = _at(answered, pointer)
        if got is _MISSING or value is None:
            continue  # a member the answer does not show; what null means is the vendor's rule
        if pointer.lstrip("/").split("/", 1)[0] in not_read_back:
            continue  # the spec says the answer shows something else (Zoho's `sla` follows `associatedSLAId`)
        if not _echoes(value, got) and _same_kind(contract, matched, exchange, pointer):
            yield Finding(
                "update_echoes_request",
                f"response body {pointer}",
                f"sent {json.dumps(value)}, the answer shows {json.dumps(got)}",
                _echo_basis(contract, matched, exchange, pointer),
            )


@check("derived_members")
def derived_members(contract: ApiContract, matched: Matched, exchange: Exchange) -> Iterator[Finding]:
    """Members the vendor computes from others (declared by its module) hold the computed value."""
    resource = contract.resource(matched)
    body = exchange.response_json
    if resource is None or not isinstance(body, dict) or not 200 <= exchange.status < 300:
        return
    declared = response_basis(matched.definition, exchange.status)
    for member, derive in resource.derived.items():
        expected = derive(body)
        if member in body and expected is not None and body[member] != expected:
            yield Finding(
                "derived_members",
                f"response body /{member}",
                f"{member} is {json.dumps(body[member])}, but follows from the record as {json.dumps(expected)}",
                weakest([declared, member_basis(contract.resource_schema(resource), f"/{member}")]),
            )


# --- helpers --------------------------------------------------------------------------------------

_MISSING: Final = object()


def sent_values(sent: Any) -> Iterator[tuple[str, Any]]:
    """(pointer, value) for what a request sets: members of a JSON object, or add/replace of a JSON Patch."""
    if isinstance(sent, dict):
        for name, value in sent.items():
            yield f"/{name}", value
    elif isinstance(sent, list):
        for operation in sent:
            if isinstance(operation, dict) and operation.get("op") in ("add", "replace") and "value" in operation:
                yield str(operation.get("path", "")), operation["value"]


def _at(document: Any, pointer: str) -> Any:
    """The member a JSON pointer names, or `_MISSING`."""
    try:
        return resolve_pointer(document, pointer, _MISSING)
    except JsonPointerException:  # not a pointer, or it walks through a scalar
        return _MISSING


def _echoes(sent: Any, got: Any) -> bool:
    """Whether `got` shows the value `sent`, allowing the representations vendors change on the way."""
    if sent == got:
        return True
    if isinstance(sent, dict) and isinstance(got, dict):
        return all(key not in got or value is None or _echoes(value, got[key]) for key, value in sent.items())
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(_echoes(s, g) for s, g in zip(sent, got, strict=True))
    if isinstance(got, dict) and "id" in got and not isinstance(sent, dict | list):
        return _echoes(sent, got["id"])  # a relation sent by id, answered expanded
    if isinstance(sent, dict | list) or isinstance(got, dict | list) or got is None:
        return False
    if str(sent) == str(got) or same_value(sent, got):
        return True  # an id or number answered as a string, or the other way round (150000 as "150000.00")
    return _same_moment(str(sent), str(got))


def _same_moment(sent: str, got: str) -> bool:
    """A date sent and a date-time answered (or two spellings of one date-time)."""
    try:
        return _moment(sent) == _moment(got)
    except ValueError:
        return False


def _moment(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone(dt.UTC).replace(tzinfo=None)


def _same_kind(contract: ApiContract, matched: Matched, exchange: Exchange, pointer: str) -> bool:
    """Whether the spec types a member alike in the request and the answer (else they cannot be compared)."""
    sent = media_type(exchange.request_headers.get("content-type"))
    request_schema = contract.request_schema(matched, sent) or {}
    response = contract.response(matched, exchange.status) or {}
    answered = media_type(exchange.response_headers.get("content-type"))
    response_schema = response.get("content", {}).get(answered, {}).get("schema") or {}
    name = pointer.lstrip("/").split("/", 1)[0]
    left, right = _member_type(request_schema, name), _member_type(response_schema, name)
    if left is None or right is None or right == "object":
        return True  # untyped (oneOf, $ref'd ids), or a relation sent by id and answered expanded
    return left == right or {left, right} <= NUMBERS


def _echo_basis(contract: ApiContract, matched: Matched, exchange: Exchange, pointer: str) -> Basis:
    """An echo rests on the answer declared for the status and on the member in both the request and the answer."""
    sent = media_type(exchange.request_headers.get("content-type"))
    answered = media_type(exchange.response_headers.get("content-type"))
    return weakest(
        [
            node_basis(matched.definition),
            response_basis(matched.definition, exchange.status),
            member_basis(contract.request_schema(matched, sent) or {}, pointer),
            member_basis(contract.response_schema(matched, exchange.status, answered) or {}, pointer),
        ]
    )


def _member_type(schema: Mapping[str, Any], name: str) -> str | None:
    properties: dict[str, Any] = {}
    for part in [schema, *schema.get("allOf", [])]:
        properties.update(part.get("properties", {}))
    member = properties.get(name)
    if not isinstance(member, Mapping):
        return None
    kind = member.get("type")
    return str(kind) if kind else None
