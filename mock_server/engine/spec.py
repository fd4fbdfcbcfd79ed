"""The vendor specs as the mock uses them: the shared spec model, plus validation against its schemas.

Rules modules read lengths, enums and required fields from here instead of restating them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft4Validator, ValidationError

from mock_server._compat import references_nothing, with_kept_subschema_validators
from mock_server.engine.errors import FieldError
from mock_server.engine.quick_check import Check, quick_check
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
    def _validator(self, schema_name: str) -> RequestSchema:
        return RequestSchema(self.schema(schema_name))


class RequestSchema:
    """The mock's validation of one schema: no error where jsonschema-rs quickly finds an object or array
    valid (`mock_server.engine.quick_check`), else every error of jsonschema's validator (`request_validator`,
    which remembers the scalars it found valid)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = request_validator(schema)
        self._quick: Check | None = None
        # built at the first object or array: a read (parameters only) never loads jsonschema-rs
        self._quick_pending = type(self.validator) is _kept_request_validator()

    def iter_errors(self, instance: Any) -> Iterable[ValidationError]:
        if type(instance) in _STRUCTURES:
            if self._quick_pending:
                self._quick, self._quick_pending = quick_check(self.validator), False
            if self._quick is not None and self._quick(instance):
                return ()
        errors: Iterable[ValidationError] = self.validator.iter_errors(instance)
        return errors


_STRUCTURES = (dict, list)


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

    return extend(Draft4RequestValidator, {"multipleOf": exact_multiple_of, "anyOf": decimal_string_any_of})


@functools.cache
def _kept_request_validator() -> Any:
    """The same validator, building each subschema's validator once (`mock_server._compat`)."""
    return with_kept_subschema_validators(_decimal_request_validator())


def exact_multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`multipleOf` on the decimal the client wrote: binary floats would refuse 0.07 as a multiple
    of 0.01 (0.07 / 0.01 is 7.000000000000001), which a decimal field (DRF's, .NET's) accepts.
    A decimal string is judged as written: "5.550" has more places than a step of 0.01 allows."""
    if not validator.is_type(instance, "number") or isinstance(instance, bool):
        return
    try:
        written, exact_step = Decimal(str(instance)), Decimal(str(step))
        exact = written % exact_step == 0
        if isinstance(instance, Decimal):
            exact = exact and _places(written) <= _places(exact_step)
    except (InvalidOperation, ValueError):
        exact = False
    if not exact:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


def _places(number: Decimal) -> int:
    return max(0, -int(number.as_tuple().exponent))


DECIMAL_FORMAT = "decimal"  # a string that writes a decimal number (the OpenAPI format registry's `decimal`)
ANY_OF = Draft4Validator.VALIDATORS["anyOf"]
NUMBER_KEYWORDS = ("multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def decimal_string_any_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`anyOf` of a number or a decimal string (`format: decimal`) under the number's limits: a string
    that writes a number out of them is refused by the limit it breaks (`maximum`, `multipleOf`), as a
    decimal field words it, rather than for matching neither form."""
    errors = list(ANY_OF(validator, branches, instance, schema))
    if errors and isinstance(instance, str) and takes_decimal_strings(branches):
        limits = {keyword: schema[keyword] for keyword in NUMBER_KEYWORDS if keyword in schema}
        number = _finite_decimal(instance)
        broken = [] if number is None or not limits else list(validator.descend(number, limits))
        errors = broken or errors
    yield from errors


def takes_decimal_strings(branches: Any) -> bool:
    """Whether the branches of an `anyOf` take a decimal written as a string."""
    return isinstance(branches, list) and any(
        isinstance(branch, dict) and branch.get("format") == DECIMAL_FORMAT for branch in branches
    )


def _finite_decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


__all__ = [
    "DECIMAL_FORMAT",
    "FORMAT_CHECKER",
    "RequestSchema",
    "SpecError",
    "SpecView",
    "request_validator",
    "takes_decimal_strings",
]
