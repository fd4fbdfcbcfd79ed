"""The vendor specs as the mock uses them: the shared spec model, plus validation against its schemas.

Rules modules read lengths, enums and required fields from here instead of restating them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft4Validator, ValidationError

from mock_server._compat import references_nothing, with_kept_subschema_validators
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
    """The validator the mock checks requests with: Connexion's (Draft 4 with OpenAPI's `nullable`),
    with `multipleOf` decided in decimal arithmetic."""
    validator_class = _kept_request_validator() if references_nothing(schema) else _decimal_request_validator()
    validator: Draft4Validator = validator_class(schema, format_checker=FORMAT_CHECKER)
    return validator


@functools.cache
def _decimal_request_validator() -> Any:
    from connexion.json_schema import Draft4RequestValidator
    from jsonschema.validators import extend

    return extend(Draft4RequestValidator, {"multipleOf": exact_multiple_of})


@functools.cache
def _kept_request_validator() -> Any:
    """The same validator, building each subschema's validator once (`mock_server._compat`)."""
    return with_kept_subschema_validators(_decimal_request_validator())


def exact_multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`multipleOf` on the decimal the client wrote: binary floats would refuse 0.07 as a multiple
    of 0.01 (0.07 / 0.01 is 7.000000000000001), which a decimal field (DRF's, .NET's) accepts."""
    if not validator.is_type(instance, "number") or isinstance(instance, bool):
        return
    try:
        exact = Decimal(str(instance)) % Decimal(str(step)) == 0
    except (InvalidOperation, ValueError):
        exact = False
    if not exact:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


__all__ = ["FORMAT_CHECKER", "SpecError", "SpecView", "request_validator"]
