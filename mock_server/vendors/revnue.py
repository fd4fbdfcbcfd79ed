"""Revnue Contracts API v2: read a contract, replace it (PUT) or change part of it (PATCH).

The spec says the shapes; this module adds what it cannot: PUT nulls every field not sent while
PATCH keeps it, `contract_type` never changes, the cross-field rules of the vendor's reference page,
custom field values typed by their template, references to other records, responses with expanded
relations, and errors in Django REST Framework's shape.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from mock_server.engine.errors import FieldError, VendorError, not_found, validation_error
from mock_server.engine.references import dangling
from mock_server.engine.spec import DECIMAL_FORMAT, takes_decimal_strings
from mock_server.state.store import Record, RecordsView, Transaction
from mock_server.vendors.base import RequestContext, Vendor, schema_members
from openapi_model import properties as properties_of
from vendor_facts import revnue as facts

CONTRACTS = facts.CONTRACTS
WRITABLE = "ContractWritable"
RESPONSE = facts.RESPONSE
REFERENCES = facts.REFERENCES
# custom field data type (fixtures: custom_field_templates[].fields[].type) -> schema of its values
CUSTOM_FIELD_SCHEMAS = {
    "money": "CustomFieldMoney",
    "number": "CustomFieldNumber",
    "date": "CustomFieldDate",
    "text": "CustomFieldText",
}
# the party a contract must name, by contract type
REQUIRED_PARTY = {"buy_side": "supplier", "sell_side": "customer"}

STATUS_WRITTEN_ON = "status_written_on"  # internal: the day a client last set the status
SCOPE = "company"  # the body member (and query parameter) naming the company a call is made for
REQUIRED = "This field is required."
WRONG_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
NOT_A_NUMBER = "A valid number is required."

Location = tuple[str | int, ...]
Contract = TypeVar("Contract", bound=Mapping[str, Any])  # a stored contract (to read only) or one of the request's
Merge = Callable[[Mapping[str, Any]], Record]  # the stored contract (read only) -> a new one


def get_contract(ctx: RequestContext, id: int, company: int | None = None) -> tuple[Record, int]:
    contract = _existing(ctx, id, company)
    if _expired_if_ended(contract, ctx.clock.today()) is not contract:
        contract = ctx.records.update(CONTRACTS, id, lambda current: _expired_if_ended(current, ctx.clock.today()))
    return _render(ctx, contract), 200


def update_contract(
    ctx: RequestContext, id: int, body: dict[str, Any], company: int | None = None
) -> tuple[Record, int]:
    """PUT: the body is the whole contract; every writable field it leaves out becomes null."""
    fields = _writable_fields(ctx)
    return _save(ctx, id, company, body, lambda current: {**current, **{name: body.get(name) for name in fields}})


def partial_update_contract(
    ctx: RequestContext, id: int, body: dict[str, Any], company: int | None = None
) -> tuple[Record, int]:
    """PATCH: only the fields sent change."""
    fields = _writable_fields(ctx)
    return _save(ctx, id, company, body, lambda current: {**current, **{n: body[n] for n in fields if n in body}})


def _writable_fields(ctx: RequestContext) -> list[str]:
    # contract_type is in the writable schema only so that a change can be refused by name, and
    # company only to say which company the call is made for (see _save)
    return [name for name in schema_members(ctx.spec, WRITABLE) if name not in ("contract_type", SCOPE)]


def _existing(ctx: RequestContext, contract_id: int, company: int | None) -> Mapping[str, Any]:
    """The stored contract, to read only."""
    contract = ctx.records.peek(CONTRACTS, contract_id)
    # the vendor scopes every call to a company: another company's contract is not found
    if contract is None or (company is not None and contract["company"] != company):
        raise not_found(f"No contract {contract_id}")
    return contract


def _save(
    ctx: RequestContext, contract_id: int, company: int | None, body: dict[str, Any], merge: Merge
) -> tuple[Record, int]:
    _existing(ctx, contract_id, company)
    # The seed: `company` is "the ID of the specific company your API is calling". It scopes the
    # call like `?company=`: a contract of another (or an unknown) company is not found, and the
    # contract never moves between companies.
    _existing(ctx, contract_id, body.get(SCOPE))

    def change(current: Mapping[str, Any]) -> Record:
        updated = _normalised(ctx, merge(current))
        errors = [*_contract_type_change(current, body), *_rule_violations(ctx, updated)]
        if errors:
            raise validation_error(errors)
        updated = _with_exact_amounts(ctx, updated)
        return _expired_if_ended(_status_written(updated, body, ctx.clock.today()), ctx.clock.today())

    return _render(ctx, ctx.records.replace(CONTRACTS, contract_id, change)), 200


# --- the rest of the resource: create, list, delete ----------------------------------------------


def create_contract(ctx: RequestContext, body: dict[str, Any], company: int | None = None) -> tuple[Record, int]:
    """POST: a whole contract, as PUT sends it, plus `contract_type` (set here, once)."""
    scope = body[SCOPE]
    # the body's company is the company the call is made for, as on an update
    if (company is not None and company != scope) or not ctx.records.exists("companies", scope):
        raise not_found(f"No company {scope}")
    draft = {name: body.get(name) for name in _writable_fields(ctx)}
    draft.update(id=0, contract_type=body["contract_type"], company=scope)
    draft = _normalised(ctx, draft)
    errors = _rule_violations(ctx, draft)
    if errors:
        raise validation_error(errors)
    draft = _with_exact_amounts(ctx, draft)
    ready = _expired_if_ended(_status_written(draft, body, ctx.clock.today()), ctx.clock.today())
    created = ctx.records.create(CONTRACTS, lambda new_id: {**ready, "id": new_id})
    return _render(ctx, created), 201


def list_contracts(
    ctx: RequestContext, company: int | None = None, name: str | None = None, contract_no: str | None = None
) -> tuple[list[Record], int]:
    """GET /contract/: every contract (of the company, when given), filtered by exact name and number."""
    today = ctx.clock.today()
    contracts = sorted(ctx.records.peek_all(CONTRACTS), key=lambda contract: contract["id"])
    wanted = {SCOPE: company, "name": name, "number": contract_no}
    matching = [c for c in contracts if all(v is None or c[k] == v for k, v in wanted.items())]
    return [_render(ctx, _expired_if_ended(contract, today)) for contract in matching], 200


def delete_contract(ctx: RequestContext, id: int, company: int | None = None) -> tuple[None, int]:
    """DELETE: the contract goes; contracts that named it as their parent keep existing without one."""

    def delete(tx: Transaction) -> None:
        contract = tx.get(CONTRACTS, id)
        if contract is None or (company is not None and contract[SCOPE] != company):
            raise not_found(f"No contract {id}")
        tx.delete(CONTRACTS, id)
        for child in tx.all(CONTRACTS):
            if child["parent_contract"] == id:
                tx.put(CONTRACTS, child["id"], {**child, "parent_contract": None})

    ctx.records.transaction(delete)
    return None, 204


def _status_written(contract: Record, body: Mapping[str, Any], today: dt.date) -> Record:
    """A status the client sends is stored as sent (the seed: update accepts `active`), even on a
    contract whose term already ran out; only an end date passed after that day expires it."""
    return {**contract, STATUS_WRITTEN_ON: today.isoformat()} if "status" in body else contract


def _expired_if_ended(contract: Contract, today: dt.date) -> Contract | Record:
    """An active contract that ends by itself (`auto_expires`) reads as `expired` once its end date
    is past, unless the client set its status after that date."""
    end = contract.get("contract_end_date")
    written_on = contract.get(STATUS_WRITTEN_ON)
    ended = end is not None and dt.date.fromisoformat(end) < today
    ended = ended and (written_on is None or end >= written_on)
    if ended and contract.get("status") == "active" and contract.get("end_of_term_clause") == "auto_expires":
        return {**contract, "status": "expired"}
    return contract


def expire_ended_contracts(records: RecordsView, today: dt.date) -> None:
    """The clock hook: expire every contract whose term ran out."""
    for contract in records.all(CONTRACTS):
        if _expired_if_ended(contract, today) is not contract:
            records.update(CONTRACTS, contract["id"], lambda current: _expired_if_ended(current, today))


def _normalised(ctx: RequestContext, contract: Record) -> Record:
    """Nested objects with every member present (null when not sent), as they are stored and shown."""
    writable = schema_members(ctx.spec, WRITABLE)
    for name in _writable_fields(ctx):
        members = writable[name].get("properties")
        if members and isinstance(contract.get(name), dict):
            contract[name] = {member: contract[name].get(member) for member in members}
    template = contract.get("template")
    if template:  # a copy: the template may be the stored contract's (read by `replace`)
        contract["template"] = {**template, "fields": template["fields"] or []}
    return contract


def _contract_type_change(current: Mapping[str, Any], body: dict[str, Any]) -> list[FieldError]:
    if "contract_type" in body and body["contract_type"] != current["contract_type"]:
        return [FieldError(("contract_type",), "The contract type cannot be updated.")]
    return []


def _rule_violations(ctx: RequestContext, contract: Record) -> list[FieldError]:
    date_errors = _malformed_dates(ctx, contract)
    return [
        *_missing_party(contract),
        *_dangling_references(ctx, contract),
        *_unknown_subcategory(ctx, contract),
        *_custom_field_errors(ctx, contract),
        *date_errors,
        *([] if date_errors else _date_rules(contract)),
        *_amount_rules(contract),
    ]


def _missing_party(contract: Record) -> list[FieldError]:
    party = REQUIRED_PARTY[contract["contract_type"]]
    return [FieldError((party,), REQUIRED)] if contract[party] is None else []


def _dangling_references(ctx: RequestContext, contract: Record) -> list[FieldError]:
    return [
        FieldError(error.location, f'Invalid pk "{_value_at(contract, error.location)}" - object does not exist.')
        for error in dangling(REFERENCES[CONTRACTS], contract, ctx.records.exists)
    ]


def _value_at(record: Any, location: Location) -> Any:
    for part in location:
        record = record[part]
    return record


def _unknown_subcategory(ctx: RequestContext, contract: Record) -> list[FieldError]:
    category = contract["category"]
    if not category or category["subcategory"] is None:
        return []
    record = ctx.records.peek("categories", category["id"])
    if record is None or category["subcategory"] in record["subcategories"]:
        return []
    message = f'"{category["subcategory"]}" is not a subcategory of {record["name"]}.'
    return [FieldError(("category", "subcategory"), message)]


def _custom_field_errors(ctx: RequestContext, contract: Record) -> list[FieldError]:
    template = contract["template"]
    definition = template and ctx.records.peek("custom_field_templates", template["id"])
    if not definition:
        return []  # no template, or one that does not exist (a dangling reference)
    types = {field["id"]: field["type"] for field in definition["fields"]}
    errors = []
    for index, field in enumerate(template["fields"]):
        location: Location = ("template", "fields", index)
        data_type = types.get(field["id"])
        if data_type is None:
            message = f'Custom field "{field["id"]}" is not part of template "{template["id"]}".'
            errors.append(FieldError((*location, "id"), message))
            continue
        errors += [FieldError((*location, "value"), m) for m in _custom_value_errors(ctx, data_type, field["value"])]
    return errors


def _custom_value_errors(ctx: RequestContext, data_type: str, value: Any) -> list[str]:
    schema_name = CUSTOM_FIELD_SCHEMAS.get(data_type)
    if schema_name is None:  # a template the seed check let through cannot break a request
        return [f'The custom field has the data type "{data_type}", not one of {", ".join(CUSTOM_FIELD_SCHEMAS)}.']
    messages = [drf_message(error) for error in ctx.spec.validate(schema_name, value)]
    if not messages and data_type == "date" and not _is_date(value):
        messages.append(WRONG_DATE)
    return messages


def template_problems(seed: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Custom fields whose data type is not one of the four the seed lists (money, number, date, text)."""
    problems = []
    for key, template in seed.get("custom_field_templates", {}).items():
        for index, field in enumerate(template.get("fields") or []):
            data_type = field.get("type") if isinstance(field, dict) else None
            if data_type not in CUSTOM_FIELD_SCHEMAS:
                known = ", ".join(CUSTOM_FIELD_SCHEMAS)
                problems.append(
                    f"custom_field_templates[{key}].fields[{index}].type: {data_type!r} is not a custom field"
                    f" data type ({known})"
                )
    return problems


