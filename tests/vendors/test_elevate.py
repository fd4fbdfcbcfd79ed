"""Elevate billing: customer contracts updated with JSON Patch. One test per documented rule."""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import DEFAULT_FIXTURES_DIR, Settings
from mock_server.state.fixtures import dangling_references, load_seed
from mock_server.state.store import clone
from mock_server.vendors.elevate import VENDOR, _same

PATCH_TYPE = "application/json-patch+json"
NOT_BILLING = 1  # billing has not started: every member may change
BILLING = 2  # billing has started: only roll-over profile, alert days, notice days and end date
ROLLING = 4  # billing from today, monthly term, rolls over into itself
MISSING = 999999
READ_ONLY_MEMBERS = ["id", "createdDate", "previousCustomerContractId", "renewedCustomerContractId"]

SEEDED_CONTRACT_1 = {
    "id": 1,
    "name": "Northwind Traders — Managed Connectivity 12M",
    "customerId": 1001,
    "siteId": 2001,
    "contractProfileId": 1,
    "startDate": "2027-01-01",
    "endDate": "2027-12-31",
    "createdDate": "2026-10-14T09:30:00Z",
    "rolloverContractProfileId": 2,
    "renewalAlertDays": 14,
    "noticePeriodDays": 30,
    "previousCustomerContractId": None,
    "renewedCustomerContractId": None,
}


def _new_app(store: Any) -> Any:
    return create_app(Settings(validate_responses=True, apis=("elevate",)), store=store, vendors={"elevate": VENDOR})


@pytest.fixture(scope="module")
def elevate_app(app_store: Any) -> Any:
    return _new_app(app_store)


