"""Elevate billing: customer contracts, read with GET and updated with a JSON Patch (RFC 6902).

The spec (`openapi/elevate.yaml`) validates the patch document itself. This module applies it
atomically to the contract as a client sees it, then checks what a schema cannot: read-only members,
the billing lock, references, the site's customer, and the end date that follows from the term.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import http
import json
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from mock_server.engine.errors import FieldError, VendorError, not_found, validation_error
from mock_server.engine.references import dangling
from mock_server.engine.spec import SpecView
from mock_server.state.store import Record, RecordMissing, RecordsView, Transaction, clone
from mock_server.vendors.base import RequestContext, Vendor, schema_members
from vendor_facts import elevate as facts

CONTRACTS = facts.CONTRACTS
CONTRACT_SCHEMA = facts.CONTRACT_SCHEMA

# The seed: "once billing starts, only roll-over profile, renewal alert days, and notice period days
# can be edited. End date can be set to terminate and renew with a new contract prior to roll-over".
EDITABLE_ONCE_BILLING = ("rolloverContractProfileId", "renewalAlertDays", "noticePeriodDays", "endDate")

REFERENCES = facts.REFERENCES

# Spring's reason phrases, where Python's differ.
_REASONS = {413: "Payload Too Large"}


def get_customer_contract(ctx: RequestContext, customer_contract_id: int) -> tuple[Record, int]:
    roll_over_due(ctx.records, ctx.clock.today())
    contract = ctx.records.peek(CONTRACTS, customer_contract_id)
    if contract is None:
        raise _contract_not_found(customer_contract_id)
    return _public(contract, ctx.spec), 200


def update_customer_contract(
    ctx: RequestContext, customer_contract_id: int, body: list[dict[str, Any]]
) -> tuple[Record, int]:
    today = ctx.clock.today()
    roll_over_due(ctx.records, today)
    operations = _parsed_operations(body)

    def apply(stored: Mapping[str, Any]) -> Record:
        return _patched_contract(ctx, stored, operations, today)

    try:
        updated = ctx.records.replace(CONTRACTS, customer_contract_id, apply)
    except RecordMissing:
        raise _contract_not_found(customer_contract_id) from None
    return _public(updated, ctx.spec), 200


# Spring Security's message for a request without credentials (the spec's Unauthorized example)
UNAUTHENTICATED = "Full authentication is required to access this resource"


def render_error(error: VendorError) -> tuple[int, dict[str, str]]:
    reason = _REASONS.get(error.status) or _reason_phrase(error.status)
    message = UNAUTHENTICATED if error.kind == "unauthorized" else error.message
    if error.fields:
        message = "; ".join(_field_failure(f) for f in error.fields)
    return error.status, {"error": reason, "message": message}


def roll_over_due(records: RecordsView, today: dt.date) -> None:
    """Renew every contract whose term has ended into a new contract on its roll-over profile."""
    # Runs on every read and update: the records are looked at in place, and copied only when one is due.
    if not any(_is_due(contract, today) for contract in records.peek_all(CONTRACTS)):
        return

    def roll_over(tx: Transaction) -> None:
        # Checked again inside the transaction: another request may have renewed them meanwhile.
        while due := _due_for_roll_over(tx.all(CONTRACTS), today):
            for contract in due:
                _renew(tx, records, contract, today)

    records.transaction(roll_over)


# --- the patch ---------------------------------------------------------------------------------


def _parsed_operations(body: list[dict[str, Any]]) -> list[jsonpatch.JsonPatch]:
    """One single-operation patch per operation, so that a failure can name its operation."""
    operations = []
    for index, operation in enumerate(body):
        try:
            operations.append(jsonpatch.JsonPatch([operation]))
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _patch_failed(index, operation, str(exc)) from None
    return operations


def _patched_contract(
    ctx: RequestContext, stored: Mapping[str, Any], operations: list[jsonpatch.JsonPatch], today: dt.date
) -> Record:
    """The contract the patch makes of `stored` (which it does not change), once every rule holds."""
    before = _public(stored, ctx.spec)
    _check_targets(ctx.spec, operations)
    after = _applied(before, operations)
    _fill_removed_members(ctx.spec, after)
    if _billing_started(before, today):
        _check_billing_lock(before, after)
    _raise_if_any(ctx.spec.validate(CONTRACT_SCHEMA, after) or _invalid_dates(ctx.spec, after))
    _raise_if_any(_dangling_references(ctx.records, after) or _site_of_other_customer(ctx.records, after))
    _settle_end_date(ctx.records, before, after)
    if tuple(stored) == _schema_facts(ctx.spec).order:
        return after  # nothing internal to keep (the common case)
    internal = {key: value for key, value in stored.items() if key.startswith("_")}
    return {**after, **internal}


def _check_targets(spec: SpecView, operations: list[jsonpatch.JsonPatch]) -> None:
    """Operations may change only top-level members of the contract that are not read-only."""
    members = _contract_members(spec)
    read_only = _schema_facts(spec).read_only
    for index, patch in enumerate(operations):
        (operation,) = patch.patch
        for pointer in _changed_pointers(operation):
            parts = _pointer_parts(pointer)
            if not parts:
                raise _patch_failed(index, operation, "the whole contract cannot be replaced")
            member = parts[0]
            if member not in members:
                raise _patch_failed(index, operation, f"'{member}' is not a member of a customer contract")
            if member in read_only:
                raise _patch_failed(index, operation, f"'{member}' is read-only")


@functools.lru_cache(maxsize=1024)  # a client patches the same few members over and over
def _pointer_parts(pointer: str) -> tuple[str, ...]:
    return tuple(jsonpointer.JsonPointer(pointer).parts)


def _changed_pointers(operation: dict[str, Any]) -> list[str]:
    kind = operation["op"]
    if kind == "test":
        return []
    if kind == "move" and "from" in operation:  # a missing `from` fails when the patch applies
        return [operation["from"], operation["path"]]
    return [operation["path"]]


def _applied(document: Record, operations: list[jsonpatch.JsonPatch]) -> Record:
    # One copy for the whole patch (jsonpatch would deep-copy the document for each operation):
    # `document` is the contract before, which the rules compare with after.
    document = clone(document)
    for index, patch in enumerate(operations):
        try:
            document = patch.apply(document, in_place=True)
        except jsonpatch.JsonPatchTestFailed as exc:
            operation = patch.patch[0]
            if "value" not in operation:  # a `test` of a missing member fails before its value is looked at
                raise _patch_failed(index, operation, f"test failed: {exc}") from None
            reason = f"test failed: the value at {operation['path']} is not {json.dumps(operation['value'])}"
            raise _patch_failed(index, operation, reason) from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _patch_failed(index, patch.patch[0], str(exc)) from None
    return document


def _fill_removed_members(spec: SpecView, contract: Record) -> None:
    """A removed nullable member reads back as null; other members cannot be removed."""
    members = _contract_members(spec)
    if members.keys() <= contract.keys():
        return  # nothing removed: the common case, asked without a loop over the schemas
    nullable = _schema_facts(spec).nullable
    removed = []
    for member in members:
        if member in contract:
            continue
        if member in nullable:
            contract[member] = None
        else:
            removed.append(FieldError((member,), "must not be removed"))
    _raise_if_any(removed)


def _billing_started(contract: Record, today: dt.date) -> bool:
    return _date(contract["startDate"]) <= today


def _check_billing_lock(before: Record, after: Record) -> None:
    locked = [m for m in after if m not in EDITABLE_ONCE_BILLING and not _same(before[m], after[m])]
    if locked:
        allowed = ", ".join(f"/{m}" for m in EDITABLE_ONCE_BILLING)
        raise validation_error(
            [FieldError((m,), f"billing has started, so /{m} cannot change; only {allowed} can") for m in locked]
        )


def _same(left: Any, right: Any) -> bool:
    """Equal as JSON (what `json.dumps(..., sort_keys=True)` of each would tell): Python's `1 == 1.0 == True`
    must not hide a change of type, and a float is its text (`NaN` is itself, `-0.0` is not `0.0`)."""
    if left is right:
        return True
    kind = type(left)
    if kind is not type(right):
        return False
    if kind is float:
        return repr(left) == repr(right)
    if kind is list:
        return len(left) == len(right) and all(map(_same, left, right))
    if kind is dict:
        return left.keys() == right.keys() and all(_same(value, right[key]) for key, value in left.items())
    return bool(left == right)


def _invalid_dates(spec: SpecView, contract: Record) -> list[FieldError]:
    """Draft 4's format checker knows no `date`, so calendar dates are checked here."""
    errors = []
    for member in _schema_facts(spec).dates:
        value = contract[member]
        if isinstance(value, str) and not _is_calendar_date(value):
            errors.append(FieldError((member,), f"{value!r} is not a 'date' (YYYY-MM-DD)"))
    return errors


