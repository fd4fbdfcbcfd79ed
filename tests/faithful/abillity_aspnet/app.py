"""aBILLity `api/contract`, written from the seed and vendors.md only, with ASP.NET Web API 2's habits.

Choices where the documents are silent (each what ASP.NET Web API + JSON.NET do by default):
- The token travels as `Authorization: Bearer <token>`; [Authorize] runs first, then model binding and
  `ModelState.IsValid`, then the lookup: an invalid body on an unknown id is 400, not 404.
- PATCH binds a ContractModify of nullable members: a member that is absent or null is not applied;
  an empty form value is null (`ConvertEmptyStringToNull`), so it is not applied either.
- JSON.NET conversions: integer strings ("12") bind to integers, "true"/"false" to booleans; decimals
  are .NET decimals (±79228162514264337593543950335, at most 28 decimal places, so 9.27e-89 reads
  back as 0.0) and are written with their scale (`1.50`); dates without a zone; a zoned date is
  converted to UTC.
- ModelState keys are `model.<Member>`; messages are DataAnnotations' / JSON.NET's wording.
- Unknown members are ignored; an unsupported media type is 415 with Web API's message.
- POST answers 201 Created with `Location` (CreatedAtRoute); it needs CompanyID and DisplayName.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

INT32 = (-(2**31), 2**31 - 1)
DECIMAL_LIMIT = Decimal(2**96 - 1)
LENGTHS = {"DisplayName": 100, "ContractFilename": 255, "Notes": 2000}
INTEGERS = ("CompanyID", "ContractTerm", "AccountManagerID", "AgentCompanyID", "AgentContactID", "MaxCLIs",
            "NetworkProviderID")  # fmt: skip
DECIMALS = ("EstimatedUsage", "EstimatedUsageMargin", "TechFundBalance")
DATES = ("StartDate", "CancelledDate", "TerminationDate")
MEMBERS = ("DisplayName", "CompanyID", "StartDate", "ContractTerm", "AccountManagerID", "AgentCompanyID",
           "AgentContactID", "Cancelled", "CancelledDate", "TerminationDate", "ContractFilename", "EstimatedUsage",
           "EstimatedUsageMargin", "TechFundBalance", "Notes", "MaxCLIs", "NetworkProviderID")  # fmt: skip
MEDIA_TYPES = ("application/json", "text/json", "application/x-www-form-urlencoded")

# token -> (may write, companies it may use)
TOKENS = {"abl-session-a81f": (True, {71, 72, 73}), "abl-session-ro-22": (False, {71, 72, 73}),
          "abl-session-branch-5c": (True, {71, 72})}  # fmt: skip
ACCOUNT_MANAGERS = {81, 82}
AGENT_CONTACTS = {91: {911, 912}, 92: {921}}  # agent company -> its contacts
NETWORK_PROVIDERS = {61, 62}


class Problem(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def message(status: int, text: str) -> Problem:
    return Problem(status, {"Message": text})


def dotnet_json(value: Any) -> str:
    """JSON as JSON.NET writes it: decimals with their scale and always a decimal point."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else f"{text}.0"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{dotnet_json(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def to_decimal(raw: Decimal) -> Decimal:
    """A System.Decimal: at most 28 decimal places and a 96-bit mantissa; OverflowException past its range."""
    with localcontext() as context:
        context.prec = 200
        if abs(raw) > DECIMAL_LIMIT:
            raise ValueError("Value was either too large or too small for a Decimal.")
        exponent = raw.as_tuple().exponent
        scale = min(28, max(0, -exponent)) if isinstance(exponent, int) else 0
        while scale > 0 and abs(raw.scaleb(scale).to_integral_value()) > DECIMAL_LIMIT:
            scale -= 1
        value = raw.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
        return Decimal(0).scaleb(-min(scale, 1)) if value == 0 else value


