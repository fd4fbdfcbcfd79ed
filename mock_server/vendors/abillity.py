"""Union Street aBILLity: `GET|PATCH api/contract/{id}`, an ASP.NET Web API.

What the spec cannot say lives here: nulls meaning "not sent", real calendar dates, .NET `Int32`
and finite decimals, references to other records, agent contacts belonging to their agent company,
company permissions, `LastUpdated`, and ASP.NET's error bodies (`{"Message"}`, `ModelState`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from mock_server.engine.errors import FieldError, VendorError, validation_error
from mock_server.engine.references import dangling
from mock_server.vendors.base import RequestContext, Vendor, schema_members
from vendor_facts import abillity as facts

CONTRACTS = facts.CONTRACTS
MODIFY_SCHEMA = "ContractModify"
VIEW_SCHEMA = facts.VIEW_SCHEMA
CREATE_SCHEMA = "ContractCreate"
INT32_RANGE = (-(2**31), 2**31 - 1)
CONTRACT_NOT_FOUND = "No contracts found with ID"

REFERENCES = facts.REFERENCES

# The plural nouns of aBILLity's documented "No contracts found with ID x", for the other records.
RECORD_NOUNS = {
    "companies": "companies",
    "account_managers": "account managers",
    "agent_companies": "agent companies",
    "agent_contacts": "agent contacts",
    "network_providers": "network providers",
}

_DOTNET_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:T(?P<hm>[0-9]{2}:[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,7}))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


def get_contract(ctx: RequestContext, id: int) -> tuple[dict[str, Any], int]:
    contract = _permitted_contract(ctx, id)
    return _view(ctx, contract), 200


def update_contract(ctx: RequestContext, id: int, body: Any) -> tuple[dict[str, Any], int]:
    changes = _normalised_changes(ctx, _members_sent(ctx, body))
    _permitted_contract(ctx, id)

    def apply(current: Mapping[str, Any]) -> dict[str, Any]:
        # Checked again under the record's lock: a concurrent update may have moved the contract.
        _require_company_permission(ctx, current["CompanyID"])
        if "CompanyID" in changes:
            _require_company_permission(ctx, changes["CompanyID"])
        updated = {**current, **changes, "LastUpdated": dotnet_timestamp(ctx.clock.now())}
        errors = _dangling_references(ctx, changes) or _agent_mismatch(ctx, updated, changes)
        if errors:
            raise validation_error(errors)
        return updated

    return _view(ctx, ctx.records.replace(CONTRACTS, id, apply)), 200


def create_contract(ctx: RequestContext, body: Any) -> tuple[dict[str, Any], int]:
    """A contract for a company: the update's rules, and .NET's defaults for what is not sent."""
    changes = _normalised_changes(ctx, _members_sent(ctx, body))
    missing = [name for name in ctx.spec.required(CREATE_SCHEMA) if name not in changes]
    if missing:
        raise validation_error([FieldError((name,), f"The {name} field is required.") for name in missing])
    _require_company_permission(ctx, changes["CompanyID"])
    defaults = {
        name: _dotnet_default(ctx.spec.property(VIEW_SCHEMA, name)) for name in ctx.spec.property_names(VIEW_SCHEMA)
    }
    contract = {**defaults, **changes, "LastUpdated": dotnet_timestamp(ctx.clock.now())}
    errors = _dangling_references(ctx, changes) or _agent_mismatch(ctx, contract, changes)
    if errors:
        raise validation_error(errors)
    created = ctx.records.create(CONTRACTS, lambda new_id: {**contract, "ContractID": new_id})
    return _view(ctx, created), 200


def _dotnet_default(schema: Mapping[str, Any]) -> Any:
    """What a .NET model holds for a member not sent: null for nullable ones, else false or 0."""
    if schema.get("nullable"):
        return None
    return {"boolean": False, "integer": 0, "number": 0.0}.get(schema.get("type", ""))


def _members_sent(ctx: RequestContext, body: Any) -> dict[str, Any]:
    """The ContractModify members of the body that carry a value; `null` means "not sent"."""
    if body is None:  # the body is optional in the spec only for client generators (see its description)
        raise VendorError(400, "bad_request", "RequestBody is required")
    if isinstance(body, bytes):  # text/json reaches the handler undecoded (already schema-checked)
        body = json.loads(body)
    members = schema_members(ctx.spec, MODIFY_SCHEMA)
    return {name: body[name] for name in members if body.get(name) is not None}


def _normalised_changes(ctx: RequestContext, sent: dict[str, Any]) -> dict[str, Any]:
    """The values to store, with dates in .NET form; 400 for values .NET cannot bind."""
    changes: dict[str, Any] = {}
    errors: list[FieldError] = []
    members = schema_members(ctx.spec, MODIFY_SCHEMA)
    for name, value in sent.items():
        schema = members[name]
        dotnet_type = schema.get("x-dotnet-type")
        if dotnet_type == "DateTime":
            value = dotnet_date_time(value)
        elif dotnet_type == "Int32":
            value = dotnet_int32(value)
        elif schema.get("type") == "number" and not math.isfinite(value):
            value = None
        if value is None:
            errors.append(FieldError((name,), f"The value '{sent[name]}' is not valid for {name}."))
        else:
            changes[name] = value
    if errors:
        raise validation_error(errors)
    return changes


def dotnet_int32(value: int | str) -> int | None:
    """An integer, or a string of digits as ASP.NET binds it to an `Int32`; None outside its range."""
    if isinstance(value, str):
        if _INTEGER_TEXT.fullmatch(value) is None:
            return None
        value = int(value)
    return value if INT32_RANGE[0] <= value <= INT32_RANGE[1] else None


def dotnet_date_time(text: str) -> str | None:
    """`2025-11-02` or `2025-11-02T02:15:07.5950` as .NET writes it back (`2025-11-02T02:15:07.595`).

    A zone (`Z`, `+01:00`) is accepted and the time stored in UTC without one (likely: the
    vendor's .NET DateTime keeps no zone). None when it is not a real calendar date and time.
    """
    match = _DOTNET_DATE_TIME.fullmatch(text)
    if match is None:
        return None
    seconds = f"{match['date']}T{match['hm'] or '00:00'}:{match['s'] or '00'}"
    try:
        moment = dt.datetime.fromisoformat(seconds + (match["zone"] or ""))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            seconds = moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC moment .NET has
            return None
    fraction = (match["fraction"] or "").rstrip("0")
    return f"{seconds}.{fraction}" if fraction else seconds


def dotnet_timestamp(moment: dt.datetime) -> str:
    """A moment as .NET serialises a DateTime without a zone: milliseconds, trailing zeros dropped."""
    text = moment.replace(tzinfo=None).isoformat(timespec="milliseconds").rstrip("0")
    return text.rstrip(".")


class ContractNotFound(VendorError):
    """A contract id the API answers for with its own message, unlike an unknown route."""


def _permitted_contract(ctx: RequestContext, contract_id: int) -> Mapping[str, Any]:
    if not INT32_RANGE[0] <= contract_id <= INT32_RANGE[1]:
        raise validation_error([FieldError(("id",), f"The value '{contract_id}' is not valid for id.", "path")])
    contract = ctx.records.peek(CONTRACTS, contract_id)
    if contract is None:
        raise ContractNotFound(404, "not_found", f"{CONTRACT_NOT_FOUND} {contract_id}")
    _require_company_permission(ctx, contract["CompanyID"])
    return contract


def _require_company_permission(ctx: RequestContext, company_id: int) -> None:
    user = ctx.records.peek("users", ctx.principal) or {}
    if not user.get("AllCompanies") and company_id not in user.get("CompanyIDs", []):
        raise VendorError(401, "forbidden", "Invalid company permissions")


def _dangling_references(ctx: RequestContext, changes: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    for error in dangling(REFERENCES[CONTRACTS], changes, ctx.records.exists):
        noun = RECORD_NOUNS[REFERENCES[CONTRACTS][error.dotted]]
        errors.append(FieldError(error.location, f"No {noun} found with ID {changes[error.dotted]}"))
    return errors


def _agent_mismatch(ctx: RequestContext, contract: Mapping[str, Any], changes: Mapping[str, Any]) -> list[FieldError]:
    """An agent contact must belong to the contract's agent company (blamed on the member sent)."""
    contact_id = contract.get("AgentContactID")
    if contact_id is None or not {"AgentContactID", "AgentCompanyID"} & changes.keys():
        return []
    contact = ctx.records.peek("agent_contacts", contact_id) or {}
    company_id = contract.get("AgentCompanyID")
    if contact.get("AgentCompanyID") == company_id:
        return []
    blamed = "AgentContactID" if "AgentContactID" in changes else "AgentCompanyID"
    return [FieldError((blamed,), f"Agent contact {contact_id} does not belong to agent company {company_id}")]


def _view(ctx: RequestContext, contract: Mapping[str, Any]) -> dict[str, Any]:
    return {name: contract.get(name) for name in schema_members(ctx.spec, VIEW_SCHEMA)}


def render_error(error: VendorError) -> tuple[int, dict[str, Any]]:
    """ASP.NET Web API's bodies: `{"Message"}`, and `ModelState` for a request it cannot bind."""
    if error.status >= 500:
        return error.status, {"Message": "An error has occurred."}
    match error.kind:
        case "unauthorized" | "invalid_token":
            return 401, {"Message": "Authorization has been denied for this request."}
        case "forbidden" | "org_mismatch":
            return 401, {"Message": "Invalid company permissions"}
        case "validation" | "bad_request":
            return 400, {"Message": "The request is invalid.", "ModelState": _model_state(error)}
        case "unsupported_media_type":
            media_type = error.media_type or "unknown"
            return 415, {
                "Message": f"The request entity's media type '{media_type}' is not supported for this resource."
            }
        case "not_found" if not isinstance(error, ContractNotFound):
            return 404, {"Message": "No HTTP resource was found that matches the request URI."}
        case "payload_too_large":
            return 413, {"Message": "The request entity is too large."}
        case "method_not_allowed":
            return 405, {"Message": "The requested resource does not support this http method."}
        case _:
            return error.status, {"Message": error.message}


def _model_state(error: VendorError) -> dict[str, list[str]]:
    """`model.<Member>` -> messages; problems with the body as a whole are filed under `model`."""
    if not error.fields:
        return {"model": [error.message]}
    state: dict[str, list[str]] = {}
    for field in error.fields:
        key = field.dotted
        if field.source == "body":
            key = f"model.{field.dotted}" if field.location else "model"
        state.setdefault(key, []).append(_dotnet_message(field))
    return state


def _dotnet_message(field: FieldError) -> str:
    """A field's problem in the words of .NET's model binding (values it cannot bind) and data annotations."""
    member = field.dotted or "model"
    if field.code == "minProperties" and not field.location:  # an empty form body
        return "RequestBody is required"
    if field.code == "required":  # the [Required] attribute's message
        return f"The {member} field is required."
    if field.code == "maxLength":
        return f"The field {member} must be a string with a maximum length of {field.limit}."
    if field.code in ("type", "pattern", "anyOf"):
        return f"The value is not valid for {member}."
    return field.message


VENDOR = Vendor.behaving(
    facts.FACTS,
    operations={"getContract": get_contract, "updateContract": update_contract, "createContract": create_contract},
    render_error=render_error,
)
