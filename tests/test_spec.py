from mock_server.spec import SpecView


class FakeSpecification:
    raw: dict = {}

    def __init__(self, schemas):
        self.spec = {"components": {"schemas": schemas}}


SPEC = SpecView(
    FakeSpecification(
        {
            "Base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "maxLength": 3}}},
            "Full": {
                "allOf": [
                    {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "maxLength": 3}}}
                ],
                "required": ["b"],
                "properties": {
                    "b": {"type": "string", "enum": ["x", "y"]},
                    "when": {"type": "string", "format": "date"},
                },
            },
        }
    )
)


def test_lookups_read_constraints_from_the_schema():
    assert SPEC.max_length("Base", "a") == 3
    assert SPEC.enum("Full", "b") == ["x", "y"]


def test_all_of_parts_are_merged_for_required_and_properties():
    assert sorted(SPEC.required("Full")) == ["a", "b"]
    assert sorted(SPEC.property_names("Full")) == ["a", "b", "when"]


def test_validate_names_each_field():
    errors = SPEC.validate("Full", {"a": "long", "b": "z"})
    assert {(e.dotted, e.message) for e in errors} == {
        ("a", "'long' is too long"),
        ("b", "'z' is not one of ['x', 'y']"),
    }