class Elevate:
    """A client of one tenant of the Elevate mock."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def get(self, contract_id: int, token: str | None = None) -> Any:
        return self.client.get(f"/elevate/customer-contracts/{contract_id}", headers=self.headers(token))

    def patch(self, contract_id: int, operations: Any, content_type: str = PATCH_TYPE, token: str | None = None) -> Any:
        content = operations if isinstance(operations, (str, bytes)) else json.dumps(operations)
        headers = {**self.headers(token), "Content-Type": content_type}
        return self.client.patch(f"/elevate/customer-contracts/{contract_id}", headers=headers, content=content)

    def contract(self, contract_id: int) -> dict[str, Any]:
        response = self.get(contract_id)
        assert response.status_code == 200, response.text
        return response.json()

    def rejected(self, contract_id: int, operations: Any, status: int = 400, **kwargs: Any) -> dict[str, Any]:
        """Send a patch that must be refused, check nothing changed, and return the error body."""
        before = self.contract(contract_id)
        response = self.patch(contract_id, operations, **kwargs)
        assert response.status_code == status, response.text
        assert self.contract(contract_id) == before
        return response.json()

    def set_today(self, today: str) -> None:
        response = self.client.post("/__admin/clock", json={"today": today})
        assert response.status_code == 200, response.text


def _tenant_token() -> str:
    return f"dev-token.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def api(elevate_app: Any) -> Iterator[Elevate]:
    with elevate_app.test_client() as client:
        yield Elevate(client, _tenant_token())


@pytest.fixture
def clock_api(app_store: Any) -> Iterator[Elevate]:
    """A mock of its own, for tests that move its clock."""
    with _new_app(app_store).test_client() as client:
        yield Elevate(client, _tenant_token())


def replace(member: str, value: Any) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": f"/{member}", "value": value}]


def bad_request(message: str) -> dict[str, str]:
    return {"error": "Bad Request", "message": message}


def field_failed(member: str, reason: str) -> dict[str, str]:
    return bad_request(f"Validation failed for field '{member}': {reason}")


# --- fixtures ------------------------------------------------------------------------------------


def test_seed_references_only_existing_records() -> None:
    seed = load_seed(DEFAULT_FIXTURES_DIR / "elevate" / "seed.yaml")
    assert dangling_references(VENDOR, seed) == []
    assert {"1", "2"} <= set(seed["customerContracts"])
    assert all(str(MISSING) not in rows for rows in seed.values())


# --- reading -------------------------------------------------------------------------------------


def test_get_returns_the_whole_contract(api: Elevate) -> None:
    response = api.get(NOT_BILLING)
    assert response.status_code == 200
    assert response.json() == SEEDED_CONTRACT_1


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_unknown_contract_is_404(api: Elevate, method: str) -> None:
    response = api.get(MISSING) if method == "GET" else api.patch(MISSING, [])
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "message": f"Customer contract {MISSING} not found"}


def test_contract_ids_start_at_one(api: Elevate) -> None:
    response = api.get(0)
    assert response.status_code == 400
    assert response.json() == field_failed("customer_contract_id", "0 is less than the minimum of 1")


# --- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_no_credentials_is_401(api: Elevate, method: str) -> None:
    response = api.client.request(
        method, f"/elevate/customer-contracts/{NOT_BILLING}", headers={"Content-Type": PATCH_TYPE}, content="[]"
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "Unauthorized",
        "message": "Full authentication is required to access this resource",
    }


def test_unknown_token_is_401(api: Elevate) -> None:
    response = api.get(NOT_BILLING, token="not-a-token")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "message": "The access token is invalid"}


def test_read_only_token_reads_but_cannot_patch(api: Elevate) -> None:
    assert api.get(NOT_BILLING, token="readonly-token").status_code == 200
    body = api.rejected(NOT_BILLING, replace("renewalAlertDays", 7), status=403, token="readonly-token")
    assert body == {"error": "Forbidden", "message": "The access token lacks the scope write"}


# --- writing -------------------------------------------------------------------------------------


def test_patch_returns_and_stores_the_contract(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, replace("renewalAlertDays", 7))
    assert response.status_code == 200
    assert response.json() == {**SEEDED_CONTRACT_1, "renewalAlertDays": 7}
    assert api.contract(NOT_BILLING) == response.json()


def test_members_not_patched_stay_unchanged(api: Elevate) -> None:
    api.patch(NOT_BILLING, replace("noticePeriodDays", 45))
    api.patch(NOT_BILLING, replace("name", "Northwind — renamed"))
    assert api.contract(NOT_BILLING) == {**SEEDED_CONTRACT_1, "noticePeriodDays": 45, "name": "Northwind — renamed"}


def test_empty_patch_changes_nothing(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, [])
    assert response.status_code == 200
    assert response.json() == SEEDED_CONTRACT_1


def test_tenants_do_not_see_each_others_writes(api: Elevate) -> None:
    other = Elevate(api.client, _tenant_token())
    assert api.patch(NOT_BILLING, replace("renewalAlertDays", 3)).status_code == 200
    assert other.contract(NOT_BILLING)["renewalAlertDays"] == 14


# --- the six JSON Patch operations ---------------------------------------------------------------


def test_add_sets_a_member(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, [{"op": "add", "path": "/siteId", "value": 2002}])
    assert response.status_code == 200
    assert api.contract(NOT_BILLING)["siteId"] == 2002


def test_remove_clears_a_nullable_member(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, [{"op": "remove", "path": "/siteId"}])
    assert response.status_code == 200
    assert api.contract(NOT_BILLING) == {**SEEDED_CONTRACT_1, "siteId": None}


def test_replace_changes_a_member(api: Elevate) -> None:
    assert api.patch(NOT_BILLING, replace("noticePeriodDays", 60)).status_code == 200
    assert api.contract(NOT_BILLING)["noticePeriodDays"] == 60


def test_move_takes_the_value_from_one_member_to_another(api: Elevate) -> None:
    operations = [{"op": "move", "from": "/rolloverContractProfileId", "path": "/contractProfileId"}]
    assert api.patch(NOT_BILLING, operations).status_code == 200
    contract = api.contract(NOT_BILLING)
    assert (contract["contractProfileId"], contract["rolloverContractProfileId"]) == (2, None)
    assert contract["endDate"] == "2027-01-31"  # the monthly term of profile 2


def test_copy_duplicates_a_value(api: Elevate) -> None:
    operations = [{"op": "copy", "from": "/renewalAlertDays", "path": "/noticePeriodDays"}]
    assert api.patch(NOT_BILLING, operations).status_code == 200
    assert api.contract(NOT_BILLING)["noticePeriodDays"] == 14


def test_passing_test_lets_the_patch_apply(api: Elevate) -> None:
    operations = [{"op": "test", "path": "/renewalAlertDays", "value": 14}, *replace("renewalAlertDays", 21)]
    assert api.patch(NOT_BILLING, operations).status_code == 200
    assert api.contract(NOT_BILLING)["renewalAlertDays"] == 21


def test_failing_test_rejects_the_whole_patch(api: Elevate) -> None:
    operations = [*replace("noticePeriodDays", 99), {"op": "test", "path": "/renewalAlertDays", "value": 15}]
    body = api.rejected(NOT_BILLING, operations)
    assert body == bad_request(
        "JSON Patch operation 1 (test /renewalAlertDays) failed: test failed: the value at /renewalAlertDays is not 15"
    )


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/renewalAlertDays", "The operation does not contain a 'value' member"),
        ("/nothing", "test failed: member 'nothing' not found in"),
    ],
)
def test_test_without_a_value_is_rejected(api: Elevate, path: str, reason: str) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "test", "path": path}])
    assert body["message"].startswith(f"JSON Patch operation 0 (test {path}) failed: {reason}")


def test_test_distinguishes_types(api: Elevate) -> None:
    api.rejected(NOT_BILLING, [{"op": "test", "path": "/renewalAlertDays", "value": "14"}])


def test_test_may_read_read_only_members(api: Elevate) -> None:
    operations = [{"op": "test", "path": "/id", "value": NOT_BILLING}, *replace("renewalAlertDays", 1)]
    assert api.patch(NOT_BILLING, operations).status_code == 200


# --- rejected patches: 400, named, and nothing changed --------------------------------------------


@pytest.mark.parametrize("member", READ_ONLY_MEMBERS)
def test_read_only_members_cannot_be_patched(api: Elevate, member: str) -> None:
    body = api.rejected(NOT_BILLING, [*replace("noticePeriodDays", 1), *replace(member, 3)])
    assert body == bad_request(f"JSON Patch operation 1 (replace /{member}) failed: '{member}' is read-only")


def test_moving_out_of_a_read_only_member_is_rejected(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "move", "from": "/id", "path": "/siteId"}])
    assert body == bad_request("JSON Patch operation 0 (move /siteId) failed: 'id' is read-only")


def test_unknown_members_cannot_be_added(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "add", "path": "/colour", "value": "blue"}])
    assert body == bad_request(
        "JSON Patch operation 0 (add /colour) failed: 'colour' is not a member of a customer contract"
    )


def test_the_whole_contract_cannot_be_replaced(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "replace", "path": "", "value": SEEDED_CONTRACT_1}])
    assert body == bad_request("JSON Patch operation 0 (replace ) failed: the whole contract cannot be replaced")


def test_path_into_a_scalar_is_rejected(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "add", "path": "/renewalAlertDays/days", "value": 1}])
    assert body["error"] == "Bad Request"
    assert body["message"].startswith("JSON Patch operation 0 (add /renewalAlertDays/days) failed:")


@pytest.mark.parametrize(
    ("operation", "missing"),
    [
        ({"op": "replace", "path": "/renewalAlertDays"}, "value"),
        ({"op": "add", "path": "/renewalAlertDays"}, "value"),
        ({"op": "move", "path": "/siteId"}, "from"),
        ({"op": "copy", "path": "/siteId"}, "from"),
    ],
)
def test_operations_need_their_members(api: Elevate, operation: dict[str, str], missing: str) -> None:
    body = api.rejected(NOT_BILLING, [operation])
    assert body["message"].startswith(f"JSON Patch operation 0 ({operation['op']} /")
    assert f"'{missing}'" in body["message"]


def test_unknown_operation_is_rejected_by_the_schema(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "merge", "path": "/renewalAlertDays", "value": 1}])
    assert body == field_failed("0.op", "'merge' is not one of ['add', 'remove', 'replace', 'move', 'copy', 'test']")


def test_path_must_be_a_json_pointer(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "replace", "path": "renewalAlertDays", "value": 1}])
    assert body["message"].startswith("Validation failed for field '0.path': 'renewalAlertDays' does not match")


@pytest.mark.parametrize(
    ("member", "value", "reason"),
    [
        ("renewalAlertDays", 29, "29 is greater than the maximum of 28"),
        ("renewalAlertDays", -1, "-1 is less than the minimum of 0"),
        ("noticePeriodDays", -1, "-1 is less than the minimum of 0"),
        ("noticePeriodDays", 2147483648, "2147483648 is greater than the maximum of 2147483647"),
        ("renewalAlertDays", 7.5, "7.5 is not of type 'integer'"),
        ("customerId", "1001", "'1001' is not of type 'integer'"),
        ("name", "", "'' should be non-empty"),
        ("name", "x" * 101, f"'{'x' * 101}' is too long"),
        ("startDate", "2027-02-30", "'2027-02-30' is not a 'date' (YYYY-MM-DD)"),
        ("startDate", "20270201", "'20270201' is not a 'date' (YYYY-MM-DD)"),
        ("endDate", None, "None is not of type 'string'"),
    ],
)
def test_patched_contract_must_satisfy_the_schema(api: Elevate, member: str, value: Any, reason: str) -> None:
    assert api.rejected(NOT_BILLING, replace(member, value)) == field_failed(member, reason)


@pytest.mark.parametrize("member", ["customerId", "contractProfileId", "startDate", "renewalAlertDays", "name"])
def test_non_nullable_members_cannot_be_removed(api: Elevate, member: str) -> None:
    body = api.rejected(NOT_BILLING, [{"op": "remove", "path": f"/{member}"}])
    assert body == field_failed(member, "must not be removed")


@pytest.mark.parametrize(
    ("member", "collection"),
    [
        ("customerId", "customers"),
        ("siteId", "sites"),
        ("contractProfileId", "contractProfiles"),
        ("rolloverContractProfileId", "contractProfiles"),
    ],
)
def test_references_must_exist(api: Elevate, member: str, collection: str) -> None:
    body = api.rejected(NOT_BILLING, replace(member, MISSING))
    assert body == field_failed(member, f"No {collection} record with id {MISSING}")


def test_site_must_belong_to_the_customer(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, replace("siteId", 2003))
    assert body == field_failed("siteId", "site 2003 does not belong to customer 1001")


def test_customer_and_site_change_together(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, [*replace("customerId", 1002), *replace("siteId", 2003)])
    assert response.status_code == 200
    assert (response.json()["customerId"], response.json()["siteId"]) == (1002, 2003)


# --- billing lock --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("name", "Renamed"),
        ("customerId", 1001),
        ("siteId", None),
        ("contractProfileId", 1),
        ("startDate", "2025-05-01"),
    ],
)
def test_once_billing_started_other_members_are_locked(api: Elevate, member: str, value: Any) -> None:
    body = api.rejected(BILLING, replace(member, value))
    assert body == field_failed(
        member,
        f"billing has started, so /{member} cannot change; "
        "only /rolloverContractProfileId, /renewalAlertDays, /noticePeriodDays, /endDate can",
    )


@pytest.mark.parametrize(
    ("member", "value"),
    [("rolloverContractProfileId", 4), ("renewalAlertDays", 0), ("noticePeriodDays", 120), ("endDate", "2026-12-31")],
)
def test_once_billing_started_these_members_may_change(api: Elevate, member: str, value: Any) -> None:
    response = api.patch(BILLING, replace(member, value))
    assert response.status_code == 200
    assert api.contract(BILLING)[member] == value


def test_billing_lock_allows_writing_an_unchanged_value(api: Elevate) -> None:
    assert api.patch(BILLING, replace("name", api.contract(BILLING)["name"])).status_code == 200


# Values Python calls equal that JSON tells apart, and the reverse (NaN, dicts in another order).
TRICKY_VALUES = [0, 0.0, -0.0, False, 1, 1.0, True, math.nan, math.inf, "1", None, [], {}, [1], [1.0], [True]]
TRICKY_VALUES += [{"a": 1, "b": [0]}, {"b": [0], "a": 1}, {"a": 1.0, "b": [0]}, {"a": 1}]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3) | st.sampled_from(TRICKY_VALUES),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=2), children, max_size=3),
    max_leaves=8,
)


def _same_as_json(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


@pytest.mark.parametrize("left", TRICKY_VALUES)
def test_a_member_is_unchanged_exactly_when_its_json_is(left: Any) -> None:
    """The billing lock's notion of a change: the JSON texts differ (not Python's `==`)."""
    for right in [*TRICKY_VALUES, clone(left), float("nan"), -0.0 * 1]:
        assert _same(left, right) == _same_as_json(left, right), (left, right)


@given(JSON_VALUES, JSON_VALUES)
def test_any_json_value_is_unchanged_exactly_when_its_json_is(left: Any, right: Any) -> None:
    for a, b in ((left, right), (left, clone(left)), (right, clone(right))):
        assert _same(a, b) == _same_as_json(a, b)


def test_billing_starts_on_the_start_date(clock_api: Elevate) -> None:
    assert clock_api.patch(NOT_BILLING, replace("name", "Before billing")).status_code == 200
    clock_api.set_today("2027-01-01")
    clock_api.rejected(NOT_BILLING, replace("name", "After billing"))


# --- end date ------------------------------------------------------------------------------------


def test_end_date_follows_a_new_start_date(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, replace("startDate", "2027-03-01"))
    assert response.json()["endDate"] == "2028-02-29"


def test_end_date_follows_a_new_profile(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, replace("contractProfileId", 4))
    assert response.json()["endDate"] == "2028-12-31"


def test_explicit_end_date_terminates_early(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, [*replace("startDate", "2027-02-01"), *replace("endDate", "2027-06-30")])
    assert response.status_code == 200
    assert (response.json()["startDate"], response.json()["endDate"]) == ("2027-02-01", "2027-06-30")


def test_end_date_cannot_precede_start_date(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, replace("endDate", "2026-12-31"))
    assert body == field_failed("endDate", "must not be before startDate 2027-01-01")


def test_term_past_year_9999_ends_on_its_last_day(api: Elevate) -> None:
    response = api.patch(NOT_BILLING, replace("startDate", "9999-06-01"))
    assert response.status_code == 200
    assert response.json()["endDate"] == "9999-12-31"


# --- roll-over -----------------------------------------------------------------------------------


def test_contract_rolls_over_when_its_term_ends(clock_api: Elevate) -> None:
    clock_api.contract(ROLLING)  # the tenant exists before the clock moves
    clock_api.set_today("2026-12-01")
    assert clock_api.contract(ROLLING)["renewedCustomerContractId"] == 6
    renewal = clock_api.contract(6)
    assert renewal == {
        **renewal,
        "customerId": 1001,
        "siteId": 2002,
        "contractProfileId": 2,
        "startDate": "2026-12-01",
        "endDate": "2026-12-31",
        "previousCustomerContractId": ROLLING,
        "renewedCustomerContractId": None,
    }


def test_terminated_contract_renews_on_its_roll_over_profile(clock_api: Elevate) -> None:
    assert clock_api.patch(BILLING, replace("endDate", "2026-11-15")).status_code == 200
    clock_api.set_today("2026-11-16")
    renewed_id = clock_api.contract(BILLING)["renewedCustomerContractId"]
    renewal = clock_api.contract(renewed_id)
    assert (renewal["contractProfileId"], renewal["startDate"], renewal["endDate"]) == (1, "2026-11-16", "2027-11-15")
    assert renewal["previousCustomerContractId"] == BILLING


def test_contract_back_dated_by_years_renews_once_into_the_current_term(api: Elevate) -> None:
    assert api.patch(NOT_BILLING, replace("startDate", "0001-01-01")).status_code == 200
    contract = api.contract(NOT_BILLING)
    renewal = api.contract(contract["renewedCustomerContractId"])
    assert (renewal["startDate"], renewal["endDate"]) == ("2026-11-01", "2026-11-30")  # the monthly term of today
    assert renewal["renewedCustomerContractId"] is None


# --- requests the mock cannot read ---------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/merge-patch+json"])
def test_body_must_be_a_json_patch(api: Elevate, content_type: str) -> None:
    body = api.rejected(NOT_BILLING, replace("renewalAlertDays", 7), status=415, content_type=content_type)
    assert body == {
        "error": "Unsupported Media Type",
        "message": f"Invalid Content-type ({content_type}), expected ['application/json-patch+json']",
    }


def test_malformed_json_is_400(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, '[{"op": "replace",')
    assert body["error"] == "Bad Request"
    assert body["message"].startswith("Malformed JSON")


def test_patch_must_be_an_array(api: Elevate) -> None:
    body = api.rejected(NOT_BILLING, {"op": "replace", "path": "/renewalAlertDays", "value": 7})
    assert body["error"] == "Bad Request"
    assert "is not of type 'array'" in body["message"]


def test_body_over_one_mebibyte_is_413(api: Elevate) -> None:
    huge = json.dumps(replace("name", "x" * (1024 * 1024)))
    body = api.rejected(NOT_BILLING, huge, status=413)
    assert body == {"error": "Payload Too Large", "message": "Request body exceeds 1048576 bytes"}


def test_unsupported_method_is_405_with_allow(api: Elevate) -> None:
    response = api.client.put(f"/elevate/customer-contracts/{NOT_BILLING}", headers=api.headers(), json={})
    assert response.status_code == 405
    assert response.json()["error"] == "Method Not Allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


# --- concurrency ---------------------------------------------------------------------------------


def test_concurrent_guarded_patches_lose_no_update(api: Elevate) -> None:
    """Optimistic increments (`test` then `replace`) from many threads: every one lands exactly once."""
    threads, increments = 6, 5
    start = api.contract(NOT_BILLING)["noticePeriodDays"]

    def increment() -> None:
        done = 0
        while done < increments:
            current = api.contract(NOT_BILLING)["noticePeriodDays"]
            operations = [{"op": "test", "path": "/noticePeriodDays", "value": current}]
            response = api.patch(NOT_BILLING, [*operations, *replace("noticePeriodDays", current + 1)])
            assert response.status_code in (200, 400), response.text
            done += response.status_code == 200

    workers = [threading.Thread(target=increment) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert api.contract(NOT_BILLING)["noticePeriodDays"] == start + threads * increments