def _malformed_dates(ctx: RequestContext, contract: Record) -> list[FieldError]:
    """The spec's pattern checks the form; this checks that the day exists (no 2025-02-30)."""
    writable = schema_members(ctx.spec, WRITABLE)
    return [
        FieldError((name,), WRONG_DATE)
        for name in _writable_fields(ctx)
        if writable[name].get("format") == "date" and contract[name] is not None and not _is_date(contract[name])
    ]


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _date_rules(contract: Record) -> list[FieldError]:
    start = dt.date.fromisoformat(contract["contract_start_date"])
    end = dt.date.fromisoformat(contract["contract_end_date"])
    if start >= end:
        return [FieldError(("contract_end_date",), "The contract start date must be before the contract end date.")]
    errors = []
    notice = contract["notice_period"]
    if notice is not None and notice >= (end - start).days:
        errors.append(FieldError(("notice_period",), "The notice period must be less than duration of contract."))
    service_start = contract["service_start_date"]
    if service_start is not None and not start <= dt.date.fromisoformat(service_start) < end:
        message = (
            "The service start date must be equal to or after the contract start date and before the contract end date."
        )
        errors.append(FieldError(("service_start_date",), message))
    return errors


def _amount_rules(contract: Record) -> list[FieldError]:
    total = _decimal(contract["total_contract_spend_value"])
    errors = []
    if contract["nrc"] is not None and _decimal(contract["nrc"]) > total:
        errors.append(FieldError(("nrc",), "The non recurring cost cannot be greater than the total contract spend."))
    expenditure = contract["expenditure_type"]
    if expenditure and expenditure["type"] == "blended":
        missing = [name for name in ("capex_actual", "opex_actual") if expenditure[name] is None]
        errors += [FieldError(("expenditure_type", name), REQUIRED) for name in missing]
        if not missing and _decimal(expenditure["capex_actual"]) + _decimal(expenditure["opex_actual"]) != total:
            message = (
                "The sum of the capital expenditure value and the operating expense value "
                "must equal the total contract spend."
            )
            errors.append(FieldError(("expenditure_type",), message))
    return errors


