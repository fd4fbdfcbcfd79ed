"""Revnue Contracts API v2: PUT replaces, PATCH changes what is sent. One test per documented rule."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR, Settings
from mock_server.engine.spec import SpecView
from mock_server.state.fixtures import dangling_references, load_seed
from mock_server.vendors.revnue import VENDOR

BUY_SIDE = 1  # opex, supplier 1, custom field template 1
SELL_SIDE = 2  # blended: capex 60000 + opex 300000 = total 360000
MISSING = 999999
REQUIRED = ["This field is required."]
NOT_FOUND = {"detail": "Not found."}
SPEC = SpecView.load(DEFAULT_SPEC_DIR / "revnue.yaml")
SEED = load_seed(DEFAULT_FIXTURES_DIR / "revnue" / "seed.yaml")

# A complete buy-side contract body for PUT: only the required fields and the supplier.
MINIMAL_BUY_SIDE = {
    "company": 1,
    "name": "Replacement contract",
    "number": "BUY-2026-100",
    "supplier": 2,
    "country": 276,
    "status": "archived",
    "contract_start_date": "2026-01-01",
    "contract_end_date": "2027-01-01",
    "total_contract_spend_value": 1000,
}


@pytest.fixture(scope="module")
def revnue_app(app_store: Any) -> Any:
    return create_app(Settings(validate_responses=True, apis=("revnue",)), store=app_store, vendors={"revnue": VENDOR})


class Revnue:
    """A client of one tenant of the Revnue mock."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def get(self, contract_id: int, token: str | None = None, query: str = "") -> Any:
        return self.client.get(f"/revnue/api/v2/contract/{contract_id}{query}", headers=self.headers(token))

    def send(
        self, method: str, contract_id: int, body: Any, token: str | None = None, query: str = "", **kw: Any
    ) -> Any:
        headers = {**self.headers(token), "Content-Type": kw.pop("content_type", "application/json")}
        content = body if isinstance(body, (str, bytes)) else json.dumps(body)
        url = f"/revnue/api/v2/contract/{contract_id}{query}"
        return self.client.request(method, url, headers=headers, content=content)

    def put(self, contract_id: int, body: Any, **kw: Any) -> Any:
        return self.send("PUT", contract_id, body, **kw)

    def patch(self, contract_id: int, body: Any, **kw: Any) -> Any:
        return self.send("PATCH", contract_id, body, **kw)

    def contract(self, contract_id: int) -> dict[str, Any]:
        response = self.get(contract_id)
        assert response.status_code == 200, response.text
        return response.json()

    def accepted(self, method: str, contract_id: int, body: Any) -> dict[str, Any]:
        """Send an update that must succeed; the response is what a read returns afterwards."""
        response = self.send(method, contract_id, body)
        assert response.status_code == 200, response.text
        assert self.contract(contract_id) == response.json()
        return response.json()

    def rejected(self, method: str, contract_id: int, body: Any, status: int = 400, **kw: Any) -> Any:
        """Send an update that must be refused, check nothing changed, and return the error body."""
        before = self.contract(contract_id)
        response = self.send(method, contract_id, body, **kw)
        assert response.status_code == status, response.text
        assert self.contract(contract_id) == before
        return response.json()


@pytest.fixture
def api(revnue_app: Any) -> Iterator[Revnue]:
    with revnue_app.test_client() as client:
        yield Revnue(client, f"dev-token.{uuid.uuid4().hex[:12]}")


def full_body(contract: dict[str, Any]) -> dict[str, Any]:
    """A PUT body that writes back exactly what a GET returned."""
    category = contract["category"]
    return {
        **{name: contract[name] for name in SPEC.property_names("ContractWritable") if name in contract},
        "parent_contract": contract["parent_contract"] and contract["parent_contract"]["id"],
        "customer": contract["customer"] and contract["customer"]["id"],
        "supplier": contract["supplier"] and contract["supplier"]["id"],
        "country": next(int(k) for k, c in SEED["countries"].items() if c["name"] == contract["country"]),
        "category": category and {"id": category["id"], "subcategory": category["subcategory"]},
        "business_unit": contract["business_unit"] and contract["business_unit"]["id"],
    }


# --- fixtures ------------------------------------------------------------------------------------


def test_seed_references_resolve() -> None:
    assert dangling_references(VENDOR, SEED) == []


