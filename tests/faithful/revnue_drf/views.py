"""Revnue contracts, written from the seed and vendors.md only, the way a DRF project with its defaults would.

Choices where the documents are silent (DRF's defaults unless said otherwise):
- Decimals are `DecimalField(max_digits=17, decimal_places=2)`: answered as strings ("150000.00"),
  more than two decimal places refused with DRF's message.
- Lookup before validation: an unknown contract is 404 whatever the body; `?company=` filters the
  queryset (a contract of another company, or an unknown company, is 404 "Not found.").
- Relations are primary keys in, expanded objects out; an unknown one is DRF's "Invalid pk" error.
  `country` is a choice of numeric codes in, the country's name out.
- `contract_type` is read-only on update: sent, it is ignored (DRF drops read-only fields).
- PATCH merges nested objects (`category`, `expenditure_type`, template fields by id) with the stored ones;
  PUT replaces: what is not sent is null. `company` is required on PUT ([REQUIRED] in the seed).
- Lists are not paginated (DRF's default): `GET /contract/` answers a JSON array.
- No throttling (the vendor's 100/minute is not simulated); JSON renderer only.
- A lock around lookup, validation and save, so concurrent partial updates never lose one another.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

MONEY_MAX = Decimal("999999999999999.00")
NUMBER_LIMIT = 999999999999999
CUSTOMERS = {21: "Brightwater Ltd", 22: "Oakline plc"}
SUPPLIERS = {31: "Telco One", 32: "CloudServe"}
BUSINESS_UNITS = {
    41: {"name": "Networks", "contact_name": "Ada Park", "contact_email": "ada@example.com",
         "contact_phone_number": "+44 20 7946 0001"},
    42: {"name": "Facilities", "contact_name": "Ben Ode", "contact_email": "ben@example.com",
         "contact_phone_number": "+44 20 7946 0002"},
}  # fmt: skip
CATEGORIES = {51: ("Telecommunications", ("Voice", "Data")), 52: ("Software", ("SaaS", "Licences"))}
COUNTRIES = {826: "United Kingdom", 276: "Germany", 250: "France", 840: "United States"}
TEMPLATES = {61: {71: ("PO budget", "money"), 72: ("Seats", "number"), 73: ("Review date", "date"),
                  74: ("Owner", "text")}, 62: {75: ("Region", "text")}}  # fmt: skip
DECIMALS = ("first_offer_value", "cost_avoidance_value", "contract_risk_value", "total_contract_spend_value",
            "mrc", "nrc")  # fmt: skip
NULLABLE_TEXT = ("description", "timeline_notes", "financial_notes")


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_id = 205
        blank: dict[str, Any] = {
            "parent_contract": None, "first_offer_value": None, "cost_avoidance_value": None,
            "contract_risk_value": None, "customer": None, "supplier": None, "category": None, "description": None,
            "business_unit": None, "notice_period": None, "service_start_date": None, "end_of_term_clause": None,
            "end_of_term_action": None, "timeline_notes": None, "mrc": None, "nrc": None, "expenditure_type": None,
            "payment_terms": None, "financing": None, "financial_notes": None, "template": None,
        }  # fmt: skip
        self.contracts: dict[int, dict[str, Any]] = {
            201: {**blank, "id": 201, "company": 11, "contract_type": "buy_side", "name": "Telco One voice",
                  "number": "BUY-201", "supplier": 31, "country": 826, "status": "active",
                  "category": {"id": 51, "subcategory": "Data"}, "business_unit": 41,
                  "contract_start_date": date(2026, 1, 1), "contract_end_date": date(2028, 12, 31),
                  "notice_period": 90, "service_start_date": date(2026, 2, 1),
                  "first_offer_value": Decimal("150000.00"),
                  "total_contract_spend_value": Decimal("120000.00"), "mrc": Decimal("3000.00"),
                  "nrc": Decimal("12000.00"), "expenditure_type": {"type": "opex", "capex_actual": None,
                  "opex_actual": Decimal("120000.00")}, "payment_terms": "net_30", "financing": "self_paid",
                  "template": {"id": 61, "fields": {71: Decimal("5000.00"), 72: 25, 73: "2027-06-30", 74: "Ada"}},
                  "updated_at": "2026-02-01T09:00:00+00:00"},
            202: {**blank, "id": 202, "company": 11, "contract_type": "sell_side", "name": "Brightwater managed LAN",
                  "number": "SELL-202", "customer": 21, "country": 276, "status": "active",
                  "contract_start_date": date(2026, 3, 1), "contract_end_date": date(2029, 2, 28),
                  "total_contract_spend_value": Decimal("360000.00"), "expenditure_type": {"type": "blended",
                  "capex_actual": Decimal("60000.00"), "opex_actual": Decimal("300000.00")},
                  "updated_at": "2026-02-01T09:00:00+00:00"},
            203: {**blank, "id": 203, "company": 11, "contract_type": "buy_side", "name": "Framework agreement",
                  "number": "BUY-203", "supplier": 32, "country": 826, "status": "active",
                  "contract_start_date": date(2025, 1, 1), "contract_end_date": date(2030, 12, 31),
                  "total_contract_spend_value": Decimal("1000000.00"), "updated_at": "2026-02-01T09:00:00+00:00"},
            204: {**blank, "id": 204, "company": 12, "contract_type": "sell_side", "name": "Oakline support",
                  "number": "SELL-204", "customer": 22, "country": 250, "status": "archived",
                  "contract_start_date": date(2025, 5, 1), "contract_end_date": date(2026, 4, 30),
                  "total_contract_spend_value": Decimal("9000.00"), "updated_at": "2026-02-01T09:00:00+00:00"},
        }  # fmt: skip


STORE = Store()


class PrimaryKey(serializers.Field):
    """A primary key of one of the related tables, with PrimaryKeyRelatedField's errors."""

    default_error_messages = {
        "does_not_exist": 'Invalid pk "{pk_value}" - object does not exist.',
        "incorrect_type": "Incorrect type. Expected pk value, received {data_type}.",
    }

    def __init__(self, table: Any, **kwargs: Any) -> None:
        self.table = table
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            key = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        keys = self.table(self) if callable(self.table) else self.table
        if key not in keys:
            self.fail("does_not_exist", pk_value=data)
        return key

    def to_representation(self, value: Any) -> Any:
        return value