def _decimal(amount: float | int | str) -> Decimal:
    # through str, so that 0.1 + 0.2 equals 0.3 as it does for the vendor's decimal fields
    return Decimal(str(amount))


# --- amounts: stored and answered as DRF's DecimalField answers them ("150000.00") -----------------

MONEY = "money"  # the custom field data type whose values are amounts
AMOUNT_MEMBER = ("ContractWritable", "total_contract_spend_value")  # its multipleOf: the places of every amount


def _with_exact_amounts(ctx: RequestContext, contract: Mapping[str, Any]) -> Record:
    """The contract with every amount as a decimal string of the spec's places (`"150000.00"`): the exact
    value a client sent as a string (a binary float would lose the cents near 999999999999999.00), the
    form DRF answers and the one the JSON state of the Redis store keeps."""
    places = _amount_places(ctx.spec)
    result = {**contract}
    for path in _amount_paths(ctx.spec):
        parent = result
        for name in path[:-1]:
            if not isinstance(parent.get(name), dict):
                break
            parent[name] = parent = {**parent[name]}
        else:
            if path[-1] in parent:
                parent[path[-1]] = _amount_text(parent[path[-1]], places)
    template = result.get("template")
    if (
        isinstance(template, dict)
        and template.get("fields")
        and any(field.get("value") is not None for field in template["fields"] if isinstance(field, dict))
    ):
        definition = ctx.records.peek("custom_field_templates", template.get("id"))
        types = {field["id"]: field["type"] for field in definition["fields"]} if definition else {}
        fields = [
            {**field, "value": _amount_text(field.get("value"), places)}
            if isinstance(field, dict) and types.get(field.get("id")) == MONEY
            else field
            for field in template["fields"]
        ]
        result["template"] = {**template, "fields": fields}
    return result


