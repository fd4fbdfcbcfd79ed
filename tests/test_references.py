"""References between records: the values a dotted path names, and the ones whose record is missing."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.engine.references import dangling, values_at

RECORD = {
    "customer": 7,
    "category": {"id": 3, "name": "x"},
    "agents": [1, None, 2],
    "lines": [{"product": {"id": 5}}, {"product": None}, "not an object", {"product": {"id": 6}}],
    "empty": None,
}


@pytest.mark.parametrize(
    ("dotted", "found"),
    [
        ("customer", [(("customer",), 7)]),
        ("category.id", [(("category", "id"), 3)]),
        ("agents[]", [(("agents", 0), 1), (("agents", 1), None), (("agents", 2), 2)]),
        ("lines[].product.id", [(("lines", 0, "product", "id"), 5), (("lines", 3, "product", "id"), 6)]),
        ("empty", []),
        ("empty.id", []),
        ("missing[]", []),
        ("customer.id", []),  # a scalar has no members
        ("category[]", []),  # an object is not a list
    ],
)
def test_values_at_a_dotted_path(dotted: str, found: list[tuple[tuple[Any, ...], Any]]) -> None:
    assert list(values_at(RECORD, dotted)) == found


def test_dangling_names_each_missing_target_at_its_location() -> None:
    existing = {("customers", 7), ("categories", 3), ("agents", 1), ("products", 5)}
    fields = {
        "customer": "customers",
        "category.id": "categories",
        "agents[]": "agents",
        "lines[].product.id": "products",
    }
    errors = dangling(fields, RECORD, lambda collection, key: (collection, key) in existing)
    assert [(error.location, error.message) for error in errors] == [
        (("agents", 2), "No agents record with id 2"),
        (("lines", 3, "product", "id"), "No products record with id 6"),
    ]
    assert dangling({"customer": "customers"}, {"customer": 8}, lambda c, k: False)[0].location == ("customer",)
    assert dangling({"customer": "customers"}, {"customer": None}, lambda c, k: False) == []