def to_datetime(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"  # %Y drops leading zeros before year 1000
    return text + (f".{fraction}" if fraction else "")


def convert(name: str, value: Any, from_form: bool) -> Any:
    """One member's value as the model binder gives it; ValueError with the binder's message."""
    if name in LENGTHS:
        if not isinstance(value, str):
            raise ValueError(f"Error converting value to type 'System.String'. Path '{name}'.")
        if len(value) > LENGTHS[name]:
            raise ValueError(f"The field {name} must be a string with a maximum length of {LENGTHS[name]}.")
        return value
    if name == "Cancelled":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"Could not convert to boolean: {value}. Path '{name}'.")
    if name in DATES:
        try:
            if isinstance(value, str):
                return to_datetime(value)
        except ValueError:
            pass
        raise ValueError(f"Could not convert string to DateTime: {value}. Path '{name}'.")
    try:
        number = Decimal(value) if isinstance(value, str | int | Decimal) and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        kind = "integer" if name in INTEGERS else "decimal"
        raise ValueError(f"Could not convert string to {kind}: {value}. Path '{name}'.")
    if name in DECIMALS:
        return to_decimal(number)
    if number != number.to_integral_value() or not INT32[0] <= number <= INT32[1]:
        raise ValueError(f"JSON integer {value} is too large or small for an Int32, or not an integer.")
    return int(number)