def _amount_text(amount: Any, places: Decimal) -> Any:
    """`150000` → `"150000.00"`; null, and what is not a number (a value the rules refuse), as it is."""
    if isinstance(amount, str) and _is_amount_text(amount, places):
        return amount  # as stored: the common case, kept cheap
    if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
        return amount
    try:
        return f"{Decimal(str(amount).strip()).quantize(places):f}"
    except (InvalidOperation, ValueError):
        return amount


def _is_amount_text(text: str, places: Decimal) -> bool:
    """Whether `text` is already an amount as answered: digits without leading zeros, then `places` decimals."""
    whole, dot, fraction = text.partition(".")
    digits = whole + fraction
    return (
        bool(dot and whole)
        and len(fraction) == -int(places.as_tuple().exponent)
        and digits.isascii()
        and digits.isdigit()
        and (whole == "0" or not whole.startswith("0"))
    )


@functools.cache
def _amount_paths(spec: Any) -> tuple[tuple[str, ...], ...]:
    """The members of a contract as read whose schema is an amount (`format: decimal`), nested ones too."""
    paths: list[tuple[str, ...]] = []
    for name, member in properties_of(spec.schema(RESPONSE)).items():
        if member.get("format") == DECIMAL_FORMAT:
            paths.append((name,))
        for inner, schema in properties_of(member).items():
            if schema.get("format") == DECIMAL_FORMAT:
                paths.append((name, inner))
    return tuple(paths)


