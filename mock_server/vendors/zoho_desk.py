"""Zoho Desk: contracts, read with GET and partially updated with PATCH.

The spec (`openapi/zoho-desk.yaml`) checks types, lengths and unknown attributes. This module turns
ids into strings of digits, then checks what a schema cannot: calendar dates, start before end, the
related records and the SLA's department, the expiry notification date and custom fields by their
type. It renders contracts with `sla`, `account`,
`product` and `notifyOn` derived, and every error as Zoho's `{errorCode, message, errors}`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.engine.errors import FieldError, VendorError, validation_error
from mock_server.engine.references import dangling
from mock_server.state.store import Record, RecordsView, Transaction
from mock_server.vendors.base import RequestContext, Vendor
from vendor_facts import zoho_desk as facts

CONTRACTS = facts.CONTRACTS
CUSTOM_FIELDS = "contractFields"

REFERENCES = facts.REFERENCES

ID_ATTRIBUTES = ("associatedSLAId", "accountId", "departmentId", "productId", "ownerId")
ECHOED_RELATIONS = facts.ECHOED_RELATIONS

INVALID_DATA_MESSAGE = "The data is invalid due to validation restrictions"
# Zoho's code for a request it cannot act on: unknown attributes, unreadable bodies.
_EXTRA = "UNPROCESSABLE_ENTITY"


@dataclass
class ZohoError(VendorError):
    """An error whose Zoho `errorCode` (and extra body members) the rules choose themselves."""

    error_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def get_contract(ctx: RequestContext, contract_id: str) -> tuple[Record, int]:
    contract = ctx.records.peek(CONTRACTS, contract_id)
    if contract is None:
        raise _contract_not_found(contract_id)
    return _rendered(ctx.records, contract), 200


def update_contract(ctx: RequestContext, contract_id: str, body: dict[str, Any]) -> tuple[Record, int]:
    fields = _custom_fields(ctx.records)

    # The check-then-write is one store transaction, so a concurrent update is never lost.
    def apply(tx: Transaction) -> Record:
        stored = tx.peek(CONTRACTS, contract_id)
        if stored is None:
            raise _contract_not_found(contract_id)
        updated = _updated_contract(ctx.records, stored, body, fields)
        updated["modifiedBy"] = ctx.principal
        updated["modifiedTime"] = _timestamp(ctx.clock.now())
        # `updated` is a new record (members of `stored` are never changed in place): stored as it is.
        tx.put(CONTRACTS, contract_id, updated, copy=False)
        return updated

    updated = ctx.records.transaction(apply)
    return _rendered(ctx.records, updated, fields), 200


# --- list and create ----------------------------------------------------------------------------

LIST_FILTERS = ("departmentId", "accountId", "ownerId")
# attributes a new contract has before the body is applied: optional ones start empty
_BLANK: Record = {
    "contractNumber": None,
    "description": None,
    "productId": None,
    "notifyBefore": None,
    "endDate": None,
    "notificationAgentIds": [],
    "cf": {},
}


def list_contracts(ctx: RequestContext, limit: int = 10, sortBy: str | None = None, **query: Any) -> tuple[Record, int]:
    """`{"data": [...]}`: `limit` contracts from index `from`, filtered by department, account and
    owner, sorted by `sortBy` (`-` before it for descending; by id when not given)."""
    first = int(query.get("from_", query.get("from")) or 0)
    contracts = ctx.records.peek_all(CONTRACTS)
    for name in LIST_FILTERS:
        if query.get(name) is not None:
            contracts = [c for c in contracts if c.get(name) == str(query[name])]
    contracts.sort(key=lambda c: int(c["id"]))
    if sortBy:
        attribute, descending = sortBy.lstrip("-"), sortBy.startswith("-")
        present = sorted((c for c in contracts if c.get(attribute) is not None), key=lambda c: c[attribute])
        contracts = (present[::-1] if descending else present) + [c for c in contracts if c.get(attribute) is None]
    fields = _custom_fields(ctx.records)
    return {"data": [_rendered(ctx.records, c, fields) for c in contracts[first : first + limit]]}, 200


def create_contract(ctx: RequestContext, body: dict[str, Any]) -> tuple[Record, int]:
    """The rules of an update apply to the new contract; its id is the next free one."""

    def create(tx: Transaction) -> Record:
        new_id = str(tx.next_id(CONTRACTS))
        created = _updated_contract(ctx.records, {"id": new_id, **_BLANK}, body)
        moment = _timestamp(ctx.clock.now())
        created.update(createdBy=ctx.principal, createdTime=moment, modifiedBy=ctx.principal, modifiedTime=moment)
        tx.put(CONTRACTS, new_id, created)
        return created

    created = ctx.records.transaction(create)
    return _rendered(ctx.records, created), 200


# --- the update ---------------------------------------------------------------------------------


def _custom_fields(records: RecordsView) -> dict[str, Mapping[str, Any]]:
    """The contract's custom fields by API name: read once per request (every record of a collection)."""
    return {f["apiName"]: f for f in records.peek_all(CUSTOM_FIELDS)}


