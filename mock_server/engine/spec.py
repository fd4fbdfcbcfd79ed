"""The vendor specs as the mock uses them: the shared spec model, plus validation against its schemas.

Rules modules read lengths, enums and required fields from here instead of restating them.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft4Validator

from mock_server.engine.errors import FieldError
from openapi_model import ApiSpec, SpecError, violations

# Draft 4 formats only: calendar dates (`format: date`) are checked by each vendor's rules module,
# because each vendor words that error its own way.
FORMAT_CHECKER = Draft4Validator.FORMAT_CHECKER


class SpecView(ApiSpec):
    def validate(self, schema_name: str, instance: Any) -> list[FieldError]:
        """Every violation of a component schema, each with the path to its field."""
        return [
            FieldError.from_violation(violation)
            for violation in violations(self._validator(schema_name).iter_errors(instance))
        ]

    @functools.cache  # noqa: B019 - one per schema name for the life of the spec, which lives as long as the app
    def _validator(self, schema_name: str) -> Draft4Validator:
        return request_validator(self.schema(schema_name))


def request_validator(schema: dict[str, Any]) -> Draft4Validator:
    """The validator the mock checks requests with: Connexion's (Draft 4 with OpenAPI's `nullable`)."""
    from connexion.json_schema import Draft4RequestValidator

    validator: Draft4Validator = Draft4RequestValidator(schema, format_checker=FORMAT_CHECKER)
    return validator


__all__ = ["FORMAT_CHECKER", "SpecError", "SpecView", "request_validator"]