def test_seed_has_the_records_docs_and_checks_use() -> None:
    contracts = SEED["contracts"]
    assert contracts["1"]["contract_type"] == "buy_side"
    assert contracts["2"]["contract_type"] == "sell_side"
    assert contracts["2"]["expenditure_type"]["type"] == "blended"
    assert all(str(MISSING) not in rows for rows in SEED.values())


def test_every_seeded_contract_satisfies_the_rules(api: Revnue) -> None:
    for key in SEED["contracts"]:
        before = api.contract(int(key))
        assert api.accepted("PATCH", int(key), {}) == before


# --- reading -------------------------------------------------------------------------------------


def test_get_expands_relations(api: Revnue) -> None:
    contract = api.contract(BUY_SIDE)
    assert contract["supplier"] == {"id": 1, "name": "Northwind Networks Ltd"}
    assert contract["customer"] is None
    assert contract["country"] == "United Kingdom"
    assert contract["category"] == {"id": 1, "name": "Telecommunications", "subcategory": "Connectivity"}
    assert contract["business_unit"] == {
        "id": 1,
        "name": "IT Infrastructure",
        "contact_name": "Priya Shah",
        "contact_email": "priya.shah@acme-holdings.example",
        "contact_phone_number": "+44 20 7946 0101",
    }
    assert api.contract(4)["parent_contract"] == {"id": 1, "number": "BUY-2024-001"}


def test_get_unknown_contract_is_not_found(api: Revnue) -> None:
    response = api.get(MISSING)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_query_parameter_of_the_wrong_type_is_named_in_drf_words(api: Revnue) -> None:
    response = api.get(BUY_SIDE, query="?company=abc")
    assert response.status_code == 400
    assert response.json() == {"company": ["A valid integer is required."]}


def test_contract_of_another_company_is_not_found(api: Revnue) -> None:
    assert api.get(BUY_SIDE, query="?company=1").status_code == 200
    response = api.get(BUY_SIDE, query="?company=2")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert api.rejected("PATCH", BUY_SIDE, {"name": "x"}, status=404, query="?company=2") == NOT_FOUND


# --- PATCH and PUT -------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api: Revnue) -> None:
    before = api.contract(BUY_SIDE)
    after = api.accepted("PATCH", BUY_SIDE, {"name": "Renamed by PATCH", "notice_period": 60})
    assert after == {**before, "name": "Renamed by PATCH", "notice_period": 60}


def test_patch_replaces_a_nested_object_as_a_whole(api: Revnue) -> None:
    after = api.accepted("PATCH", BUY_SIDE, {"category": {"id": 3}})
    assert after["category"] == {"id": 3, "name": "Facilities", "subcategory": None}


def test_put_sets_every_field_not_sent_to_null(api: Revnue) -> None:
    after = api.accepted("PUT", BUY_SIDE, MINIMAL_BUY_SIDE)
    sent = {"id", "contract_type", *MINIMAL_BUY_SIDE}
    assert {name for name, value in after.items() if value is not None} == sent
    assert after["supplier"] == {"id": 2, "name": "Contoso Facilities Management"}
    assert after["country"] == "Germany"
    assert after["contract_type"] == "buy_side"


def test_put_of_what_get_returned_changes_nothing(api: Revnue) -> None:
    for contract_id in (BUY_SIDE, SELL_SIDE):
        before = api.contract(contract_id)
        assert api.accepted("PUT", contract_id, full_body(before)) == before


@pytest.mark.parametrize("field", SPEC.schema("ContractReplace")["required"])
def test_put_requires_field(api: Revnue, field: str) -> None:
    body = {name: value for name, value in MINIMAL_BUY_SIDE.items() if name != field}
    assert api.rejected("PUT", BUY_SIDE, body) == {field: REQUIRED}


def test_patch_cannot_set_a_required_field_to_null(api: Revnue) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {"name": None}) == {"name": ["This field may not be null."]}


def test_unknown_and_read_only_fields_are_ignored(api: Revnue) -> None:
    before = api.contract(BUY_SIDE)
    assert api.accepted("PATCH", BUY_SIDE, {"id": 42, "created_by": "someone"}) == before


def test_writes_are_per_tenant(api: Revnue) -> None:
    api.accepted("PATCH", BUY_SIDE, {"name": "Only in tenant A"})
    other = api.get(BUY_SIDE, token=f"dev-token.{uuid.uuid4().hex[:12]}").json()
    assert other["name"] == "Core network connectivity"