@functools.cache
def _amount_places(spec: Any) -> Decimal:
    return Decimal(str(spec.property(*AMOUNT_MEMBER)["multipleOf"]))


def _render(ctx: RequestContext, contract: Mapping[str, Any]) -> Record:
    category = contract["category"]
    expanded = {
        **_with_exact_amounts(ctx, contract),
        "parent_contract": _related(ctx, "contracts", contract["parent_contract"], "ContractRef"),
        "customer": _related(ctx, "customers", contract["customer"], "PartyRef"),
        "supplier": _related(ctx, "suppliers", contract["supplier"], "PartyRef"),
        "country": _country_name(ctx, contract["country"]),
        "category": category
        and {
            **(_related(ctx, "categories", category["id"], "Category") or {}),
            "subcategory": category["subcategory"],
        },
        "business_unit": _related(ctx, "business_units", contract["business_unit"], "BusinessUnit"),
    }
    return {name: expanded.get(name) for name in schema_members(ctx.spec, RESPONSE)}


def _related(ctx: RequestContext, collection: str, key: int | None, schema_name: str) -> Record | None:
    record = None if key is None else ctx.records.peek(collection, key)
    if record is None:
        return None
    return {name: record.get(name) for name in schema_members(ctx.spec, schema_name)}


def _country_name(ctx: RequestContext, code: int) -> str:
    country = ctx.records.peek("countries", code)
    return country["name"] if country else str(code)


EXPANDED_RELATIONS = facts.EXPANDED_RELATIONS


def record_of_view(records: RecordsView, view: Mapping[str, Any], stored: Mapping[str, Any] | None) -> Record:
    """The stored contract for a contract as a client reads it: relations back to ids, the country to its code."""
    record: Record = {**(stored or {}), **view}
    for name in EXPANDED_RELATIONS:
        related = view.get(name)
        record[name] = related.get("id") if isinstance(related, dict) else related
    category = view.get("category")
    if isinstance(category, dict):
        record["category"] = {"id": category.get("id"), "subcategory": category.get("subcategory")}
    country = view.get("country")
    codes = {c["name"]: c["code"] for c in records.all("countries")}
    record["country"] = codes.get(country, int(str(country)) if str(country).isdigit() else country)
    return record


# --- custom field templates (read only) ---------------------------------------------------------

TEMPLATES = "custom_field_templates"
TEMPLATE_SCHEMA = "CustomFieldTemplate"


def list_custom_form_templates(ctx: RequestContext) -> tuple[list[Record], int]:
    templates = sorted(ctx.records.peek_all(TEMPLATES), key=lambda template: template["id"])
    return [_template(ctx, template) for template in templates], 200


def get_custom_form_template(ctx: RequestContext, id: int) -> tuple[Record, int]:
    template = ctx.records.peek(TEMPLATES, id)
    if template is None:
        raise not_found(f"No custom field template {id}")
    return _template(ctx, template), 200


def _template(ctx: RequestContext, template: Mapping[str, Any]) -> Record:
    return {name: template.get(name) for name in schema_members(ctx.spec, TEMPLATE_SCHEMA)}


# --- errors, Django REST Framework style -------------------------------------------------------

DETAILS = {
    "unauthorized": "Authentication credentials were not provided.",
    "invalid_token": "Invalid token.",
    "forbidden": "You do not have permission to perform this action.",
    "org_mismatch": "You do not have permission to perform this action.",
    "not_found": "Not found.",
    "internal": "A server error occurred.",
}
# JSON Schema type -> DRF's message for a value of another type
DRF_TYPE_MESSAGES = {
    "integer": "A valid integer is required.",
    "number": NOT_A_NUMBER,
    "string": "Not a valid string.",
    "object": "Invalid data. Expected a dictionary.",
    "array": "Expected a list of items.",
    "boolean": "Must be a valid boolean.",
}