def _updated_contract(
    records: RecordsView,
    stored: Mapping[str, Any],
    body: Mapping[str, Any],
    fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> Record:
    """The contract `body` makes of `stored`, a new record (`stored` is not changed), once every rule holds."""
    fields = _custom_fields(records) if fields is None else fields
    custom_values = _custom_values(fields, body)
    changes = _normalised(body)
    custom_changes = {name: value for (_, name), value in custom_values.items()}
    updated = {**stored, **changes, "cf": {**stored.get("cf", {}), **custom_changes}}

    errors = _date_errors(changes) or _period_errors(changes, updated)
    errors += dangling(REFERENCES[CONTRACTS], changes, records.exists)
    errors += _custom_value_errors(fields, custom_values)
    if not errors:
        errors = _sla_department_errors(records, changes, updated)
    if errors:
        raise validation_error(errors, INVALID_DATA_MESSAGE)
    return updated


def _normalised(body: Mapping[str, Any]) -> Record:
    """The attributes sent, with ids as strings of digits; echoed relations and custom fields dropped."""
    changes: Record = {}
    for name, value in body.items():
        if name in ECHOED_RELATIONS or name in ("cf", "customFields"):
            continue
        if name in ID_ATTRIBUTES:
            value = None if value is None else str(value)
        elif name == "notificationAgentIds":
            value = [] if value is None else [str(agent) for agent in value]
        changes[name] = value
    return changes


def _custom_values(fields: Mapping[str, Mapping[str, Any]], body: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """Custom field values sent in `customFields` (by label) and `cf` (by API name), keyed by
    (the attribute they came in, the field's API name); an unknown field is an extra parameter."""
    by_label = {f["displayLabel"]: name for name, f in fields.items()}
    values: dict[tuple[str, str], Any] = {}
    for attribute, known in (("customFields", by_label), ("cf", {name: name for name in fields})):
        for key, value in _as_mapping(body.get(attribute)).items():
            if key not in known:
                raise ZohoError(422, "validation", _extra_parameter_message(f"{attribute}.{key}"), error_code=_EXTRA)
            values[(attribute, known[key])] = value
    return values


def _as_mapping(values: Mapping[str, Any] | list[Mapping[str, Any]] | None) -> dict[str, Any]:
    """`cf` and `customFields` are documented as `<list>`: a list of objects applies them in order."""
    if isinstance(values, list):
        return {key: value for mapping in values for key, value in mapping.items()}
    return dict(values or {})


def _custom_value_errors(
    fields: Mapping[str, Mapping[str, Any]], values: Mapping[tuple[str, str], Any]
) -> list[FieldError]:
    errors = []
    for (attribute, name), value in values.items():
        definition = fields[name]
        problem = None if value is None else _custom_value_problem(definition, value)
        if problem:
            key = name if attribute == "cf" else definition["displayLabel"]
            errors.append(FieldError((attribute, key), problem))
    return errors


def _custom_value_problem(definition: Mapping[str, Any], value: Any) -> str | None:
    label, kind = definition["displayLabel"], definition["type"]
    if kind == "Text":
        limit = definition.get("maxLength")
        if not isinstance(value, str):
            return f"{label} must be text"
        if limit is not None and len(value) > limit:
            return f"{label} must have at most {limit} characters"
    elif kind == "Number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"{label} must be a number"
    elif kind == "Date":
        if not isinstance(value, str) or _parsed_date(value) is None:
            return f"{label} must be a date as YYYY-MM-DD"
    elif kind == "Boolean":
        if not isinstance(value, bool):
            return f"{label} must be true or false"
    elif kind == "Picklist":
        allowed = definition.get("allowedValues", [])
        if value not in allowed:
            return f"{label} must be one of {', '.join(allowed)}"
    return None


def _date_errors(changes: Mapping[str, Any]) -> list[FieldError]:
    return [
        FieldError((name,), f"{name} is not a valid date")
        for name in ("startDate", "endDate")
        if isinstance(changes.get(name), str) and _parsed_date(changes[name]) is None
    ]


def _period_errors(changes: Mapping[str, Any], contract: Record) -> list[FieldError]:
    """startDate ≤ endDate, and the expiry notification falls within the contract (dates are valid)."""
    start, end = dt.date.fromisoformat(contract["startDate"]), _date_or_none(contract.get("endDate"))
    notify_before = contract.get("notifyBefore")
    if end is not None and start > end:
        name = "endDate" if "endDate" in changes else "startDate"
        return [FieldError((name,), "startDate must not be after endDate")]
    if notify_before is None:
        return []
    if end is None:
        name = "notifyBefore" if "notifyBefore" in changes else "endDate"
        return [FieldError((name,), "notifyBefore needs an endDate")]
    if notify_before > (end - start).days:
        name = next((n for n in ("notifyBefore", "startDate", "endDate") if n in changes), "notifyBefore")
        return [FieldError((name,), "The notification date (endDate - notifyBefore days) must not be before startDate")]
    return []


def _sla_department_errors(records: RecordsView, changes: Mapping[str, Any], contract: Record) -> list[FieldError]:
    sla = records.peek("slas", contract["associatedSLAId"])
    if sla is None or sla["departmentId"] == contract["departmentId"]:
        return []
    name = "associatedSLAId" if "associatedSLAId" in changes else "departmentId"
    return [FieldError((name,), f"The SLA {sla['name']!r} does not belong to department {contract['departmentId']}")]


def _parsed_date(value: str) -> dt.date | None:
    return facts.parsed_date(value)


def _date_or_none(value: str | None) -> dt.date | None:
    return None if value is None else _parsed_date(value)


def _timestamp(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    if utc.year >= 1000:  # what strftime writes below, without its cost (it does not pad years before 1000)
        return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# --- rendering ----------------------------------------------------------------------------------


def _rendered(
    records: RecordsView, contract: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]] | None = None
) -> Record:
    """The contract as a client reads it. Its members may be the stored record's own: it is only encoded."""
    public = {key: value for key, value in contract.items() if not key.startswith("_")}
    notify_before = contract.get("notifyBefore")
    stored_cf = contract.get("cf", {})
    return {
        **public,
        "notifyBefore": None if notify_before is None else str(notify_before),
        "notifyOn": _notify_on(contract),
        "cf": {name: stored_cf.get(name) for name in (_custom_fields(records) if fields is None else fields)},
        "sla": _summary(records, "slas", contract["associatedSLAId"], ("id", "name")),
        "account": _summary(records, "accounts", contract["accountId"], ("id", "accountName", "website")),
        "product": (
            None
            if contract.get("productId") is None
            else _summary(records, "products", contract["productId"], ("id", "productName"))
        ),
    }


def _summary(records: RecordsView, collection: str, key: object, members: tuple[str, ...]) -> Record | None:
    """`members` of a related record (None for one it lacks), or None when there is no such record."""
    record = records.peek(collection, key)
    return None if record is None else {member: record.get(member) for member in members}


def _notify_on(contract: Mapping[str, Any]) -> str | None:
    return facts.notify_on(contract.get("endDate"), contract.get("notifyBefore"))


def record_of_view(records: RecordsView, view: Mapping[str, Any], stored: Mapping[str, Any] | None) -> Record:
    """The stored contract for a contract as a client reads it: derived members dropped, notifyBefore a number."""
    record = {**(stored or {}), **{k: v for k, v in view.items() if k not in (*ECHOED_RELATIONS, "notifyOn")}}
    notify_before = view.get("notifyBefore")
    record["notifyBefore"] = None if notify_before is None else int(notify_before)
    return record


# --- errors -------------------------------------------------------------------------------------

# kind -> (status, errorCode, message); messages follow the vendor's documentation of each code.
_ERRORS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "UNAUTHORIZED", "You are not authenticated to perform this operation."),
    "invalid_token": (401, "INVALID_OAUTH", "The OAuth Token you provided is invalid."),
    "forbidden": (
        401,
        "SCOPE_MISMATCH",
        "The OAuth Token you provided does not contain the scope required for this operation.",
    ),
    "org_mismatch": (
        403,
        "OAUTH_ORG_MISMATCH",
        "The OAuth Token you provided is not valid for the organisation in the orgId header.",
    ),
    "not_found": (
        404,
        "URL_NOT_FOUND",
        "The URL you requested could not be found on the server. Please check the URL and try again.",
    ),
    "method_not_allowed": (405, "METHOD_NOT_ALLOWED", "The requested method is not allowed for this URL."),
    "payload_too_large": (
        413,
        "PAYLOAD_TOO_LARGE",
        "The request entity is larger than the limit defined by the server.",
    ),
    "unsupported_media_type": (
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "The server refused the request because the body is in an unsupported format.",
    ),
    "throttled": (429, "TOO_MANY_REQUESTS", "Too many requests. Please try again later."),
    "quota_exceeded": (429, "THRESHOLD_EXCEEDED", "The API credits of the day are used up."),
}
_INTERNAL = (500, "INTERNAL_SERVER_ERROR", "Internal Server Error")