def _is_calendar_date(text: str) -> bool:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    try:
        _date(text)
    except ValueError:
        return False
    return True


# The few dates of a tenant's contracts are read on every request (roll-over, the billing lock): parsed once.
_date = functools.lru_cache(maxsize=4096)(dt.date.fromisoformat)


def _dangling_references(records: RecordsView, contract: Record) -> list[FieldError]:
    return dangling(REFERENCES[CONTRACTS], contract, records.exists)


def _site_of_other_customer(records: RecordsView, contract: Record) -> list[FieldError]:
    if contract["siteId"] is None:
        return []
    site = records.peek("sites", contract["siteId"])
    if site is None or site["customerId"] == contract["customerId"]:
        return []
    return [FieldError(("siteId",), f"site {contract['siteId']} does not belong to customer {contract['customerId']}")]


def _settle_end_date(records: RecordsView, before: Record, after: Record) -> None:
    """An end date set by the patch terminates the contract then; otherwise the term decides it."""
    if not _same(before["endDate"], after["endDate"]):
        if after["endDate"] < after["startDate"]:
            _raise_if_any([FieldError(("endDate",), f"must not be before startDate {after['startDate']}")])
        return
    if not (
        _same(before["startDate"], after["startDate"])
        and _same(before["contractProfileId"], after["contractProfileId"])
    ):
        start = _date(after["startDate"])
        after["endDate"] = _term_end(start, _term_months(records, after["contractProfileId"])).isoformat()