def test_concurrent_patches_of_different_fields_all_land(api: Revnue) -> None:
    changes = [{"name": f"Concurrent {i}"} if i % 2 else {"notice_period": i} for i in range(12)]
    statuses: list[int] = []

    def send(body: dict[str, Any]) -> None:
        statuses.append(api.patch(BUY_SIDE, body).status_code)

    workers = [threading.Thread(target=send, args=(body,)) for body in changes]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses == [200] * len(changes)
    after = api.contract(BUY_SIDE)
    assert after["name"].startswith("Concurrent ") and after["notice_period"] in range(0, 12, 2)


# --- contract_type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PATCH", {"contract_type": "sell_side"}),
        ("PUT", {**MINIMAL_BUY_SIDE, "contract_type": "sell_side", "customer": 1}),
    ],
)
def test_contract_type_cannot_change(api: Revnue, method: str, body: dict[str, Any]) -> None:
    assert api.rejected(method, BUY_SIDE, body) == {"contract_type": ["The contract type cannot be updated."]}


def test_contract_type_may_be_sent_unchanged(api: Revnue) -> None:
    assert api.accepted("PATCH", BUY_SIDE, {"contract_type": "buy_side"})["contract_type"] == "buy_side"


# --- the party a contract type requires ----------------------------------------------------------


def test_buy_side_requires_a_supplier(api: Revnue) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {"supplier": None}) == {"supplier": REQUIRED}
    body = {name: value for name, value in MINIMAL_BUY_SIDE.items() if name != "supplier"}
    assert api.rejected("PUT", BUY_SIDE, {**body, "customer": 1}) == {"supplier": REQUIRED}


def test_sell_side_requires_a_customer(api: Revnue) -> None:
    assert api.rejected("PATCH", SELL_SIDE, {"customer": None}) == {"customer": REQUIRED}


def test_buy_side_may_name_a_customer_too(api: Revnue) -> None:
    after = api.accepted("PATCH", BUY_SIDE, {"customer": 2})
    assert after["customer"] == {"id": 2, "name": "Initech Financial Services"}


# --- dates ---------------------------------------------------------------------------------------

START_BEFORE_END = {"contract_end_date": ["The contract start date must be before the contract end date."]}


@pytest.mark.parametrize("end", ["2024-01-01", "2023-12-31"])
def test_start_must_be_before_end(api: Revnue, end: str) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {"contract_end_date": end}) == START_BEFORE_END


def test_notice_period_must_be_shorter_than_the_contract(api: Revnue) -> None:
    # contract 1 runs 2024-01-01 .. 2026-12-31: 1095 days
    expected = {"notice_period": ["The notice period must be less than duration of contract."]}
    assert api.rejected("PATCH", BUY_SIDE, {"notice_period": 1095}) == expected
    assert api.accepted("PATCH", BUY_SIDE, {"notice_period": 1094})["notice_period"] == 1094


def test_shortening_the_contract_below_the_notice_period_is_refused(api: Revnue) -> None:
    expected = {"notice_period": ["The notice period must be less than duration of contract."]}
    assert api.rejected("PATCH", BUY_SIDE, {"contract_end_date": "2024-03-01"}) == expected


@pytest.mark.parametrize("service_start", ["2023-12-31", "2026-12-31"])
def test_service_start_must_be_within_the_contract(api: Revnue, service_start: str) -> None:
    message = (
        "The service start date must be equal to or after the contract start date and before the contract end date."
    )
    assert api.rejected("PATCH", BUY_SIDE, {"service_start_date": service_start}) == {"service_start_date": [message]}


@pytest.mark.parametrize("service_start", ["2024-01-01", "2026-12-30"])
def test_service_start_may_be_on_the_first_and_last_day_but_one(api: Revnue, service_start: str) -> None:
    assert api.accepted("PATCH", BUY_SIDE, {"service_start_date": service_start})["service_start_date"] == service_start


@pytest.mark.parametrize("value", ["2024-1-01", "01/02/2024", "2024-02-30", "2024-01-01T00:00:00"])
def test_dates_must_be_yyyy_mm_dd(api: Revnue, value: str) -> None:
    expected = {"contract_start_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}
    assert api.rejected("PATCH", BUY_SIDE, {"contract_start_date": value}) == expected


# --- amounts -------------------------------------------------------------------------------------

NRC_TOO_HIGH = {"nrc": ["The non recurring cost cannot be greater than the total contract spend."]}
SUM_MISMATCH = {
    "expenditure_type": [
        "The sum of the capital expenditure value and the operating expense value must equal the total contract spend."
    ]
}


def test_nrc_cannot_exceed_total_spend(api: Revnue) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {"nrc": 150000.01}) == NRC_TOO_HIGH
    assert api.accepted("PATCH", BUY_SIDE, {"nrc": 150000})["nrc"] == "150000.00"