def render_error(error: VendorError) -> tuple[int, dict[str, Any]]:
    if isinstance(error, ZohoError):
        return error.status, {"errorCode": error.error_code, "message": error.message, **error.extra}
    if error.kind in ("validation", "bad_request", "conflict"):
        return _render_invalid(error)
    status, code, message = _ERRORS.get(error.kind, _INTERNAL)
    return status, {"errorCode": code, "message": message}


def _render_invalid(error: VendorError) -> tuple[int, dict[str, Any]]:
    if any(f.source == "path" for f in error.fields):
        status, code, message = _ERRORS["not_found"]
        return status, {"errorCode": code, "message": message}
    extra = _extra_parameters(error.fields)
    if extra:
        return 422, {"errorCode": _EXTRA, "message": _extra_parameter_message(extra[0])}
    wrong = [problem.dotted for problem in error.fields if problem.source == "query"]
    if wrong:
        return 422, {"errorCode": _EXTRA, "message": _invalid_parameter_message(wrong[0])}
    if error.kind != "validation" or not error.fields:
        return 422, {"errorCode": _EXTRA, "message": error.message}
    # One entry per field, as Zoho names each field once, though a value may break several keywords.
    problems: dict[str, dict[str, str]] = {}
    for problem in map(_field_problem, error.fields):
        problems.setdefault(problem["fieldName"], problem)
    return 422, {"errorCode": "INVALID_DATA", "message": INVALID_DATA_MESSAGE, "errors": list(problems.values())}