def _term_months(records: RecordsView, profile_id: int) -> int:
    profile = records.peek("contractProfiles", profile_id) or {}
    return int(profile.get("termMonths", 12))


def _term_end(start: dt.date, term_months: int) -> dt.date:
    """The last day of a term from `start`; terms past year 9999 end on its last day."""
    year, month = divmod(start.month - 1 + term_months, 12)
    year += start.year
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1])) - dt.timedelta(days=1)


# --- roll-over ---------------------------------------------------------------------------------


def _due_for_roll_over(contracts: Iterable[Record], today: dt.date) -> list[Record]:
    return sorted((c for c in contracts if _is_due(c, today)), key=lambda c: c["id"])


def _is_due(contract: Mapping[str, Any], today: dt.date) -> bool:
    return (
        contract["rolloverContractProfileId"] is not None
        and contract["renewedCustomerContractId"] is None
        and _date(contract["endDate"]) < today
    )


def _renew(tx: Transaction, records: RecordsView, contract: Record, today: dt.date) -> None:
    new_id = tx.next_id(CONTRACTS)
    profile_id = contract["rolloverContractProfileId"]
    start = _date(contract["endDate"]) + dt.timedelta(days=1)
    term_months = _term_months(records, profile_id)
    end = _term_end(start, term_months)
    # A roll-over overdue by several terms renews once, into the term in force today, so that a
    # contract back-dated by centuries does not fill the store with renewals.
    while end < today:
        start = end + dt.timedelta(days=1)
        end = _term_end(start, term_months)
    renewal = {
        **contract,  # the name too: the renewal continues the same agreement
        "id": new_id,
        "contractProfileId": profile_id,
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "createdDate": f"{start.isoformat()}T00:00:00Z",
        "previousCustomerContractId": contract["id"],
        "renewedCustomerContractId": None,
    }
    tx.put(CONTRACTS, new_id, renewal)
    tx.put(CONTRACTS, contract["id"], {**contract, "renewedCustomerContractId": new_id})


# --- the rest of the resource: list, create, delete --------------------------------------------

# the members a list can be filtered on; the dates take `lt:`/`gt:` prefixes
ID_FILTERS = ("customerId", "siteId", "contractProfileId")
DATE_FILTERS = ("startDate", "endDate")
_COMPARISONS = {"lt": "__lt__", "gt": "__gt__", "": "__eq__"}
ROLL_OVER_LINKS = ("previousCustomerContractId", "renewedCustomerContractId")


