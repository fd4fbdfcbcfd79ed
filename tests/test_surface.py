"""The documented surface around the update operations, across vendors (issue 21)."""

from __future__ import annotations

import uuid

import pytest


def bearer(token: str = "dev-token") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}.{uuid.uuid4().hex[:12]}"}


ZOHO = {"orgId": "60000000001"}


def zoho_auth() -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken dev-token.{uuid.uuid4().hex[:12]}", **ZOHO}


READS = {
    "elevate": "/elevate/customer-contracts/1",
    "abillity": "/abillity/api/contract/1",
    "revnue": "/revnue/api/v2/contract/1",
}


@pytest.mark.parametrize("api", sorted(READS))
def test_unknown_query_parameters_are_ignored_where_no_source_refuses_them(client, api):
    plain = client.get(READS[api], headers=bearer())
    extra = client.get(READS[api] + "?format=json&utm_source=partner", headers=bearer())
    assert plain.status_code == 200
    assert (extra.status_code, extra.json()) == (200, plain.json())


def test_zoho_refuses_an_unknown_query_parameter_as_documented(client):
    response = client.get("/zoho-desk/api/v1/contracts/10000000000001?debug=1", headers=zoho_auth())
    assert response.status_code == 422
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/elevate/customer-contracts/abc", None, "customer_contract_id"),
        ("/abillity/api/contract/abc", None, "model.id"),
        ("/abillity/api/contract/1.5", None, "model.id"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_non_integer_path_id_is_a_400_naming_it_where_the_framework_says_so(client, path, body, named, method):
    response = client.request(method, path, headers=bearer(), json=body)
    assert response.status_code == 400, response.text
    assert named.split(".")[-1] in response.text


def test_a_non_integer_path_id_is_not_found_on_revnue_as_drf_answers_it(client):
    response = client.get("/revnue/api/v2/contract/abc", headers=bearer())
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_a_non_integer_path_id_without_credentials_is_still_a_401(client):
    assert client.get("/elevate/customer-contracts/abc").status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_revnue_401_carries_the_challenge_its_spec_declares(client, mock_app, headers):
    spec = mock_app.state.specs["revnue"]
    declared = spec.resolved["components"]["responses"]["Unauthorized"]["headers"]["WWW-Authenticate"]["example"]
    response = client.get("/revnue/api/v2/contract/1", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == declared == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=500", 'The value of the parameter "limit" is invalid or out of range'),
        ("from=-1", 'The value of the parameter "from" is invalid or out of range'),
        ("debug=1", 'An extra parameter "debug" is found'),
    ],
)
def test_zoho_words_an_out_of_range_parameter_apart_from_an_extra_one(client, query, message):
    response = client.get(f"/zoho-desk/api/v1/contracts?{query}", headers=zoho_auth())
    assert (response.status_code, response.json()) == (422, {"errorCode": "UNPROCESSABLE_ENTITY", "message": message})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contractName": None}, "contractName must not be null"),
        ({"contractName": "x" * 65536}, "contractName must have at most 80 characters"),
        ({"notifyBefore": "abc"}, "notifyBefore must be a number"),
        ({"ownerId": "abc" * 1000}, "ownerId is not valid"),
    ],
)
def test_zoho_field_messages_are_its_own_words_and_never_echo_the_value(client, body, message):
    response = client.patch("/zoho-desk/api/v1/contracts/10000000000001", headers=zoho_auth(), json=body)
    assert response.status_code == 422
    assert [e["errorMessage"] for e in response.json()["errors"]] == [message]
    assert len(response.content) < 1000


def test_zoho_echoes_a_long_unknown_attribute_name_shortened(client):
    response = client.patch("/zoho-desk/api/v1/contracts/10000000000001", headers=zoho_auth(), json={"x" * 70000: 1})
    assert response.json()["errorCode"] == "UNPROCESSABLE_ENTITY"
    assert len(response.content) < 1000


def test_elevate_401_uses_springs_words_as_its_spec_does(client, mock_app):
    spec = mock_app.state.specs["elevate"]
    declared = spec.resolved["components"]["responses"]["Unauthorized"]["content"]["application/json"]["example"]
    response = client.get("/elevate/customer-contracts/1")
    assert (response.status_code, response.json()) == (401, declared)


@pytest.mark.parametrize("start", ["2026-13-01", "nope"])
def test_elevate_create_blames_an_invalid_start_date_on_start_date_only(client, start):
    body = {"customerId": 1001, "contractProfileId": 1, "startDate": start}
    response = client.post("/elevate/customer-contracts", headers=bearer(), json=body)
    assert response.status_code == 400
    assert "startDate" in response.json()["message"] and "endDate" not in response.json()["message"]


# --- documented resources the rules depend on, now readable ---------------------------------------