def render_error(error: VendorError) -> tuple[int, Any]:
    if error.kind == "validation" and error.fields:
        return 400, _field_errors(error.fields)
    return error.status, {"detail": _detail(error)}


def _detail(error: VendorError) -> str:
    if error.kind == "unsupported_media_type" and error.media_type is not None:
        return f'Unsupported media type "{error.media_type}" in request.'
    if error.kind == "throttled" and "Retry-After" in error.headers:
        return f"Request was throttled. Expected available in {error.headers['Retry-After']} seconds."
    return DETAILS.get(error.kind, error.message)


def drf_message(error: FieldError) -> str:
    """One field's problem in DRF's words, from what the engine found (keyword, limit, value)."""
    match error.code:
        case "required":
            return REQUIRED
        case "type" if error.value is None:
            return "This field may not be null."
        case "type":
            expected = error.limit[0] if isinstance(error.limit, list) else error.limit
            return DRF_TYPE_MESSAGES.get(str(expected), error.message)
        case "enum":
            value = error.value if isinstance(error.value, str) else repr(error.value)
            return f'"{value}" is not a valid choice.'
        case "maxLength":
            return f"Ensure this field has no more than {error.limit} characters."
        case "minimum":
            return f"Ensure this value is greater than or equal to {error.limit!r}."
        case "maximum":
            return f"Ensure this value is less than or equal to {error.limit!r}."
        case "multipleOf":
            places = -int(Decimal(str(error.limit)).as_tuple().exponent)
            return f"Ensure that there are no more than {places} decimal places."
        case "pattern":
            return WRONG_DATE  # the only patterns of a member's own schema are dates
        case "anyOf" | "oneOf" if error.value is None:
            return "This field may not be null."
        case "anyOf" | "oneOf" if takes_decimal_strings(error.limit):
            return NOT_A_NUMBER  # DRF's DecimalField: neither a number nor a decimal string
        case "anyOf" | "oneOf":
            return "A valid number or string is required."
        case _:
            return error.message


def _field_errors(errors: list[FieldError]) -> dict[str, Any]:
    """`{"name": [...], "category": {"id": [...]}, "template": {"fields": [{}, {"value": [...]}]}}`"""
    tree: dict[str, Any] = {}
    for error in errors:
        _insert(tree, error.location or ("non_field_errors",), drf_message(error))
    return tree


def _insert(node: dict[str, Any], location: Location, message: str) -> None:
    key, rest = str(location[0]), location[1:]
    child = node.get(key)
    if not rest:
        if isinstance(child, dict):
            child.setdefault("non_field_errors", []).append(message)
        else:
            node.setdefault(key, []).append(message)
        return
    if isinstance(rest[0], int):  # an element of a list of nested objects
        items = child if isinstance(child, list) and all(isinstance(i, dict) for i in child) else []
        items += [{} for _ in range(rest[0] + 1 - len(items))]
        node[key] = items
        _insert(items[rest[0]], rest[1:] or ("non_field_errors",), message)
        return
    nested = child if isinstance(child, dict) else ({"non_field_errors": child} if child else {})
    node[key] = nested
    _insert(nested, rest, message)


VENDOR = Vendor.behaving(
    facts.FACTS,
    operations={
        "getContract": get_contract,
        "updateContract": update_contract,
        "partialUpdateContract": partial_update_contract,
        "createContract": create_contract,
        "listContracts": list_contracts,
        "deleteContract": delete_contract,
        # the vendor's Django routes answer the single-record paths with a trailing slash too
        "getContractWithSlash": get_contract,
        "updateContractWithSlash": update_contract,
        "partialUpdateContractWithSlash": partial_update_contract,
        "deleteContractWithSlash": delete_contract,
        "listCustomFormTemplates": list_custom_form_templates,
        "getCustomFormTemplate": get_custom_form_template,
    },
    render_error=render_error,
    auth_challenge='Bearer realm="api"',  # DRF's authenticate_header for a Bearer scheme
    on_clock_change=expire_ended_contracts,
    check_seed=template_problems,
    to_record={CONTRACTS: record_of_view},
)