def _extra_parameter_message(name: str) -> str:
    return f'An extra parameter "{_shortened(name)}" is found'


def _invalid_parameter_message(name: str) -> str:
    return f'The value of the parameter "{_shortened(name)}" is invalid or out of range'


ECHOED_NAME_CHARACTERS = 100  # a client's own text is echoed at most this long


def _shortened(text: str) -> str:
    return text if len(text) <= ECHOED_NAME_CHARACTERS else text[: ECHOED_NAME_CHARACTERS - 1] + "…"


def _extra_parameters(fields: Iterable[FieldError]) -> list[str]:
    """Names of unknown body attributes and query parameters, as the engine's validators report them."""
    return [problem.dotted for problem in fields if problem.code == "unknown" and problem.source in ("body", "query")]


def _field_problem(problem: FieldError) -> dict[str, str]:
    missing = problem.code == "required"
    return {
        "fieldName": (problem.pointer or "/") if problem.source == "body" else problem.dotted,
        "errorType": "missing" if missing else "invalid",
        "errorMessage": zoho_message(problem),
    }


# JSON Schema type -> the type names of the vendor's attribute tables
ZOHO_TYPES = {
    "string": "a string",
    "integer": "a number",
    "number": "a number",
    "array": "a list",
    "object": "an object",
}


def zoho_message(problem: FieldError) -> str:
    """One field's problem in the vendor's words, from the keyword it broke and its limit (never the
    validator's own text, and never the value sent, which may be any size)."""
    name = _shortened(problem.dotted)
    match problem.code:
        case "required":
            return f"{name} is required"
        case "type" if problem.value is None:
            return f"{name} must not be null"
        case "type":
            expected = problem.limit[0] if isinstance(problem.limit, list) else problem.limit
            return f"{name} must be {ZOHO_TYPES.get(str(expected), str(expected))}"
        case "maxLength":
            return f"{name} must have at most {problem.limit} characters"
        case "minLength":
            return f"{name} must have at least {problem.limit} characters"
        case "minimum":
            return f"{name} must be at least {problem.limit}"
        case "maximum":
            return f"{name} must be at most {problem.limit}"
        case "maxItems":
            return f"{name} must have at most {problem.limit} items"
        case "":
            return problem.message  # a rule of this module, worded here
        case _:
            return f"{name} is not valid"


def _contract_not_found(contract_id: str) -> VendorError:
    return VendorError(404, "not_found", f"No contract with id {contract_id}")


# What the API answers to an expired OAuth access token (the facts say which code and words).
EXPIRED_TOKEN = ZohoError(
    facts.OAUTH.expired_token.status,
    facts.OAUTH.expired_token.kind,
    facts.OAUTH.expired_token.message,
    error_code=facts.OAUTH.expired_token.code or "",
)

VENDOR = Vendor.behaving(
    facts.FACTS,
    operations={
        "getContract": get_contract,
        "updateContract": update_contract,
        "listContracts": list_contracts,
        "createContract": create_contract,
    },
    render_error=render_error,
    to_record={CONTRACTS: record_of_view},
    expired_token=EXPIRED_TOKEN,
)