def test_elevate_contract_profiles_are_a_page_of_the_seeded_profiles(client):
    response = client.get("/elevate/contract-profiles?page=2&pageSize=2", headers=bearer())
    assert response.status_code == 200
    body = response.json()
    assert (body["page"], body["pageSize"], body["totalCount"]) == (2, 2, 4)
    assert [profile["id"] for profile in body["items"]] == [3, 4]
    assert body["items"][0] == {"id": 3, "name": "Managed Connectivity 36M", "termMonths": 36, "version": 2}


@pytest.mark.parametrize(("query", "field"), [("pageSize=1001", "pageSize"), ("page=0", "page")])
def test_elevate_contract_profiles_page_limits_are_the_spec_s(client, query, field):
    response = client.get(f"/elevate/contract-profiles?{query}", headers=bearer())
    assert response.status_code == 400 and field in response.json()["message"]


def test_elevate_contract_profile_by_id_and_unknown_profile(client):
    assert client.get("/elevate/contract-profiles/1", headers=bearer()).json()["termMonths"] == 12
    missing = client.get("/elevate/contract-profiles/999999", headers=bearer())
    assert (missing.status_code, missing.json()["error"]) == (404, "Not Found")
    assert client.get("/elevate/contract-profiles").status_code == 401


def test_elevate_profile_term_read_is_the_term_a_create_derives_end_date_from(client):
    profile = client.get("/elevate/contract-profiles/2", headers=bearer()).json()
    body = {"customerId": 1001, "contractProfileId": profile["id"], "startDate": "2027-01-01"}
    created = client.post("/elevate/customer-contracts", headers=bearer(), json=body)
    assert created.status_code == 201, created.text
    assert profile["termMonths"] == 1 and created.json()["endDate"] == "2027-01-31"


def test_revnue_custom_form_templates_list_and_read(client):
    listed = client.get("/revnue/api/v2/custom-form-template", headers=bearer())
    assert listed.status_code == 200
    assert [template["id"] for template in listed.json()] == [1, 2]
    one = client.get("/revnue/api/v2/custom-form-template/1", headers=bearer()).json()
    assert [field["type"] for field in one["fields"]] == ["money", "number", "date", "text"]
    missing = client.get("/revnue/api/v2/custom-form-template/999999", headers=bearer())
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    assert client.get("/revnue/api/v2/custom-form-template").status_code == 401


# --- aBILLity's username/password header authentication ------------------------------------------


@pytest.fixture
def abillity_client():
    from mock_server.app import create_app
    from mock_server.config import Settings

    with create_app(Settings(apis=("abillity",), validate_responses=True)).test_client() as test_client:
        yield test_client


USER = {"username": "api.user", "password": "dev-password", "SystemInformation": "partner-crm 1.0"}


def test_abillity_username_and_password_headers_authenticate_as_their_token(abillity_client):
    changed = abillity_client.patch("/abillity/api/contract/1", headers=USER, json={"Notes": "by header auth"})
    assert changed.status_code == 200
    as_token = abillity_client.get("/abillity/api/contract/1", headers={"Authorization": "Bearer dev-token"})
    assert as_token.json()["Notes"] == "by header auth"  # the same tenant as the token the pair stands for


@pytest.mark.parametrize(
    "headers",
    [{"username": "api.user", "password": "wrong"}, {"username": "api.user"}, {"username": "nobody", "password": "x"}],
)
def test_abillity_a_wrong_username_or_password_is_401_and_changes_nothing(abillity_client, headers):
    before = abillity_client.get("/abillity/api/contract/1", headers=USER).json()
    response = abillity_client.patch("/abillity/api/contract/1", headers=headers, json={"Notes": "must not be saved"})
    assert (response.status_code, response.json()) == (
        401,
        {"Message": "Authorization has been denied for this request."},
    )
    assert abillity_client.get("/abillity/api/contract/1", headers=USER).json() == before


def test_abillity_a_read_only_user_may_read_but_not_write(abillity_client):
    reader = {"username": "readonly.user", "password": "readonly-password"}
    assert abillity_client.get("/abillity/api/contract/1", headers=reader).status_code == 200
    response = abillity_client.patch("/abillity/api/contract/1", headers=reader, json={"Notes": "x"})
    assert (response.status_code, response.json()) == (401, {"Message": "Invalid company permissions"})


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_revnue_looks_the_contract_up_before_judging_the_body_as_drf_does(client, method):
    invalid = {"name": "x" * 51, "status": "nonsense"}
    missing = client.request(method, "/revnue/api/v2/contract/999999", headers=bearer(), json=invalid)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    existing = client.request(method, "/revnue/api/v2/contract/1", headers=bearer(), json=invalid)
    assert existing.status_code == 400 and "name" in existing.json()
