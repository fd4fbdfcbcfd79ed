"""Elevate Contract Management API v1.11, written from the seed and vendors.md only, with Spring Boot's habits.

Choices where the documents are silent (each a Spring default or a common Spring REST habit):
- Mounted under `/v1` as the real base URL is; JSON bodies are bound like Jackson in Spring Boot:
  unknown members are ignored (FAIL_ON_UNKNOWN_PROPERTIES off), so `add /foo` changes nothing.
- Errors use the documented `{"error", "message"}` shape plus Spring Boot's `timestamp`, `status`
  and `path`; messages are worded here ("Validation failed for field 'x': <why>").
- The list answers in Spring Data's page shape (`content`, `totalElements`, `totalPages`, `size`, `number`).
- POST answers 201 with `Location`; DELETE answers 204; a JSON Patch `test` that fails is 409 Conflict.
- Read-only members (`id`, `createdDate`, the roll-over links) refused with 400 when a patch changes them.
- `endDate` follows `startDate` + the profile's term (months, less one day) unless the patch sets it.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jsonpatch
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

MAX_INT64 = 2**63 - 1
MAX_NOTICE = 2147483647
WRITABLE = (
    "name", "customerId", "siteId", "contractProfileId", "startDate", "endDate",
    "rolloverContractProfileId", "renewalAlertDays", "noticePeriodDays",
)  # fmt: skip
READ_ONLY = ("id", "createdDate", "previousCustomerContractId", "renewedCustomerContractId")
EDITABLE_ONCE_BILLING = {"rolloverContractProfileId", "renewalAlertDays", "noticePeriodDays", "endDate"}
SORTABLE = {"id", "name", "customerId", "siteId", "contractProfileId", "startDate", "endDate", "createdDate"}

TOKENS = {"elevate-admin-7f3a": {"read", "write"}, "elevate-viewer-19c2": {"read"}}
CUSTOMERS = {501: {"sites": {601, 602}}, 502: {"sites": {603}}}
PROFILES = {31: 12, 32: 24, 33: 36}  # profile id -> term in months


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def field_error(name: str, why: str) -> ApiError:
    return ApiError(400, f"Validation failed for field '{name}': {why}")


def is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    days_in_month = ((date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)).day
    return date(year, month, min(start.day, days_in_month))


def term_end(start: str, profile_id: int) -> str:
    return (add_months(date.fromisoformat(start), PROFILES[profile_id]) - timedelta(days=1)).isoformat()


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_id = 9003
        created = "2026-01-05T09:30:00Z"
        base = {"siteId": None, "previousCustomerContractId": None, "renewedCustomerContractId": None}
        self.contracts: dict[int, dict[str, Any]] = {
            9001: {**base, "id": 9001, "name": "Harbour Lights fibre", "customerId": 501, "siteId": 601,
                   "contractProfileId": 31, "startDate": "2027-02-01", "endDate": "2028-01-31",
                   "createdDate": created, "rolloverContractProfileId": 32, "renewalAlertDays": 14,
                   "noticePeriodDays": 30},
            9002: {**base, "id": 9002, "name": "Harbour Lights voice", "customerId": 501,
                   "contractProfileId": 32, "startDate": "2025-06-01", "endDate": "2027-05-31",
                   "createdDate": created, "rolloverContractProfileId": 31, "renewalAlertDays": 7,
                   "noticePeriodDays": 60},
        }  # fmt: skip
        self.billing_started = {9002}


def bind(document: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    """Bind a JSON object to the contract model like Jackson + bean validation; unknown members are ignored."""
    if not isinstance(document, dict):
        raise ApiError(400, "JSON parse error: the body must be a JSON object")
    for name in READ_ONLY:
        if current is not None and document.get(name) != current.get(name):
            raise field_error(name, "is read-only")
    bound: dict[str, Any] = {}
    for name in ("customerId", "contractProfileId", "siteId", "rolloverContractProfileId"):
        value = document.get(name)
        if value is not None and (type(value) is not int or not 1 <= value <= MAX_INT64):
            raise field_error(name, "must be a positive 64-bit integer")
        bound[name] = value
    for name, high in (("renewalAlertDays", 28), ("noticePeriodDays", MAX_NOTICE)):
        value = document.get(name)
        if value is not None and (type(value) is not int or not 0 <= value <= high):
            raise field_error(name, f"must be an integer between 0 and {high}")
        bound[name] = value
    for name in ("startDate", "endDate"):
        value = document.get(name)
        if value is not None and not is_date(value):
            raise field_error(name, "must be a date like 2019-08-24")
        bound[name] = value
    name_value = document.get("name")
    if name_value is not None and (not isinstance(name_value, str) or not 1 <= len(name_value) <= 100):
        raise field_error("name", "must be a string of 1 to 100 characters")
    bound["name"] = name_value
    for required in ("customerId", "contractProfileId", "startDate"):
        if bound[required] is None:
            raise field_error(required, "must not be null")
    return bound


def check_references(bound: dict[str, Any]) -> None:
    customer = CUSTOMERS.get(bound["customerId"])
    if customer is None:
        raise field_error("customerId", f"customer {bound['customerId']} does not exist")
    if bound["siteId"] is not None and bound["siteId"] not in customer["sites"]:
        raise field_error("siteId", f"site {bound['siteId']} is not a site of customer {bound['customerId']}")
    for name in ("contractProfileId", "rolloverContractProfileId"):
        if bound[name] is not None and bound[name] not in PROFILES:
            raise field_error(name, f"contract profile {bound[name]} does not exist")


def apply_patch(store: Store, contract_id: int, operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise ApiError(400, "JSON Patch document must be an array of operations")
    with store.lock:
        current = store.contracts.get(contract_id)
        if current is None:
            raise ApiError(404, f"Customer contract {contract_id} not found")
        try:
            patched = jsonpatch.JsonPatch(operations).apply(current)
        except jsonpatch.JsonPatchTestFailed as exc:
            raise ApiError(409, f"JSON Patch test failed: {exc}") from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, ValueError) as exc:
            raise ApiError(400, f"Invalid JSON Patch: {exc}") from None
        bound = bind(patched, current)
        check_references(bound)
        changed = {name for name in WRITABLE if bound[name] != current.get(name)}
        if contract_id in store.billing_started and changed - EDITABLE_ONCE_BILLING:
            name = sorted(changed - EDITABLE_ONCE_BILLING)[0]
            raise field_error(name, "cannot be changed once billing has started")
        if ("endDate" not in changed and changed & {"startDate", "contractProfileId"}) or bound["endDate"] is None:
            bound["endDate"] = term_end(bound["startDate"], bound["contractProfileId"])
        if bound["endDate"] < bound["startDate"]:
            raise field_error("endDate", "must not be before startDate")
        updated = {**current, **bound}
        store.contracts[contract_id] = updated
        return dict(updated)


def create(store: Store, document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        for required in ("customerId", "contractProfileId", "startDate"):
            if document.get(required) is None:
                raise field_error(required, "is required")
    bound = bind(document, None)
    check_references(bound)
    with store.lock:
        contract_id = store.next_id
        store.next_id += 1
        end = bound["endDate"] or term_end(bound["startDate"], bound["contractProfileId"])
        if end < bound["startDate"]:
            raise field_error("endDate", "must not be before startDate")
        record = {
            **bound, "id": contract_id, "endDate": end,
            "name": bound["name"] or f"Contract {contract_id}",
            "createdDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "previousCustomerContractId": None, "renewedCustomerContractId": None,
        }  # fmt: skip
        store.contracts[contract_id] = record
        return dict(record)


def date_matches(value: str | None, operator: str, day: str) -> bool:
    if value is None:
        return False
    return value < day if operator == "lt" else value > day if operator == "gt" else value == day


def positive_int(raw: str | None, name: str, low: int, high: int) -> int:
    if raw is None:
        raise ApiError(400, f"Required request parameter '{name}' is not present")
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"Validation failed for parameter '{name}': must be between {low} and {high}")
    return int(raw)


def list_contracts(store: Store) -> dict[str, Any]:
    page = positive_int(request.args.get("page"), "page", 1, 2**31 - 1)
    size = positive_int(request.args.get("pageSize"), "pageSize", 1, 1000)
    with store.lock:
        rows = [dict(row) for row in store.contracts.values()]
    for name in ("customerId", "siteId", "contractProfileId"):
        if (raw := request.args.get(name)) is not None:
            rows = [row for row in rows if row[name] == positive_int(raw, name, 1, MAX_INT64)]
    for name in ("startDate", "endDate"):
        if (raw := request.args.get(name)) is not None:
            operator, _, day = raw.rpartition(":")
            try:
                date.fromisoformat(day)
            except ValueError:
                raise ApiError(400, f"Validation failed for parameter '{name}': must be a date") from None
            if operator not in ("lt", "gt", ""):
                raise ApiError(400, f"Validation failed for parameter '{name}': prefix must be lt: or gt:")
            rows = [row for row in rows if date_matches(row[name], operator, day)]
    for key in reversed([key for key in request.args.get("sort", "").split(",") if key]):
        member, _, direction = key.partition(":")
        if member not in SORTABLE or direction not in ("", "asc", "desc"):
            raise ApiError(400, f"Validation failed for parameter 'sort': cannot sort by '{key}'")
        rows.sort(key=lambda row, m=member: (row[m] is not None, row[m] or 0), reverse=direction == "desc")
    total = len(rows)
    content = rows[(page - 1) * size : page * size]
    return {
        "content": content, "totalElements": total, "totalPages": -(-total // size), "size": size,
        "number": page, "numberOfElements": len(content), "first": page == 1, "last": page * size >= total,
    }  # fmt: skip


def create_app() -> Flask:
    app = Flask(__name__)
    store = Store()

    def error_body(status: int, error: str, message: str) -> Response:
        body = {"timestamp": datetime.now(UTC).isoformat(), "status": status, "error": error,
                "message": message, "path": request.path}  # fmt: skip
        return Response(jsonify(body).get_data(), status=status, mimetype="application/json")

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        phrases = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                   415: "Unsupported Media Type"}  # fmt: skip
        return error_body(exc.status, phrases[exc.status], exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response = error_body(exc.code or 500, exc.name, exc.description or exc.name)
        for name in ("Allow",):
            if exc.get_response().headers.get(name):
                response.headers[name] = exc.get_response().headers[name]
        return response

    def authorize(permission: str) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grants = TOKENS.get(token) if scheme.lower() == "bearer" else None
        if grants is None:
            raise ApiError(401, "Full authentication is required to access this resource")
        if permission not in grants:
            raise ApiError(403, "Access is denied")

    def json_body(*media_types: str) -> Any:
        if request.mimetype not in media_types:
            raise ApiError(415, f"Content type '{request.content_type or ''}' not supported")
        data = request.get_json(force=True, silent=True)
        if data is None and request.get_data() != b"null":
            raise ApiError(400, "JSON parse error: the request body is not valid JSON")
        return data

    def contract_id_of(raw: str) -> int:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_INT64:
            raise ApiError(400, f"Validation failed for parameter 'customer_contract_id': '{raw}' is not an id")
        return int(raw)

    @app.route("/v1/customer-contracts", methods=["GET", "POST"])
    def contracts() -> Any:
        if request.method == "GET":
            authorize("read")
            return jsonify(list_contracts(store))
        authorize("write")
        record = create(store, json_body("application/json"))
        response = jsonify(record)
        response.status_code = 201
        response.headers["Location"] = f"{request.base_url}/{record['id']}"
        return response

    @app.route("/v1/customer-contracts/<raw_id>", methods=["GET", "PATCH", "DELETE"])
    def contract(raw_id: str) -> Any:
        authorize("read" if request.method == "GET" else "write")
        contract_id = contract_id_of(raw_id)
        if request.method == "PATCH":
            return jsonify(apply_patch(store, contract_id, json_body("application/json-patch+json")))
        with store.lock:
            record = store.contracts.get(contract_id)
            if record is None:
                raise ApiError(404, f"Customer contract {contract_id} not found")
            if request.method == "DELETE":
                del store.contracts[contract_id]
                return Response(status=204)
            return jsonify(record)

    return app