def test_lowering_total_spend_below_the_stored_nrc_is_refused(api: Revnue) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {"total_contract_spend_value": 5999.99}) == NRC_TOO_HIGH


@pytest.mark.parametrize("field", ["first_offer_value", "cost_avoidance_value", "contract_risk_value", "mrc", "nrc"])
def test_amounts_have_documented_range(api: Revnue, field: str) -> None:
    too_small = {field: ["Ensure this value is greater than or equal to 0."]}
    assert api.rejected("PATCH", BUY_SIDE, {field: -0.01}) == too_small
    too_big = {field: ["Ensure this value is less than or equal to 999999999999999."]}
    assert api.rejected("PATCH", BUY_SIDE, {field: 1e15}) == too_big


def test_amounts_must_be_finite_numbers(api: Revnue) -> None:
    assert "NaN is not valid JSON" in api.rejected("PATCH", BUY_SIDE, '{"mrc": NaN}')["detail"]
    for text in ("NaN", "Infinity", "12,50", "twelve", ""):
        assert api.rejected("PATCH", BUY_SIDE, {"mrc": text}) == {"mrc": ["A valid number is required."]}
    assert api.rejected("PATCH", BUY_SIDE, {"mrc": True}) == {"mrc": ["A valid number is required."]}
    required = {"total_contract_spend_value": ["This field may not be null."]}
    assert api.rejected("PATCH", BUY_SIDE, {"total_contract_spend_value": None}) == required


@pytest.mark.parametrize("missing", ["capex_actual", "opex_actual"])
def test_blended_requires_capex_and_opex(api: Revnue, missing: str) -> None:
    expenditure = {"type": "blended", "capex_actual": 60000, "opex_actual": 300000, missing: None}
    expected = {"expenditure_type": {missing: REQUIRED}}
    assert api.rejected("PATCH", SELL_SIDE, {"expenditure_type": expenditure}) == expected


def test_blended_capex_and_opex_must_sum_to_total(api: Revnue) -> None:
    expenditure = {"type": "blended", "capex_actual": 60000, "opex_actual": 299999.99}
    assert api.rejected("PATCH", SELL_SIDE, {"expenditure_type": expenditure}) == SUM_MISMATCH


def test_changing_the_total_of_a_blended_contract_alone_is_refused(api: Revnue) -> None:
    assert api.rejected("PATCH", SELL_SIDE, {"total_contract_spend_value": 400000}) == SUM_MISMATCH


def test_blended_sum_is_compared_as_decimals(api: Revnue) -> None:
    expenditure = {"type": "blended", "capex_actual": 0.1, "opex_actual": 0.2}
    body = {"total_contract_spend_value": 0.3, "nrc": 0, "expenditure_type": expenditure}
    after = api.accepted("PATCH", SELL_SIDE, body)
    assert after["expenditure_type"] == {"type": "blended", "capex_actual": "0.10", "opex_actual": "0.20"}


def test_capex_and_opex_need_not_sum_up_for_other_types(api: Revnue) -> None:
    expenditure = {"type": "capex", "capex_actual": 10, "opex_actual": None}
    after = api.accepted("PATCH", SELL_SIDE, {"expenditure_type": expenditure})
    assert after["expenditure_type"] == {**expenditure, "capex_actual": "10.00"}


# --- custom field template -----------------------------------------------------------------------


def template_body(field_id: int, value: Any) -> dict[str, Any]:
    return {"template": {"id": 1, "fields": [{"id": 4, "value": "Silver"}, {"id": field_id, "value": value}]}}


