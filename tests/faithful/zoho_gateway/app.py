"""Zoho Desk contracts, written from the seed and vendors.md only, with the Zoho API gateway's conventions.

Choices where the documents are silent:
- The body is read as JSON whatever its Content-Type says (a gateway that never answers 415).
- Unknown attributes and unknown query parameters are "extra parameters": 422 UNPROCESSABLE_ENTITY.
  Members that only exist in answers (`id`, `createdTime`, `notifyOn`, `sla`, `account`, …) are ignored.
- Ids are accepted as digit strings or JSON integers and always answered as strings.
- A missing orgId header is 400 `INVALID_ORG`; an id that is not a number is 422 UNPROCESSABLE_ENTITY;
  an unknown contract is 404 `RESOURCE_NOT_FOUND`; other methods are 405 `METHOD_NOT_ALLOWED`.
- `notifyBefore` needs an end date; `endDate` may not be before `startDate`; an SLA must belong to the
  contract's department; `cf` (API names) and `customFields` (labels) only take defined fields.
- POST answers 200 with the contract (no DELETE exists); two contracts may share a name.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

ORG = "7000001"
# token -> (scopes, organisations, the agent it belongs to)
TOKENS = {
    "zd-full-9a1": ({"Desk.settings.READ", "Desk.settings.CREATE", "Desk.settings.UPDATE"}, {ORG}, "88000000000501"),
    "zd-read-3b": ({"Desk.settings.READ"}, {ORG}, "88000000000502"),
}
DEPARTMENTS = {"88000000000101", "88000000000102"}
SLAS = {"88000000000201": ("Gold SLA", "88000000000101"), "88000000000202": ("Silver SLA", "88000000000101"),
        "88000000000203": ("Bronze SLA", "88000000000102")}  # fmt: skip
ACCOUNTS = {"88000000000301": ("Northwind", "https://northwind.example"),
            "88000000000302": ("Fabrikam", "https://fabrikam.example")}  # fmt: skip
PRODUCTS = {"88000000000401": "Desk Pro", "88000000000402": "Desk Lite"}
AGENTS = {"88000000000501", "88000000000502", "88000000000503"}
CUSTOM_FIELDS = {"cf_po_number": "PO Number", "cf_region": "Region"}  # API name -> label
LIMITS = {"contractNumber": 50, "contractName": 80, "description": 65535}
REFERENCES = {"associatedSLAId": SLAS, "accountId": ACCOUNTS, "departmentId": DEPARTMENTS, "productId": PRODUCTS,
              "ownerId": AGENTS}  # fmt: skip
NOT_NULL = {"associatedSLAId", "accountId", "departmentId", "ownerId", "startDate", "contractName"}
ATTRIBUTES = {*REFERENCES, *LIMITS, "notificationAgentIds", "notifyBefore", "startDate", "endDate", "customFields",
              "cf", "sla", "account", "product"}  # fmt: skip
ANSWER_ONLY = {"id", "createdTime", "createdBy", "modifiedTime", "modifiedBy", "notifyOn", "sla", "account", "product"}
SORTABLE = {"contractName", "startDate", "endDate", "createdTime"}
MAX_CONTRACTS = 10_000


class ZohoError(Exception):
    def __init__(self, status: int, code: str, text: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.errors = status, code, text, errors


def invalid(field: str, why: str, error_type: str = "invalid") -> ZohoError:
    entry = {"fieldName": f"/{field}", "errorType": error_type, "errorMessage": why}
    return ZohoError(422, "INVALID_DATA", "An invalid value was given for the attribute", [entry])


def now_stamp(after: str | None = None) -> str:
    moment = datetime.now(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if after is not None and stamp <= after:  # modifiedTime always moves forward
        later = datetime.fromisoformat(after.replace("Z", "+00:00")) + timedelta(milliseconds=1)
        stamp = later.strftime("%Y-%m-%dT%H:%M:%S.") + f"{later.microsecond // 1000:03d}Z"
    return stamp


def as_id(field: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return value
    raise invalid(field, "must be an id (a string of digits)")


def as_date(field: str, value: Any) -> str:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise invalid(field, "must be a date like 2019-09-15")


def clean(field: str, value: Any) -> Any:
    """One attribute as stored; ZohoError when it is not valid."""
    if value is None:
        if field in NOT_NULL:
            raise invalid(field, "may not be null", "missing")
        return [] if field == "notificationAgentIds" else None
    if field in REFERENCES:
        ident = as_id(field, value)
        if ident not in REFERENCES[field]:
            raise invalid(field, f"no such record: {ident}")
        return ident
    if field in LIMITS:
        if not isinstance(value, str) or len(value) > LIMITS[field] or (field == "contractName" and not value.strip()):
            raise invalid(field, f"must be text of at most {LIMITS[field]} characters")
        return value
    if field in ("startDate", "endDate"):
        return as_date(field, value)
    if field == "notifyBefore":
        if isinstance(value, str) and value.isdigit() and value.isascii():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 2**31 - 1:
            raise invalid(field, "must be a whole number of days")
        return value
    if field == "notificationAgentIds":
        if not isinstance(value, list):
            raise invalid(field, "must be a list of agent ids")
        agents = [as_id(field, item) for item in value]
        if unknown := [agent for agent in agents if agent not in AGENTS]:
            raise invalid(field, f"no such agent: {unknown[0]}")
        return list(dict.fromkeys(agents))
    raise AssertionError(field)


def custom_values(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    values = dict(current)
    by_label = {label: name for name, label in CUSTOM_FIELDS.items()}
    for field, names in (("cf", {name: name for name in CUSTOM_FIELDS}), ("customFields", by_label)):
        if field not in body:
            continue
        sent = body[field]
        if not isinstance(sent, dict):
            raise invalid(field, "must be an object of custom field values")
        for key, value in sent.items():
            if key not in names:
                raise invalid(f"{field}/{key}", "no such custom field")
            if value is not None and (not isinstance(value, str) or len(value) > 255):
                raise invalid(f"{field}/{key}", "must be text of at most 255 characters")
            values[names[key]] = value
    return values


def merge(current: dict[str, Any], body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("", "the body must be a JSON object")
    if extra := sorted(set(body) - ATTRIBUTES - ANSWER_ONLY):
        raise ZohoError(422, "UNPROCESSABLE_ENTITY", f"Extra attribute(s) not allowed: {', '.join(extra)}")
    updated = dict(current)
    for field in sorted((set(body) & ATTRIBUTES) - {"cf", "customFields", "sla", "account", "product"}):
        updated[field] = clean(field, body[field])
    updated["cf"] = custom_values(body, current.get("cf", {}))
    if SLAS[updated["associatedSLAId"]][1] != updated["departmentId"]:
        raise invalid("associatedSLAId", "the SLA does not belong to the contract's department")
    if updated["endDate"] is not None and updated["endDate"] < updated["startDate"]:
        raise invalid("endDate", "may not be before startDate")
    if updated["notifyBefore"] is not None and updated["endDate"] is None:
        raise invalid("notifyBefore", "needs an endDate to count back from")
    return updated


def render(record: dict[str, Any]) -> dict[str, Any]:
    sla_name = SLAS[record["associatedSLAId"]][0]
    account_name, website = ACCOUNTS[record["accountId"]]
    product = record["productId"]
    end, before = record["endDate"], record["notifyBefore"]
    notify_on = (date.fromisoformat(end) - timedelta(days=before)).isoformat() if end and before is not None else None
    return {
        **{key: value for key, value in record.items() if key != "notifyBefore"},
        "notifyBefore": str(before) if before is not None else None,
        "notifyOn": notify_on,
        "sla": {"id": record["associatedSLAId"], "name": sla_name},
        "account": {"id": record["accountId"], "accountName": account_name, "website": website},
        "product": {"id": product, "productName": PRODUCTS[product]} if product else None,
    }


def blank_contract() -> dict[str, Any]:
    """The optional attributes of a contract that has none of them."""
    return {"productId": None, "contractNumber": None, "description": None, "notificationAgentIds": [],
            "notifyBefore": None, "endDate": None, "cf": dict.fromkeys(CUSTOM_FIELDS)}  # fmt: skip


def seed_contracts() -> dict[str, dict[str, Any]]:
    base: dict[str, Any] = {
            **blank_contract(), "createdBy": "88000000000501", "createdTime": "2026-02-03T08:00:00.000Z",
            "modifiedBy": "88000000000501", "modifiedTime": "2026-02-03T08:00:00.000Z",
            "departmentId": "88000000000101", "ownerId": "88000000000501",
    }  # fmt: skip
    rows: list[dict[str, Any]] = [
        {"id": "88000000001001", "contractName": "Northwind premium support", "associatedSLAId": "88000000000201",
         "accountId": "88000000000301", "productId": "88000000000401", "contractNumber": "NW-2026-01",
         "startDate": "2026-03-01", "endDate": "2027-02-28", "notifyBefore": 10,
         "notificationAgentIds": ["88000000000502"], "cf": {"cf_po_number": "PO-4471", "cf_region": "EMEA"}},
        {"id": "88000000001002", "contractName": "Fabrikam 2025", "associatedSLAId": "88000000000202",
         "accountId": "88000000000302", "startDate": "2025-01-01", "endDate": "2025-12-31"},
        {"id": "88000000001003", "contractName": "Northwind rolling", "associatedSLAId": "88000000000202",
         "accountId": "88000000000301", "startDate": "2026-01-15"},
        {"id": "88000000001004", "contractName": "Fabrikam 2027", "associatedSLAId": "88000000000202",
         "accountId": "88000000000302", "startDate": "2027-01-01", "endDate": "2027-12-31"},
    ]  # fmt: skip
    return {row["id"]: {**base, **row} for row in rows}


def create_app() -> Flask:
    app = Flask(__name__)
    lock = threading.Lock()
    contracts = seed_contracts()
    next_id = [88000000002001]

    def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    @app.errorhandler(ZohoError)
    def zoho_error(exc: ZohoError) -> Response:
        body: dict[str, Any] = {"errorCode": exc.code, "message": exc.text}
        if exc.errors is not None:
            body["errors"] = exc.errors
        return answer(exc.status, body)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 405:
            body = {"errorCode": "METHOD_NOT_ALLOWED", "message": f"{request.method} is not supported here"}
            return answer(405, body, {"Allow": exc.get_response().headers.get("Allow", "")})
        if exc.code == 404:
            return answer(404, {"errorCode": "URL_NOT_FOUND", "message": "The URL you requested is not found"})
        return answer(exc.code or 500, {"errorCode": "INVALID_DATA", "message": exc.description or exc.name})

    def authorize(scope: str) -> str:
        header = request.headers.get("Authorization")
        if not header:
            raise ZohoError(401, "UNAUTHORIZED", "You are not authenticated to perform this operation.")
        prefix, _, token = header.partition(" ")
        grant = TOKENS.get(token) if prefix == "Zoho-oauthtoken" else None
        if grant is None:
            raise ZohoError(401, "INVALID_OAUTH", "The OAuth Token you provided is invalid.")
        org = request.headers.get("orgId")
        if not org:
            raise ZohoError(400, "INVALID_ORG", "The orgId header is required.")
        if org not in grant[1]:
            raise ZohoError(403, "OAUTH_ORG_MISMATCH", "The OAuth token is not valid for this organisation.")
        if scope not in grant[0]:
            raise ZohoError(401, "SCOPE_MISMATCH", f"The OAuth token does not have the scope {scope}.")
        return grant[2]

    def no_extra_parameters(allowed: set[str]) -> None:
        if extra := sorted(set(request.args) - allowed):
            raise ZohoError(422, "UNPROCESSABLE_ENTITY", f"Extra parameter(s) not allowed: {', '.join(extra)}")

    def body() -> Any:
        try:
            return json.loads(request.get_data() or b"null")
        except ValueError:
            raise invalid("", "the body is not valid JSON") from None

    def number(name: str, low: int, high: int, default: int) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not raw.isascii() or not low <= int(raw) <= high:
            raise ZohoError(422, "UNPROCESSABLE_ENTITY", f"{name} must be between {low} and {high}")
        return int(raw)

    @app.route("/api/v1/contracts", methods=["GET", "POST"])
    def contracts_collection() -> Response:
        if request.method == "GET":
            authorize("Desk.settings.READ")
            no_extra_parameters({"from", "limit", "departmentId", "accountId", "ownerId", "sortBy"})
            start, limit = number("from", 0, 2**31 - 1, 0), number("limit", 1, 100, 10)
            with lock:
                rows = [render(row) for row in contracts.values()]
            for name in ("departmentId", "accountId", "ownerId"):
                if (wanted := request.args.get(name)) is not None:
                    if not (wanted.isdigit() and wanted.isascii()):
                        raise ZohoError(422, "UNPROCESSABLE_ENTITY", f"{name} must be an id")
                    rows = [row for row in rows if row[name] == wanted]
            sort_by = request.args.get("sortBy", "createdTime")
            if sort_by.lstrip("-") not in SORTABLE:
                raise ZohoError(422, "UNPROCESSABLE_ENTITY", f"sortBy must be one of {', '.join(sorted(SORTABLE))}")
            key = sort_by.lstrip("-")
            rows.sort(key=lambda row: (row[key] is not None, row[key] or ""), reverse=sort_by.startswith("-"))
            return answer(200, {"data": rows[start : start + limit]})
        principal = authorize("Desk.settings.CREATE")
        no_extra_parameters(set())
        sent = body()
        if isinstance(sent, dict):
            required = ("associatedSLAId", "accountId", "departmentId", "startDate", "ownerId", "contractName")
            if missing := [name for name in required if sent.get(name) is None]:
                errors = [{"fieldName": f"/{name}", "errorType": "missing", "errorMessage": "is required"}
                          for name in missing]  # fmt: skip
                raise ZohoError(422, "INVALID_DATA", "An invalid value was given for the attribute", errors)
        with lock:
            if len(contracts) >= MAX_CONTRACTS:
                raise ZohoError(422, "UNPROCESSABLE_ENTITY", "The contract limit of this portal is reached")
            stamp = now_stamp()
            record = merge_new({**blank_contract(), **dict.fromkeys(NOT_NULL)}, sent)
            record.update(id=str(next_id[0]), createdBy=principal, createdTime=stamp, modifiedBy=principal,
                          modifiedTime=stamp)  # fmt: skip
            next_id[0] += 1
            contracts[record["id"]] = record
            return answer(200, render(record))

    @app.route("/api/v1/contracts/<raw_id>", methods=["GET", "PATCH"])
    def contract(raw_id: str) -> Response:
        principal = authorize("Desk.settings.READ" if request.method == "GET" else "Desk.settings.UPDATE")
        no_extra_parameters(set())
        if not raw_id.isdigit() or not raw_id.isascii():
            raise ZohoError(422, "UNPROCESSABLE_ENTITY", "The contract id must be a number")
        sent = body() if request.method == "PATCH" else None
        with lock:
            current = contracts.get(raw_id.lstrip("0") or "0")
            if current is None:
                raise ZohoError(404, "RESOURCE_NOT_FOUND", f"No contract with id {raw_id}")
            if request.method == "GET":
                return answer(200, render(current))
            updated = merge(current, sent)
            updated.update(modifiedBy=principal, modifiedTime=now_stamp(after=current["modifiedTime"]))
            contracts[current["id"]] = updated
            return answer(200, render(updated))

    return app


def merge_new(start: dict[str, Any], sent: Any) -> dict[str, Any]:
    """A new contract: every attribute is checked as on an update, on top of an empty record."""
    if not isinstance(sent, dict):
        raise invalid("", "the body must be a JSON object")
    first = {name: clean(name, sent[name]) for name in ("associatedSLAId", "departmentId", "startDate")}
    return merge({**start, **first, "accountId": clean("accountId", sent["accountId"]),
                  "ownerId": clean("ownerId", sent["ownerId"]), "contractName": "-"}, sent)  # fmt: skip