def money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=17, decimal_places=2, min_value=Decimal(0), max_value=MONEY_MAX, **kwargs
    )


def optional_money() -> serializers.DecimalField:
    return money(required=False, allow_null=True)


def choice(*options: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=options, required=False, allow_null=True)


def account_companies(field: serializers.Field) -> tuple[int, ...]:
    return tuple(field.context["account"].companies)


def other_contracts(field: serializers.Field) -> set[int]:
    return set(STORE.contracts) - {field.context.get("contract_id")}


class CategorySerializer(serializers.Serializer):
    id = PrimaryKey(CATEGORIES)
    subcategory = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class ExpenditureSerializer(serializers.Serializer):
    type = choice("blended", "capex", "opex")
    capex_actual = optional_money()
    opex_actual = optional_money()


class TemplateFieldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    value = serializers.JSONField(allow_null=True)


class TemplateSerializer(serializers.Serializer):
    id = PrimaryKey(TEMPLATES)
    fields = TemplateFieldSerializer(many=True, required=False)


class ContractSerializer(serializers.Serializer):
    company = PrimaryKey(account_companies)
    name = serializers.CharField(max_length=50)
    number = serializers.CharField(max_length=50)
    parent_contract = PrimaryKey(other_contracts, required=False, allow_null=True)
    first_offer_value = optional_money()
    cost_avoidance_value = optional_money()
    contract_risk_value = optional_money()
    customer = PrimaryKey(CUSTOMERS, required=False, allow_null=True)
    supplier = PrimaryKey(SUPPLIERS, required=False, allow_null=True)
    country = serializers.ChoiceField(choices=sorted(COUNTRIES))
    status = serializers.ChoiceField(choices=("active", "archived"))
    category = CategorySerializer(required=False, allow_null=True)
    description = serializers.CharField(max_length=1000, required=False, allow_null=True, allow_blank=True)
    business_unit = PrimaryKey(BUSINESS_UNITS, required=False, allow_null=True)
    contract_start_date = serializers.DateField()
    contract_end_date = serializers.DateField()
    notice_period = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    service_start_date = serializers.DateField(required=False, allow_null=True)
    end_of_term_clause = choice("auto_expires", "auto_renewed")
    end_of_term_action = choice("allow_auto_renew", "allow_expiration", "disallow_auto_renew", "renegotiate")
    timeline_notes = serializers.CharField(max_length=1000, required=False, allow_null=True, allow_blank=True)
    total_contract_spend_value = money()
    mrc = optional_money()
    nrc = optional_money()
    expenditure_type = ExpenditureSerializer(required=False, allow_null=True)
    payment_terms = choice("custom", "net_30", "net_45", "net_60")
    financing = choice("custom", "financed", "leased", "self_paid")
    financial_notes = serializers.CharField(max_length=1000, required=False, allow_null=True, allow_blank=True)
    template = TemplateSerializer(required=False, allow_null=True)

    def merged(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The contract as it would be saved: PATCH merges with the stored one, PUT and POST replace it."""
        current: dict[str, Any] = self.instance or {}
        if not self.partial:
            base = {name: None for name in self.fields}
            return {**current, **base, **attrs, "template": template_of(attrs.get("template"), None)}
        result = {**current, **attrs}
        for name in ("category", "expenditure_type"):
            if attrs.get(name) is not None and current.get(name) is not None:
                result[name] = {**current[name], **attrs[name]}
        if "template" in attrs:
            result["template"] = template_of(attrs["template"], current.get("template"))
        return result

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        contract = self.merged(attrs)
        errors: dict[str, Any] = {}
        party = {"buy_side": "supplier", "sell_side": "customer"}.get(contract.get("contract_type") or "")
        if party and contract.get(party) is None:
            errors[party] = [f"This field is required for a {contract['contract_type']} contract."]
        start, end = contract["contract_start_date"], contract["contract_end_date"]
        if start >= end:
            errors["contract_end_date"] = ["The contract start date must be before the contract end date."]
        elif contract.get("notice_period") is not None and contract["notice_period"] >= (end - start).days:
            errors["notice_period"] = ["The notice period must be less than duration of contract."]
        service = contract.get("service_start_date")
        if service is not None and not start <= service < end:
            errors["service_start_date"] = [
                "The service start date must be equal to or after the contract start date and before the contract "
                "end date."
            ]
        total = contract["total_contract_spend_value"]
        if contract.get("nrc") is not None and contract["nrc"] > total:
            errors["nrc"] = ["The non recurring cost cannot be greater than the total contract spend."]
        errors.update(expenditure_errors(contract.get("expenditure_type"), total))
        errors.update(category_errors(contract.get("category")))
        errors.update(template_errors(contract.get("template")))
        if errors:
            raise serializers.ValidationError(errors)
        return contract


class CreateContractSerializer(ContractSerializer):
    contract_type = serializers.ChoiceField(choices=("buy_side", "sell_side"))


def template_of(sent: dict[str, Any] | None, current: dict[str, Any] | None) -> dict[str, Any] | None:
    if sent is None:
        return None
    template_id = sent.get("id", current["id"] if current is not None else None)
    keep = current["fields"] if current is not None and current["id"] == template_id else {}
    items = sent.get("fields", [])
    return {"id": template_id, "fields": {**keep, **{item.get("id"): item.get("value") for item in items}}}


def expenditure_errors(expenditure: dict[str, Any] | None, total: Decimal) -> dict[str, Any]:
    if expenditure is None or expenditure.get("type") != "blended":
        return {}
    missing = {
        name: ["This field is required."] for name in ("capex_actual", "opex_actual") if expenditure.get(name) is None
    }
    if missing:
        return {"expenditure_type": missing}
    if expenditure["capex_actual"] + expenditure["opex_actual"] != total:
        sentence = (
            "The sum of the capital expenditure value and the operating expense value must equal the total "
            "contract spend."
        )
        return {"expenditure_type": {"non_field_errors": [sentence]}}
    return {}


def category_errors(category: dict[str, Any] | None) -> dict[str, Any]:
    if category is not None and "id" not in category:
        return {"category": {"id": ["This field is required."]}}
    if category is None or category.get("subcategory") in (None, ""):
        return {}
    if category["subcategory"] not in CATEGORIES[category["id"]][1]:
        return {"category": {"subcategory": [f'"{category["subcategory"]}" is not a subcategory of this category.']}}
    return {}


def template_errors(template: dict[str, Any] | None) -> dict[str, Any]:
    if template is None:
        return {}
    if template["id"] is None:
        return {"template": {"id": ["This field is required."]}}
    if None in template["fields"]:
        return {"template": {"fields": [{"id": ["This field is required."]}]}}
    kinds = TEMPLATES[template["id"]]
    errors: dict[str, list[str]] = {}
    for field_id, value in template["fields"].items():
        if field_id not in kinds:
            errors[str(field_id)] = [f'Invalid pk "{field_id}" - object does not exist.']
        elif value is not None and (problem := custom_value_problem(kinds[field_id][1], value)):
            errors[str(field_id)] = [problem]
    return {"template": {"fields": errors}} if errors else {}


def custom_value_problem(kind: str, value: Any) -> str | None:
    if kind == "money":
        field = money()
    elif kind == "number":
        field = serializers.IntegerField(min_value=-NUMBER_LIMIT, max_value=NUMBER_LIMIT)
    elif kind == "date":
        field = serializers.DateField()
    else:
        field = serializers.CharField(max_length=50)
    try:
        field.run_validation(value)
    except serializers.ValidationError as exc:
        return str(exc.detail[0]) if isinstance(exc.detail, list) else str(exc.detail)
    return None


def stored_custom_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "money":
        return money().to_internal_value(value)
    if kind == "number":
        return int(serializers.IntegerField().to_internal_value(value))
    return str(value)


def render(contract: dict[str, Any]) -> dict[str, Any]:
    """The answer: relations expanded, decimals as DRF's strings, dates as ISO strings."""

    def named(table: dict[int, str], key: int | None) -> dict[str, Any] | None:
        return {"id": key, "name": table[key]} if key is not None else None

    parent = contract["parent_contract"]
    category = contract["category"]
    unit = contract["business_unit"]
    expenditure = contract["expenditure_type"]
    template = contract["template"]
    body: dict[str, Any] = {key: value for key, value in contract.items() if key != "id"}
    body.update(
        parent_contract={"id": parent, "number": STORE.contracts[parent]["number"]}
        if parent in STORE.contracts
        else None,
        customer=named(CUSTOMERS, contract["customer"]),
        supplier=named(SUPPLIERS, contract["supplier"]),
        country=COUNTRIES[contract["country"]],
        category={"id": category["id"], "name": CATEGORIES[category["id"]][0],
                  "subcategory": category.get("subcategory")} if category else None,
        business_unit={"id": unit, **BUSINESS_UNITS[unit]} if unit is not None else None,
        expenditure_type={name: decimal_text(value) for name, value in expenditure.items()} if expenditure else None,
        template={"id": template["id"], "fields": [
            {"id": field_id, "name": TEMPLATES[template["id"]][field_id][0],
             "data_type": TEMPLATES[template["id"]][field_id][1], "value": decimal_text(value)}
            for field_id, value in sorted(template["fields"].items())]} if template else None,
    )  # fmt: skip
    for name in DECIMALS:
        body[name] = decimal_text(contract[name])
    for name in ("contract_start_date", "contract_end_date", "service_start_date"):
        body[name] = contract[name].isoformat() if contract[name] is not None else None
    return {"id": contract["id"], **body}


def decimal_text(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def stored(contract: dict[str, Any]) -> dict[str, Any]:
    template = contract.get("template")
    if template is not None:
        kinds = TEMPLATES[template["id"]]
        fields = {key: stored_custom_value(kinds[key][1], value) for key, value in template["fields"].items()}
        contract = {**contract, "template": {"id": template["id"], "fields": fields}}
    expenditure = contract.get("expenditure_type")
    if expenditure is not None:
        contract["expenditure_type"] = {name: expenditure.get(name) for name in ("type", "capex_actual", "opex_actual")}
    return contract


def request_body(request: Request) -> Any:
    data = request.data
    return data.dict() if hasattr(data, "dict") else data


class ContractList(APIView):
    def get(self, request: Request) -> Response:
        with STORE.lock:
            rows = [row for row in STORE.contracts.values() if row["company"] in request.user.companies]
        if company := request.query_params.get("company"):
            rows = [row for row in rows if str(row["company"]) == company]
        if name := request.query_params.get("name"):
            rows = [row for row in rows if name.lower() in row["name"].lower()]
        if number := request.query_params.get("contract_no"):
            rows = [row for row in rows if row["number"] == number]
        return Response([render(row) for row in rows])

    def post(self, request: Request) -> Response:
        serializer = CreateContractSerializer(data=request_body(request), context={"account": request.user})
        serializer.is_valid(raise_exception=True)
        with STORE.lock:
            contract = stored({**serializer.validated_data, "id": STORE.next_id})
            STORE.contracts[STORE.next_id] = contract
            STORE.next_id += 1
        return Response(render(contract), status=status.HTTP_201_CREATED)


class ContractDetail(APIView):
    def get_object(self, request: Request, pk: str) -> dict[str, Any]:
        try:
            contract = STORE.contracts[int(pk)]
        except (KeyError, ValueError):
            raise exceptions.NotFound() from None
        company = request.query_params.get("company")
        if contract["company"] not in request.user.companies or (company and company != str(contract["company"])):
            raise exceptions.NotFound()
        return contract

    def get(self, request: Request, pk: str) -> Response:
        with STORE.lock:
            return Response(render(self.get_object(request, pk)))

    def put(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=False)

    def patch(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def update(self, request: Request, pk: str, partial: bool) -> Response:
        with STORE.lock:
            contract = self.get_object(request, pk)
            context = {"account": request.user, "contract_id": contract["id"]}
            serializer = ContractSerializer(contract, data=request_body(request), partial=partial, context=context)
            serializer.is_valid(raise_exception=True)
            updated = stored({**serializer.validated_data, "updated_at": datetime.now(UTC).isoformat()})
            STORE.contracts[contract["id"]] = updated
            return Response(render(updated))

    def delete(self, request: Request, pk: str) -> Response:
        with STORE.lock:
            contract = self.get_object(request, pk)
            del STORE.contracts[contract["id"]]
        return Response(status=status.HTTP_204_NO_CONTENT)
