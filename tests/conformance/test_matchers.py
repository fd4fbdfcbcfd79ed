from __future__ import annotations

import pytest

from conformance.scenarios.matchers import ABSENT, Literal, match, unknown_matchers
from conformance.scenarios.template import UndefinedVariable, render


@pytest.mark.parametrize(
    ("matcher", "value"),
    [
        ("$any", None),
        ("$any_string", ""),
        ("$any_number", 1.5),
        ("$any_int", 3),
        ("$null", None),
        ("$absent", ABSENT),
        ("$absent_or_null", None),
        ("$absent_or_null", ABSENT),
        ("$date", "2024-02-29"),
        ("$datetime", "2018-07-24T07:33:11.728Z"),
        ("$datetime", "2025-11-02T02:15:07.595"),
        ("$digits", "10000000062047"),
    ],
)
def test_matcher_accepts(matcher: str, value: object) -> None:
    assert match(matcher, value) == []


@pytest.mark.parametrize(
    ("matcher", "value"),
    [
        ("$any", ABSENT),
        ("$any_string", 1),
        ("$any_number", True),
        ("$any_int", 1.5),
        ("$null", 0),
        ("$absent", None),
        ("$date", "2023-02-29"),
        ("$date", "2023-02-28T00:00:00"),
        ("$datetime", "yesterday"),
        ("$digits", 10000000062047),
    ],
)
def test_matcher_rejects(matcher: str, value: object) -> None:
    assert len(match(matcher, value)) == 1


def test_mapping_is_a_subset_and_names_where_it_differs() -> None:
    actual = {"name": "A", "number": "7", "nested": {"id": 1, "name": "x"}}

    assert match({"name": "A", "nested": {"id": 1}}, actual) == []
    (mismatch,) = match({"nested": {"id": 2}}, actual)
    assert str(mismatch) == "at /nested/id: expected 2, got 1"


def test_missing_key_differs_from_null() -> None:
    assert [str(m) for m in match({"a": None}, {})] == ["at /a: expected null, got no such key"]
    assert match({"a": "$absent"}, {"a": None}) != []


def test_lists_match_element_wise_and_by_length() -> None:
    assert match([{"id": 1}, "$any"], [{"id": 1, "x": 2}, 5]) == []
    (mismatch,) = match([1], [1, 2])
    assert mismatch.expected == "a list of 1 items"


def test_contains_and_not() -> None:
    assert match({"$contains": [{"id": 2}]}, [{"id": 1}, {"id": 2, "name": "b"}]) == []
    assert match({"$contains": [3]}, [1, 2]) != []
    assert match({"$not": "old"}, "new") == []
    assert match({"$not": "$null"}, None) != []


def test_booleans_are_not_numbers_but_ints_equal_floats() -> None:
    assert match(1, True) != []
    assert match(True, 1) != []
    assert match(100, 100.0) == []


def test_literal_is_compared_whole_and_never_read_as_a_matcher() -> None:
    assert match(Literal("$any"), "anything") != []
    assert match(Literal({"a": 1}), {"a": 1, "b": 2}) != []
    assert match(Literal({"a": [1, {"b": None}]}), {"a": [1, {"b": None}]}) == []


def test_double_dollar_is_a_literal_dollar() -> None:
    assert match("$$any", "$any") == []


def test_unknown_matchers_are_reported_with_their_place() -> None:
    problems = list(unknown_matchers({"a": "$anystring", "b": [{"$has": 1}], "c": "${var}", "d": {"$contains": 1}}))

    assert problems[0].startswith("/a: unknown matcher '$anystring'")
    assert problems[1].startswith("/b/0: '$has' must be the only key")
    assert problems[2] == "/d: $contains takes a list, or a text"
    assert len(problems) == 3


def test_render_keeps_the_type_of_a_whole_reference_and_formats_embedded_ones() -> None:
    variables = {"id": 7, "before": {"tags": ["a", "b"], "ok": True}}

    assert render({"n": "${id}", "path": "/x/${id}", "t": "${before.tags.1}"}, variables) == {
        "n": 7,
        "path": "/x/7",
        "t": "b",
    }
    assert render("flag=${before.ok}", variables) == "flag=true"


def test_render_wraps_substituted_values_for_expectations() -> None:
    assert render({"a": "${id}", "b": "$any"}, {"id": "$any"}, wrap=Literal) == {"a": Literal("$any"), "b": "$any"}


def test_undefined_variable_names_the_reference() -> None:
    with pytest.raises(UndefinedVariable, match=r"\$\{before.missing\}: 'missing' not found"):
        render("${before.missing}", {"before": {"a": 1}})
    with pytest.raises(UndefinedVariable, match=r"no variable 'nope'"):
        render("/x/${nope}", {})


def test_contains_a_text_matches_a_message_only_as_far_as_it_is_given() -> None:
    expected = {"$contains": "Validation failed for field 'startDate'"}

    assert match(expected, "Validation failed for field 'startDate': must not be null") == []
    assert match(expected, "Validation failed for field 'name'") != []
    assert match(expected, 3) != []
