"""The mock and the harness read a request the same way: one spec keyword, one reading."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.apis import discover
from conformance.invariants import UpdateModel, Write, check_write, parse_body
from mock_server.testing import MockServer

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def abillity() -> Iterator[httpx.Client]:
    with MockServer() as server, httpx.Client(base_url=f"{server.url}/abillity") as client:
        client.headers["Authorization"] = "Bearer dev-token.one-reading"
        yield client


def test_an_empty_form_value_is_not_sent_for_the_mock_and_the_harness_alike(abillity: httpx.Client) -> None:
    api = discover()["abillity"]
    operation = api.operation_for("PATCH", "/api/contract/1")
    assert operation is not None
    before = abillity.get("/api/contract/1").json()
    content = b"DisplayName=&Notes=null"

    answer = abillity.patch("/api/contract/1", content=content, headers={"Content-Type": FORM})
    after = abillity.get("/api/contract/1").json()

    assert answer.status_code == 200
    assert after["DisplayName"] == before["DisplayName"]  # ASP.NET's ConvertEmptyStringToNull: null, not sent
    assert after["Notes"] == "null"  # a form has only text: the word null is text
    write = Write(operation, FORM, parse_body(content, FORM), answer.status_code)
    assert check_write(UpdateModel(api), write, before, after) == []


def test_the_word_null_in_a_typed_form_member_is_refused_like_any_other_text(abillity: httpx.Client) -> None:
    answer = abillity.patch("/api/contract/1", content=b"Cancelled=null", headers={"Content-Type": FORM})

    assert answer.status_code == 400
    assert "model.Cancelled" in answer.json()["ModelState"]