@pytest.mark.parametrize(
    ("field_id", "value", "message"),
    [
        (1, -0.01, "Ensure this value is greater than or equal to 0."),
        (1, 1e15, "Ensure this value is less than or equal to 999999999999999."),
        (1, "12.001", "Ensure that there are no more than 2 decimal places."),
        (1, "12,00", "A valid number is required."),
        (2, 1.5, "A valid integer is required."),
        (2, -1000000000000000, "Ensure this value is greater than or equal to -999999999999999."),
        (3, "30/06/2026", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        (3, "2026-02-30", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        (4, "x" * 51, "Ensure this field has no more than 50 characters."),
        (4, 7, "Not a valid string."),
    ],
    ids=[
        "money-negative",
        "money-too-big",
        "money-string-three-decimals",
        "money-string-not-a-decimal",
        "number-fraction",
        "number-too-small",
        "date-format",
        "date-no-such-day",
        "text-too-long",
        "text-number",
    ],
)
def test_custom_field_values_are_checked_by_data_type(api: Revnue, field_id: int, value: Any, message: str) -> None:
    expected = {"template": {"fields": [{}, {"value": [message]}]}}
    assert api.rejected("PATCH", BUY_SIDE, template_body(field_id, value)) == expected


@pytest.mark.parametrize(
    ("field_id", "value", "read"),
    [
        (1, 0, "0.00"),
        (1, 999999999999999, "999999999999999.00"),
        (1, "999999999999998.99", "999999999999998.99"),
        (2, -999999999999999, -999999999999999),
        (3, "2028-02-29", "2028-02-29"),
        (4, "x" * 50, "x" * 50),
    ],
)
def test_custom_field_values_within_their_type_are_accepted(api: Revnue, field_id: int, value: Any, read: Any) -> None:
    after = api.accepted("PATCH", BUY_SIDE, template_body(field_id, value))
    assert after["template"]["fields"][1] == {"id": field_id, "value": read}


def test_custom_field_must_belong_to_the_template(api: Revnue) -> None:
    expected = {"template": {"fields": [{}, {"id": ['Custom field "5" is not part of template "1".']}]}}
    assert api.rejected("PATCH", BUY_SIDE, template_body(5, 1)) == expected


# --- references ----------------------------------------------------------------------------------

INVALID_PK = [f'Invalid pk "{MISSING}" - object does not exist.']


@pytest.mark.parametrize("field", ["parent_contract", "customer", "supplier", "country", "business_unit"])
def test_referenced_record_must_exist(api: Revnue, field: str) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {field: MISSING}) == {field: INVALID_PK}


def test_referenced_category_and_template_must_exist(api: Revnue) -> None:
    body = {"category": {"id": MISSING}, "template": {"id": MISSING, "fields": []}}
    assert api.rejected("PATCH", BUY_SIDE, body) == {"category": {"id": INVALID_PK}, "template": {"id": INVALID_PK}}


def test_subcategory_must_belong_to_the_category(api: Revnue) -> None:
    expected = {"category": {"subcategory": ['"Cleaning" is not a subcategory of Telecommunications.']}}
    assert api.rejected("PATCH", BUY_SIDE, {"category": {"id": 1, "subcategory": "Cleaning"}}) == expected
    after = api.accepted("PATCH", BUY_SIDE, {"category": {"id": 1, "subcategory": "Voice"}})
    assert after["category"]["subcategory"] == "Voice"


# --- schema validation in DRF's words ------------------------------------------------------------


def test_schema_violations_name_every_field(api: Revnue) -> None:
    body = {
        "name": "x" * 51,
        "description": "d" * 1001,
        "status": "cancelled",
        "notice_period": "ninety",
        "category": {},
    }
    assert api.rejected("PATCH", BUY_SIDE, body) == {
        "name": ["Ensure this field has no more than 50 characters."],
        "description": ["Ensure this field has no more than 1000 characters."],
        "status": ['"cancelled" is not a valid choice.'],
        "notice_period": ["A valid integer is required."],
        "category": {"id": REQUIRED},
    }


def test_body_must_be_an_object(api: Revnue) -> None:
    assert api.rejected("PATCH", BUY_SIDE, []) == {"non_field_errors": ["Invalid data. Expected a dictionary."]}


def test_malformed_json_is_a_400(api: Revnue) -> None:
    body = api.rejected("PATCH", BUY_SIDE, '{"name": ')
    assert list(body) == ["detail"]


def test_wrong_content_type_is_a_415(api: Revnue) -> None:
    body = api.rejected("PATCH", BUY_SIDE, "name=x", status=415, content_type="application/x-www-form-urlencoded")
    assert body == {"detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'}


def test_body_over_one_mebibyte_is_a_413(api: Revnue) -> None:
    body = api.rejected("PATCH", BUY_SIDE, {"description": "x" * (1024 * 1024)}, status=413)
    assert list(body) == ["detail"]


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_update_of_unknown_contract_is_not_found(api: Revnue, method: str) -> None:
    response = api.send(method, MISSING, MINIMAL_BUY_SIDE)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- authentication ------------------------------------------------------------------------------


def test_missing_credentials_are_a_401(api: Revnue) -> None:
    response = api.client.get(f"/revnue/api/v2/contract/{BUY_SIDE}")
    assert (response.status_code, response.json()) == (401, {"detail": "Authentication credentials were not provided."})
    response = api.client.patch(f"/revnue/api/v2/contract/{BUY_SIDE}", json={"name": "x"})
    assert response.status_code == 401


def test_unknown_token_is_a_401(api: Revnue) -> None:
    assert api.get(BUY_SIDE, token="not-a-token").json() == {"detail": "Invalid token."}
    body = api.rejected("PATCH", BUY_SIDE, {"name": "x"}, status=401, token="not-a-token")
    assert body == {"detail": "Invalid token."}


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_read_only_token_may_read_but_not_write(api: Revnue, method: str) -> None:
    assert api.get(BUY_SIDE, token="readonly-token").status_code == 200
    body = api.rejected(method, BUY_SIDE, MINIMAL_BUY_SIDE, status=403, token="readonly-token")
    assert body == {"detail": "You do not have permission to perform this action."}


def test_auto_expiring_contract_expires_when_the_clock_passes_its_end(revnue_app: Any) -> None:
    with revnue_app.test_client() as client:
        api = Revnue(client, f"dev-token.{uuid.uuid4().hex[:12]}")
        assert api.contract(SELL_SIDE)["status"] == "active"  # auto_expires, ends 2028-06-30
        try:
            client.post("/__admin/clock", json={"today": "2028-07-01"})
            assert api.contract(SELL_SIDE)["status"] == "expired"
            assert api.contract(BUY_SIDE)["status"] == "active"  # auto_renewed: never expires by itself
        finally:
            client.post("/__admin/clock", json={"today": "2026-11-01"})


def test_ending_an_auto_expiring_contract_in_the_past_expires_it(api: Revnue) -> None:
    body = {"contract_start_date": "2020-01-01", "contract_end_date": "2021-01-01", "service_start_date": "2020-01-01"}
    assert api.accepted("PATCH", SELL_SIDE, body)["status"] == "expired"


def test_an_ended_contract_set_back_to_active_is_stored_active(api: Revnue) -> None:
    ended = {"contract_start_date": "2020-01-01", "contract_end_date": "2021-01-01", "service_start_date": "2020-01-01"}
    assert api.accepted("PATCH", SELL_SIDE, ended)["status"] == "expired"
    assert api.accepted("PATCH", SELL_SIDE, {"status": "active"})["status"] == "active"
    assert api.contract(SELL_SIDE)["status"] == "active"
    # an end date that passes after the write expires it again
    later = {"contract_end_date": "2020-12-31"}
    assert api.accepted("PATCH", SELL_SIDE, later)["status"] == "active"  # ended before the status was set


# --- company scope and custom-field data types (issue 9) ------------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("company", [2, MISSING])
def test_company_in_the_body_scopes_the_call_and_never_moves_the_contract(
    api: Revnue, method: str, company: int
) -> None:
    body = {**full_body(api.contract(BUY_SIDE)), "company": company}
    assert api.rejected(method, BUY_SIDE, body, status=404) == {"detail": "Not found."}


def test_company_of_the_contract_in_the_body_is_accepted(api: Revnue) -> None:
    updated = api.accepted("PATCH", BUY_SIDE, {"company": 1, "name": "Same company"})
    assert (updated["company"], updated["name"]) == (1, "Same company")


def test_template_with_an_unknown_data_type_is_a_clear_start_up_error(tmp_path: Any) -> None:
    import shutil

    import yaml

    from mock_server.config import DEFAULT_FIXTURES_DIR
    from mock_server.state.fixtures import FixtureError, load_fixtures

    shutil.copytree(DEFAULT_FIXTURES_DIR / "revnue", tmp_path / "revnue")
    seed = yaml.safe_load((tmp_path / "revnue" / "seed.yaml").read_text())
    seed["custom_field_templates"][1]["fields"][0]["type"] = "percentage"
    (tmp_path / "revnue" / "seed.yaml").write_text(yaml.safe_dump(seed))
    with pytest.raises(FixtureError, match=r"custom_field_templates\[1\]\.fields\[0\]\.type: 'percentage'"):
        load_fixtures(VENDOR, tmp_path)


def test_template_with_an_unknown_data_type_is_a_400_not_a_500(api: Revnue, revnue_app: Any) -> None:
    from mock_server.app import mock_state
    from mock_server.engine.auth import fingerprint

    store = mock_state(revnue_app).store
    api.contract(BUY_SIDE)  # the tenant exists
    tenant = fingerprint(api.token)
    template = store.get(tenant, "revnue", "custom_field_templates", 1) or {}
    template["fields"][0]["type"] = "percentage"
    store.insert(tenant, "revnue", "custom_field_templates", 1, template)
    body = api.rejected("PATCH", BUY_SIDE, template_body(1, 5))
    (message,) = body["template"]["fields"][1]["value"]
    assert message.startswith('The custom field has the data type "percentage"')


# --- amounts are two-decimal fields (issue 21) ---------------------------------------------------


@pytest.mark.parametrize("amount", [0.07, 0.29, 0.57, 150000.1, 150000.99, 999999999999999])
def test_amounts_with_up_to_two_decimals_are_accepted(api: Revnue, amount: float) -> None:
    assert api.accepted("PATCH", BUY_SIDE, {"total_contract_spend_value": amount, "nrc": 0, "expenditure_type": None})


@pytest.mark.parametrize("member", ["total_contract_spend_value", "mrc", "first_offer_value"])
def test_amounts_with_more_than_two_decimals_are_refused_in_drf_words(api: Revnue, member: str) -> None:
    body = api.rejected("PATCH", BUY_SIDE, {member: 1.001})
    assert body == {member: ["Ensure that there are no more than 2 decimal places."]}


def test_every_money_member_of_a_write_is_a_two_decimal_field_in_the_spec() -> None:
    members = [SPEC.schema("CustomFieldMoney")]
    for schema in ("ContractWritable", "ExpenditureTypeInput"):
        members += [m for m in SPEC.schema(schema)["properties"].values() if "multipleOf" in m]
    assert len(members) == 9
    assert [m.get("multipleOf") for m in members] == [0.01] * 9
    # a JSON number, or (likely) a decimal string
    assert all({b.get("type") for b in m["anyOf"]} == {"number", "string"} for m in members)


# --- amounts as Django REST Framework's DecimalField reads and writes them (issue 21, x-likely) -------

AMOUNTS = [
    "first_offer_value",
    "cost_avoidance_value",
    "contract_risk_value",
    "total_contract_spend_value",
    "mrc",
    "nrc",
]
NEAR_MAXIMUM = "999999999999998.99"  # a binary float has no such value: 999999999999999.0 is the nearest


def amounts_of(contract: dict[str, Any]) -> list[Any]:
    expenditure = contract["expenditure_type"] or {}
    money_fields = [f["value"] for f in (contract["template"] or {"fields": []})["fields"] if f["id"] in (1, 5)]
    own = [contract[name] for name in AMOUNTS]
    return [*own, expenditure.get("capex_actual"), expenditure.get("opex_actual"), *money_fields]


@pytest.mark.parametrize("contract_id", [BUY_SIDE, SELL_SIDE])
def test_a_read_answers_every_amount_as_a_string_with_two_decimals(api: Revnue, contract_id: int) -> None:
    amounts = [amount for amount in amounts_of(api.contract(contract_id)) if amount is not None]
    assert len(amounts) >= 8
    for amount in amounts:
        assert isinstance(amount, str) and amount.split(".")[1:] and len(amount.split(".")[1]) == 2, amount


def test_amounts_sent_as_numbers_are_answered_as_decimal_strings(api: Revnue) -> None:
    expenditure = {"type": "opex", "capex_actual": None, "opex_actual": 150000.5}
    body = {"total_contract_spend_value": 150000.5, "mrc": 12, "nrc": 0.07, "expenditure_type": expenditure}
    response = api.patch(BUY_SIDE, body)
    assert response.status_code == 200, response.text
    after = response.json()
    assert [after["total_contract_spend_value"], after["mrc"], after["nrc"]] == ["150000.50", "12.00", "0.07"]
    assert after["expenditure_type"]["opex_actual"] == "150000.50"
    listed = api.client.get("/revnue/api/v2/contract/", headers=api.headers()).json()
    assert next(c for c in listed if c["id"] == BUY_SIDE) == after == api.contract(BUY_SIDE)


def test_a_contract_as_read_can_be_put_back_unchanged(api: Revnue) -> None:
    """Read-modify-write: the amounts go back as the strings the read gave."""
    before = api.contract(BUY_SIDE)
    body = {**full_body(before), "name": "Renamed by a read-modify-write"}
    assert isinstance(body["total_contract_spend_value"], str) and isinstance(
        body["template"]["fields"][0]["value"], str
    )
    assert api.accepted("PUT", BUY_SIDE, body) == {**before, "name": "Renamed by a read-modify-write"}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("999999999999999.01", "Ensure this value is less than or equal to 999999999999999."),
        ("1000000000000000", "Ensure this value is less than or equal to 999999999999999."),
        ("-0.01", "Ensure this value is greater than or equal to 0."),
        ("12.345", "Ensure that there are no more than 2 decimal places."),
        ("12.500", "Ensure that there are no more than 2 decimal places."),
        ("NaN", "A valid number is required."),
        ("-Infinity", "A valid number is required."),
    ],
)
@pytest.mark.parametrize("member", ["mrc", "total_contract_spend_value"])
def test_decimal_strings_are_held_to_the_amount_limits(api: Revnue, member: str, amount: str, message: str) -> None:
    assert api.rejected("PATCH", BUY_SIDE, {member: amount}) == {member: [message]}


