"""Connexion's request validators, made to report every violation with the field it concerns.

Connexion stops at the first schema error and reports it as text; vendors name each field
(Zoho's `errors` list, aBILLity's `ModelState`, DRF's `{"field": [...]}`), so these subclasses
collect all errors as `FieldError`s and raise a `VendorError`. They also build each JSON Schema
validator once instead of on every request, and turn undecodable bodies into a 400 (Connexion #1860).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP as CONNEXION_VALIDATORS
from connexion.validators import FormDataValidator, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from mock_server.errors import FieldError, VendorError, validation_error

# Draft 4 formats only: calendar dates (`format: date`) are checked by each vendor's rules module,
# because each vendor words that error its own way.
FORMAT_CHECKER = Draft4Validator.FORMAT_CHECKER
_COMPILED: dict[tuple[int, type[Draft4Validator]], tuple[dict[str, Any], Draft4Validator]] = {}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def compiled(schema: dict[str, Any], validator_class: type[Draft4Validator]) -> Draft4Validator:
    """The validator of `schema`, built once per schema object.

    Connexion makes new validator objects for every request; the schemas they get are the same
    objects for the life of the app, so they key the cache. An entry keeps its schema alive, so
    the `id` cannot be reused by another object.
    """
    key = (id(schema), validator_class)
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not schema:
        entry = (schema, validator_class(schema, format_checker=FORMAT_CHECKER))
        _COMPILED[key] = entry
    return entry[1]


def _field_errors(errors: Iterable[ValidationError]) -> list[FieldError]:
    found = {field_error for error in errors for field_error in _named(error)}
    return sorted(found, key=lambda e: (e.dotted, e.message))


def _named(error: ValidationError) -> list[FieldError]:
    """Point `required` and `additionalProperties` errors at the field they are about."""
    location = tuple(error.absolute_path)
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        return [
            FieldError((*location, name), "This field is required.", code="required")
            for name in error.validator_value
            if name not in instance
        ]
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return [
            FieldError((*location, name), "Unknown field.", code="unknown") for name in sorted(set(instance) - known)
        ]
    return [FieldError(location, error.message, code=str(error.validator), limit=error.validator_value)]


class CollectingJSONBodyValidator(JSONRequestBodyValidator):
    @property
    def _validator(self) -> Draft4Validator:  # type: ignore[override]
        return compiled(self._schema, Draft4RequestValidator)

    async def _parse(self, stream: Any, scope: Any) -> Any:
        raw = b"".join([message async for message in stream])
        if not raw:
            return None
        try:
            return json.loads(raw.decode(self._encoding), parse_constant=_reject_constant)
        except UnicodeDecodeError as exc:
            raise VendorError(400, "bad_request", f"Request body is not valid {self._encoding}") from exc
        except ValueError as exc:  # JSONDecodeError, and NaN/Infinity, which JSON does not have
            raise VendorError(400, "bad_request", f"Malformed JSON: {exc}") from exc

    def _validate(self, body: Any) -> None:
        if not self._nullable and body is None:
            raise VendorError(400, "bad_request", "Request body must not be empty")
        errors = _field_errors(self._validator.iter_errors(body))
        if errors:
            raise validation_error(errors)


class CollectingFormValidator(FormDataValidator):
    @property
    def _validator(self) -> Draft4Validator:  # type: ignore[override]
        return compiled(self._schema, Draft4RequestValidator)

    def _validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise VendorError(400, "bad_request", "Form body must be a mapping")
        # Like JSON bodies, a form refuses unknown members only when its schema says so.
        if self._strict_validation and self._schema.get("additionalProperties") is False:
            extra = sorted(set(body) - set(self._schema.get("properties", {})))
            if extra:
                raise validation_error([FieldError((name,), "Unknown field.", code="unknown") for name in extra])
        errors = _field_errors(self._validator.iter_errors(body))
        if errors:
            raise validation_error(errors)


class NamingParameterValidator(ParameterValidator):
    """Parameter validation that names the parameter and keeps going through all of them."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        """Connexion's check of one parameter, with the validator built once instead of on every call."""
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                compiled(param.get("schema", param), Draft4Validator).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None

    def validate_request(self, request: Any) -> None:
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, security_params=self.security_query_params)
            if extra:
                raise validation_error(
                    [
                        FieldError((name,), "Unknown query parameter", source="query", code="unknown")
                        for name in sorted(extra)
                    ]
                )
        errors: list[FieldError] = []
        for location, check in (
            ("query", self.validate_query_parameter),
            ("path", self.validate_path_parameter),
            ("header", self.validate_header_parameter),
        ):
            for param in self.parameters.get(location, []):
                try:
                    message = check(param, request)
                except BadRequestProblem as exc:  # raised by Connexion's type coercion
                    message = str(exc.detail)
                if message:
                    code = "required" if message.startswith("Missing") else "invalid"
                    errors.append(FieldError((param["name"],), message, source=location, code=code))  # type: ignore[arg-type]
        if errors:
            raise validation_error(errors, "Invalid request parameters")


VALIDATOR_MAP = {
    "parameter": NamingParameterValidator,
    "body": MediaTypeDict(
        {
            "*/*json": CollectingJSONBodyValidator,
            "application/x-www-form-urlencoded": CollectingFormValidator,
            "multipart/form-data": CONNEXION_VALIDATORS["body"]["multipart/form-data"],
        }
    ),
    "response": CONNEXION_VALIDATORS["response"],
}