def list_customer_contracts(ctx: RequestContext, page: int, pageSize: int, **query: Any) -> tuple[Record, int]:
    roll_over_due(ctx.records, ctx.clock.today())
    contracts = [_public(c, ctx.spec) for c in ctx.records.peek_all(CONTRACTS)]
    for name in ID_FILTERS:
        if query.get(name) is not None:
            contracts = [c for c in contracts if c[name] == query[name]]
    for name in DATE_FILTERS:
        if query.get(name) is not None:
            contracts = [c for c in contracts if _date_matches(c[name], name, query[name])]
    contracts = _sorted(contracts, query.get("sort") or "id", ctx.spec)
    first = (page - 1) * pageSize
    page_of_contracts = contracts[first : first + pageSize]
    return {"page": page, "pageSize": pageSize, "totalCount": len(contracts), "items": page_of_contracts}, 200


def _date_matches(value: str | None, name: str, condition: str) -> bool:
    prefix, _, text = condition.rpartition(":")
    if prefix not in _COMPARISONS or not _is_calendar_date(text):
        raise validation_error([FieldError((name,), f"{condition!r} is not a date, lt:date or gt:date", "query")])
    return value is not None and bool(getattr(value, _COMPARISONS[prefix])(text))


def _sorted(contracts: list[Record], sort: str, spec: SpecView) -> list[Record]:
    """`sort=id,name:desc`: stable sorts from the last key to the first; nulls last."""
    members = schema_members(spec, CONTRACT_SCHEMA)
    keys = []
    for part in sort.split(","):
        member, _, direction = part.partition(":")
        if member not in members:
            raise validation_error([FieldError(("sort",), f"cannot sort by '{member}'", "query")])
        keys.append((member, direction == "desc"))
    for member, descending in reversed(keys):
        present = sorted((c for c in contracts if c[member] is not None), key=lambda c: c[member], reverse=descending)
        contracts = present + [c for c in contracts if c[member] is None]
    return contracts


def create_customer_contract(ctx: RequestContext, body: Record) -> tuple[Record, int]:
    roll_over_due(ctx.records, ctx.clock.today())
    draft: Record = {member: body.get(member) for member in schema_members(ctx.spec, CONTRACT_SCHEMA)}
    draft.update(
        id=0,  # replaced by the id the store allocates
        name=body.get("name") or _generated_name(ctx, body),
        createdDate=ctx.clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        renewalAlertDays=body.get("renewalAlertDays", 0),
        noticePeriodDays=body.get("noticePeriodDays", 0),
        previousCustomerContractId=None,
        renewedCustomerContractId=None,
    )
    _raise_if_any(_invalid_dates(ctx.spec, draft))
    _raise_if_any(_dangling_references(ctx.records, draft) or _site_of_other_customer(ctx.records, draft))
    if draft["endDate"] is None:
        start = dt.date.fromisoformat(draft["startDate"])
        draft["endDate"] = _term_end(start, _term_months(ctx.records, draft["contractProfileId"])).isoformat()
    elif draft["endDate"] < draft["startDate"]:
        _raise_if_any([FieldError(("endDate",), f"must not be before startDate {draft['startDate']}")])
    created = ctx.records.create(CONTRACTS, lambda new_id: {**draft, "id": new_id})
    return _public(created, ctx.spec), 201


def _generated_name(ctx: RequestContext, body: Record) -> str:
    """The seed: `name` is a "Generated contract Name": the customer's and the profile's names."""
    customer = ctx.records.peek("customers", body["customerId"]) or {}
    profile = ctx.records.peek("contractProfiles", body["contractProfileId"]) or {}
    name = f"{customer.get('name', body['customerId'])} — {profile.get('name', body['contractProfileId'])}"
    return name[: ctx.spec.max_length(CONTRACT_SCHEMA, "name")]


def delete_customer_contract(ctx: RequestContext, customer_contract_id: int) -> tuple[None, int]:
    """Deletes a contract; one linked to another by roll-over is refused (409), so that a chain
    never points at a contract that is gone and an ended contract never renews a second time."""

    def delete(tx: Transaction) -> None:
        contract = tx.get(CONTRACTS, customer_contract_id)
        if contract is None:
            raise _contract_not_found(customer_contract_id)
        linked = [link for link in ROLL_OVER_LINKS if contract.get(link) is not None]
        if linked:
            message = (
                f"Customer contract {customer_contract_id} is linked by roll-over ({linked[0]}) and cannot be deleted"
            )
            raise VendorError(409, "conflict", message)
        tx.delete(CONTRACTS, customer_contract_id)

    ctx.records.transaction(delete)
    return None, 204