def test_nested_decimal_strings_are_held_to_the_amount_limits(api: Revnue) -> None:
    expenditure = {"type": "blended", "capex_actual": "60000.001", "opex_actual": "300000.00"}
    expected = {"expenditure_type": {"capex_actual": ["Ensure that there are no more than 2 decimal places."]}}
    assert api.rejected("PATCH", SELL_SIDE, {"expenditure_type": expenditure}) == expected


def test_an_amount_near_the_maximum_keeps_its_cents(api: Revnue) -> None:
    expenditure = {"type": "blended", "capex_actual": NEAR_MAXIMUM, "opex_actual": "0.01"}
    body = {"total_contract_spend_value": "999999999999999.00", "nrc": NEAR_MAXIMUM, "expenditure_type": expenditure}
    after = api.accepted("PATCH", SELL_SIDE, body)
    assert after["nrc"] == after["expenditure_type"]["capex_actual"] == NEAR_MAXIMUM
    assert after["total_contract_spend_value"] == "999999999999999.00"
    # the sum is exact: one cent more on either side does not add up
    refused = {**body, "expenditure_type": {**expenditure, "opex_actual": "0.02"}}
    assert api.rejected("PATCH", SELL_SIDE, refused) == SUM_MISMATCH
    assert api.contract(SELL_SIDE)["nrc"] == NEAR_MAXIMUM