def bind(document: Any, from_form: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Members to apply (absent, null and empty form values are not) and the ModelState errors."""
    if not isinstance(document, dict):
        return {}, {"model": ["The request body must be a JSON object."]}
    applied: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in MEMBERS:
        value = document.get(name)
        if from_form and value == "":
            value = None  # ModelMetadata.ConvertEmptyStringToNull
        if value is None:
            continue
        try:
            applied[name] = convert(name, value, from_form)
        except ValueError as exc:
            errors.setdefault(f"model.{name}", []).append(str(exc))
    return applied, errors


def check_references(record: dict[str, Any], companies: set[int]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if record["AccountManagerID"] is not None and record["AccountManagerID"] not in ACCOUNT_MANAGERS:
        errors["model.AccountManagerID"] = [f"Account manager {record['AccountManagerID']} does not exist."]
    agent, contact = record["AgentCompanyID"], record["AgentContactID"]
    if agent is not None and agent not in AGENT_CONTACTS:
        errors["model.AgentCompanyID"] = [f"Agent company {agent} does not exist."]
    elif contact is not None and contact not in AGENT_CONTACTS.get(agent, set()):
        errors["model.AgentContactID"] = [f"Agent contact {contact} is not a contact of agent company {agent}."]
    if record["NetworkProviderID"] is not None and record["NetworkProviderID"] not in NETWORK_PROVIDERS:
        errors["model.NetworkProviderID"] = [f"Network provider {record['NetworkProviderID']} does not exist."]
    return errors


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_id = 4103
        blank = dict.fromkeys(MEMBERS)
        self.contracts: dict[int, dict[str, Any]] = {
            4101: {**blank, "ContractID": 4101, "DisplayName": "Kestrel Networks main", "CompanyID": 71,
                   "StartDate": "2026-04-01T00:00:00", "ContractTerm": 36, "AccountManagerID": 81,
                   "AgentCompanyID": 92, "AgentContactID": 921, "Cancelled": False,
                   "ContractFilename": "kestrel-main.pdf", "EstimatedUsage": Decimal("250.00"),
                   "EstimatedUsageMargin": Decimal("37.50"), "TechFundBalance": Decimal("1200.00"),
                   "Notes": "Renewed after the 2025 review.", "MaxCLIs": 40, "NetworkProviderID": 61,
                   "LastUpdated": "2026-05-02T10:11:12.345"},
            4102: {**blank, "ContractID": 4102, "DisplayName": "Cygnus head office", "CompanyID": 73,
                   "StartDate": "2025-09-01T00:00:00", "ContractTerm": 24, "Cancelled": False, "MaxCLIs": 5,
                   "LastUpdated": "2026-05-02T10:11:12.345"},
        }  # fmt: skip


def create_app() -> Flask:
    app = Flask(__name__)
    store = Store()

    def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        return Response(dotnet_json(body), status=status, mimetype="application/json", headers=headers)

    @app.errorhandler(Problem)
    def problem(exc: Problem) -> Response:
        return answer(exc.status, exc.body)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 405:
            body = {"Message": f"The requested resource does not support http method '{request.method}'."}
            allow = exc.get_response().headers.get("Allow", "")
            return answer(405, body, {"Allow": allow})
        if exc.code == 404:
            return answer(404, {"Message": f"No HTTP resource was found that matches the request URI '{request.url}'."})
        return answer(exc.code or 500, {"Message": exc.description or exc.name})

    def authorize(write: bool) -> set[int]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grant = TOKENS.get(token) if scheme.lower() == "bearer" else None
        if grant is None or (write and not grant[0]):
            raise message(401, "Authorization has been denied for this request.")
        return grant[1]

    def read_body() -> tuple[Any, bool]:
        if not request.get_data():  # Web API binds an empty body to a null model, whatever its media type
            raise Problem(
                400, {"Message": "The request is invalid.", "ModelState": {"model": ["A value is required."]}}
            )
        media_type = request.mimetype
        if media_type not in MEDIA_TYPES:
            text = f"The request entity's media type '{media_type}' is not supported for this resource."
            raise message(415, text)
        if media_type == "application/x-www-form-urlencoded":
            return {key: request.form.get(key) for key in request.form}, True
        try:
            text = request.get_data().decode("utf-8")
            return (json.loads(text, parse_float=Decimal) if text.strip() else None), False
        except (UnicodeDecodeError, ValueError) as exc:
            raise Problem(400, {"Message": "The request is invalid.", "ModelState": {"model": [str(exc)]}}) from None

    def bound_or_400(document: Any, from_form: bool) -> dict[str, Any]:
        applied, errors = bind(document, from_form)
        if errors:
            raise Problem(400, {"Message": "The request is invalid.", "ModelState": errors})
        return applied

    def contract_id_of(raw: str) -> int:
        if not raw.lstrip("-").isdigit() or not INT32[0] <= int(raw) <= INT32[1]:
            text = f"The request is invalid. The value '{raw}' is not valid for id."
            raise Problem(400, {"Message": "The request is invalid.", "MessageDetail": text})
        return int(raw)

    def permitted(record: dict[str, Any], companies: set[int]) -> None:
        if record["CompanyID"] not in companies:
            raise message(401, "Invalid company permissions")

    @app.route("/api/contract/<raw_id>", methods=["GET", "PATCH"])
    def contract(raw_id: str) -> Response:
        companies = authorize(write=request.method == "PATCH")
        contract_id = contract_id_of(raw_id)
        applied = bound_or_400(*read_body()) if request.method == "PATCH" else {}
        with store.lock:
            record = store.contracts.get(contract_id)
            if record is None:
                raise message(404, f"No contracts found with ID {contract_id}")
            permitted(record, companies)
            if request.method == "GET":
                return answer(200, record)
            updated = {**record, **applied}
            permitted(updated, companies)
            if errors := check_references(updated, companies):
                raise Problem(400, {"Message": "The request is invalid.", "ModelState": errors})
            if applied:
                updated["LastUpdated"] = to_datetime(datetime.now(UTC).isoformat(timespec="milliseconds"))
            store.contracts[contract_id] = updated
            return answer(200, updated)

    @app.route("/api/contract", methods=["POST"])
    def create() -> Response:
        companies = authorize(write=True)
        applied = bound_or_400(*read_body())
        missing = {f"model.{name}": [f"The {name} field is required."] for name in ("CompanyID", "DisplayName")
                   if name not in applied}  # fmt: skip
        if missing:
            raise Problem(400, {"Message": "The request is invalid.", "ModelState": missing})
        record: dict[str, Any] = {**dict.fromkeys(MEMBERS), "Cancelled": False, **applied}
        permitted(record, companies)
        if errors := check_references(record, companies):
            raise Problem(400, {"Message": "The request is invalid.", "ModelState": errors})
        with store.lock:
            record = {"ContractID": store.next_id, **record}
            record["LastUpdated"] = to_datetime(datetime.now(UTC).isoformat(timespec="milliseconds"))
            store.contracts[store.next_id] = record
            store.next_id += 1
        return answer(201, record, {"Location": f"{request.base_url}/{record['ContractID']}"})

    return app