# --- rendering ---------------------------------------------------------------------------------


# --- contract profiles (read only) --------------------------------------------------------------

PROFILES = "contractProfiles"
PROFILE_SCHEMA = "ContractProfile"


def list_contract_profiles(ctx: RequestContext, page: int = 1, pageSize: int = 100) -> tuple[Record, int]:
    profiles = sorted(ctx.records.peek_all(PROFILES), key=lambda profile: int(profile["id"]))
    first = (page - 1) * pageSize
    items = [_profile(profile, ctx.spec) for profile in profiles[first : first + pageSize]]
    return {"page": page, "pageSize": pageSize, "totalCount": len(profiles), "items": items}, 200


def get_contract_profile(ctx: RequestContext, contract_profile_id: int) -> tuple[Record, int]:
    profile = ctx.records.peek(PROFILES, contract_profile_id)
    if profile is None:
        raise VendorError(404, "not_found", f"Contract profile {contract_profile_id} not found")
    return _profile(profile, ctx.spec), 200


def _profile(profile: Mapping[str, Any], spec: SpecView) -> Record:
    return {member: profile.get(member) for member in schema_members(spec, PROFILE_SCHEMA)}


def _public(contract: Mapping[str, Any], spec: SpecView) -> Record:
    """The contract as clients see it: every member of the schema, in its order, nothing internal."""
    members = _contract_members(spec)
    if tuple(contract) == _schema_facts(spec).order:  # stored as clients see it (the common case): copied whole
        return dict(contract)
    return {member: contract.get(member) for member in members}


def _contract_members(spec: SpecView) -> dict[str, dict[str, Any]]:
    """The contract schema's members and their schemas, in the spec's order."""
    return schema_members(spec, CONTRACT_SCHEMA)


@dataclass(frozen=True)
class _SchemaFacts:
    """What the rules ask of the contract schema's members on every request, worked out once per spec."""

    read_only: frozenset[str]
    nullable: frozenset[str]
    dates: tuple[str, ...]  # members of `format: date`, in the spec's order
    order: tuple[str, ...]  # every member, in the spec's order


_FACTS: weakref.WeakKeyDictionary[SpecView, _SchemaFacts] = weakref.WeakKeyDictionary()


def _schema_facts(spec: SpecView) -> _SchemaFacts:
    found = _FACTS.get(spec)
    if found is None:
        members = _contract_members(spec)
        found = _FACTS[spec] = _SchemaFacts(
            read_only=frozenset(m for m, schema in members.items() if schema.get("readOnly")),
            nullable=frozenset(m for m, schema in members.items() if schema.get("nullable")),
            dates=tuple(m for m, schema in members.items() if schema.get("format") == "date"),
            order=tuple(members),
        )
    return found


def _field_failure(error: FieldError) -> str:
    reason = error.message
    if not error.location:
        return f"Validation failed: {reason}"
    return f"Validation failed for field '{error.dotted}': {reason}"


def _reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _contract_not_found(contract_id: object) -> VendorError:
    return not_found(f"Customer contract {contract_id} not found")


def _patch_failed(index: int, operation: Any, reason: str) -> VendorError:
    described = f"{operation.get('op')} {operation.get('path')}" if isinstance(operation, dict) else "operation"
    return VendorError(400, "bad_request", f"JSON Patch operation {index} ({described}) failed: {reason}")


def _raise_if_any(errors: list[FieldError]) -> None:
    if errors:
        raise validation_error(errors)


VENDOR = Vendor.behaving(
    facts.FACTS,
    operations={
        "getCustomerContract": get_customer_contract,
        "updateCustomerContract": update_customer_contract,
        "listCustomerContracts": list_customer_contracts,
        "createCustomerContract": create_customer_contract,
        "deleteCustomerContract": delete_customer_contract,
        "listContractProfiles": list_contract_profiles,
        "getContractProfile": get_contract_profile,
    },
    render_error=render_error,
    on_clock_change=roll_over_due,
)