def test_a_json_number_is_read_as_a_double_as_drf_reads_it(api: Revnue) -> None:
    """DRF's JSONParser reads numbers as binary doubles: a number cannot carry those cents, a string can."""
    after = api.accepted(
        "PATCH", BUY_SIDE, {"nrc": 999999999999998.99, "total_contract_spend_value": "999999999999999"}
    )
    assert after["nrc"] == after["total_contract_spend_value"] == "999999999999999.00"


def test_the_representation_of_amounts_is_marked_as_an_inference() -> None:
    """Strings in answers (`MoneyAmount`) and in requests (`DecimalString`) are DRF's defaults, not documented."""
    for name in ("MoneyAmount", "OptionalMoneyAmount", "DecimalString"):
        schema = SPEC.schema(name)
        assert schema["x-likely"] is True and "DecimalField" in schema["x-likely-source"], name
    answered = [*SPEC.schema("Contract")["properties"].values(), *SPEC.schema("ExpenditureType")["properties"].values()]
    assert sum(member.get("format") == "decimal" and member.get("x-likely") is True for member in answered) == 8


def test_a_read_answering_amounts_as_json_numbers_breaks_no_documented_rule(api: Revnue) -> None:
    """A faithful target may answer plain JSON numbers instead of DRF's strings: at most a difference."""
    from openapi_schema_validator import OAS30ReadValidator

    from conformance.apis import discover
    from conformance.evidence import fuzz_basis, operation_by_label

    revnue = discover()["revnue"]
    operation = operation_by_label(revnue, "GET /api/v2/contract/{id}")
    assert operation is not None
    schema = operation.definition["responses"]["200"]["content"]["application/json"]["schema"]
    as_read = api.contract(BUY_SIDE)
    assert list(OAS30ReadValidator(schema).iter_errors(as_read)) == []
    expenditure = {**as_read["expenditure_type"], "opex_actual": 150000.0}
    numbers = {**as_read, **{name: float(as_read[name]) for name in AMOUNTS}, "expenditure_type": expenditure}
    assert len(list(OAS30ReadValidator(schema).iter_errors(numbers))) == 7
    body = json.dumps(numbers).encode()
    basis = fuzz_basis(revnue, "response_schema_conformance", operation, status=200, response_body=body)
    assert not basis.documented
