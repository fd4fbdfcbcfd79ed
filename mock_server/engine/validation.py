"""Request validators for Connexion's `validator_map`, reporting every violation as a `FieldError`.

Connexion's own validators stop at the first schema error and report it as text; vendors name each
field (Zoho's `errors` list, aBILLity's `ModelState`, DRF's `{"field": [...]}`), so these collect
every violation as data and raise one `VendorError`. They use only the documented hooks: body
validators subclass `AbstractRequestBodyValidator` and implement `_parse` and `_validate`; the
parameter validator has the constructor and `validate(scope)` Connexion calls on the class it finds
under `"parameter"`, and coerces values with the URI parser Connexion hands it.

The parsed body and the parameters are left in the request's facts (`mock_server.engine.facts`),
so the endpoint does not read them again; each JSON Schema validator is built once per schema and
each parameter validator once per operation, instead of on every request.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any, Literal, cast

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import TypeValidationError
from connexion.uri_parsing import AbstractURIParser
from connexion.validators import VALIDATOR_MAP as CONNEXION_VALIDATORS
from connexion.validators import AbstractRequestBodyValidator
from jsonschema import ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.formparsers import FormParser
from starlette.types import Scope

from mock_server.engine.errors import FieldError, VendorError, validation_error
from mock_server.engine.facts import facts_of
from mock_server.engine.spec import RequestSchema
from openapi_model import UNKNOWN, violations
from openapi_model.keywords import binds_as_null

ParameterSource = Literal["path", "query", "header"]
# Schema keyword: a body of this schema is judged after the record the path names is looked up
# (Django REST Framework's get_object() runs before the serializer: a missing record is a 404 first).
AFTER_LOOKUP = "x-validated-after-lookup"
_COMPILED: dict[int, tuple[Mapping[str, Any], RequestSchema]] = {}
_PARAMETER_VALIDATORS: dict[int, tuple[object, ParameterValidator]] = {}
_ANY_VALUE: Mapping[str, Any] = {}  # the schema of a parameter that gives none (one object: `compiled` keeps one)


def compiled(schema: Mapping[str, Any]) -> RequestSchema:
    """The validator of `schema`, built once per schema object.

    Connexion makes new validator objects for every request; the schemas they get are the same
    objects for the life of the app, so they key the cache. An entry keeps its schema alive, so
    the `id` cannot be reused by another object.
    """
    entry = _COMPILED.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, RequestSchema(dict(schema)))
        _COMPILED[id(schema)] = entry
    return entry[1]


def field_errors(
    errors: Iterable[ValidationError], source: ParameterSource | Literal["body"] = "body"
) -> list[FieldError]:
    found = list(errors)
    if not found:  # the common case: nothing to sort or convert
        return []
    return [FieldError.from_violation(violation, source) for violation in violations(found)]


def _keep_body(scope: Scope, body: Any) -> None:
    facts_of(scope).parsed_body = body


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


class JSONBodyValidator(AbstractRequestBodyValidator):
    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        self._scope = scope  # a validator serves one request
        raw = b"".join([chunk async for chunk in stream])
        body = None
        if raw:
            try:
                body = json.loads(raw.decode(self._encoding), parse_constant=_reject_constant)
            except UnicodeDecodeError as exc:
                raise VendorError(400, "bad_request", f"Request body is not valid {self._encoding}") from exc
            except ValueError as exc:  # JSONDecodeError, and NaN/Infinity, which JSON does not have
                raise VendorError(400, "bad_request", f"Malformed JSON: {exc}") from exc
        _keep_body(scope, body)
        return body

    def _validate(self, body: Any) -> None:
        if not self._nullable and body is None:
            raise VendorError(400, "bad_request", "Request body must not be empty")
        errors = field_errors(compiled(self._schema).iter_errors(body))
        if errors and self._schema.get(AFTER_LOOKUP) is True:
            facts_of(self._scope).deferred_error = validation_error(errors)
        elif errors:
            raise validation_error(errors)


def _exact_integer(coerced: Any, values: list[str]) -> Any:
    """A `number` sent as an integer literal, kept exact as JSON keeps it (a float would round
    79228162514264337593543950335, .NET's decimal maximum, past the schema's maximum)."""
    if isinstance(coerced, float) and values and _INTEGER_LITERAL.fullmatch(values[-1].strip()):
        return int(values[-1])
    return coerced


_INTEGER_LITERAL = re.compile(r"[+-]?\d{1,400}")


class FormBodyValidator(AbstractRequestBodyValidator):
    """Form bodies: each field coerced to its schema type by Connexion's URI parser, then validated."""

    def __init__(self, *, uri_parser: AbstractURIParser | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._uri_parser = uri_parser

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        form = await FormParser(Headers(scope=scope), stream).parse()
        body: dict[str, Any] = {}
        for name in form:
            values = [value for value in form.getlist(name) if isinstance(value, str)]
            body[name] = values[-1] if values else None
            if values and binds_as_null(values[-1], self._schema):
                body[name] = None  # the vendor's binder reads an empty value as null (`x-empty-means-null`)
                continue
            if self._uri_parser is not None:
                # A value that is not of its schema type stays text: the schema check then names the type.
                with contextlib.suppress(TypeValidationError):
                    body.update(self._uri_parser.resolve_form({name: values}))
            if body[name] is None and values:
                # Connexion reads the words `null`/`None` as null; a form has only text, and so do the
                # vendors' binders (ASP.NET: `null` is not a valid Int32 or Boolean, and a string's text).
                body[name] = values[-1]
            body[name] = _exact_integer(body[name], values)
        _keep_body(scope, body)
        return body

    def _validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise VendorError(400, "bad_request", "Form body must be a mapping")
        errors: list[FieldError] = []
        # Like JSON bodies, a form refuses unknown members only when its schema says so.
        if self._schema.get("additionalProperties") is False:
            declared = set(self._schema.get("properties", {}))
            errors += [
                FieldError((name,), "Unknown field.", code=UNKNOWN, value=body[name])
                for name in body
                if name not in declared
            ]
        errors += field_errors(compiled(self._schema).iter_errors(body))
        if errors:
            raise validation_error(sorted(set(errors), key=lambda e: (e.dotted, e.code)))


class ParameterValidator:
    """Checks every path, query and header parameter, naming each one that is missing or invalid."""

    def __init__(
        self,
        parameters: Iterable[Mapping[str, Any]],
        uri_parser: AbstractURIParser,
        strict_validation: bool = False,
        security_query_params: Iterable[str] | None = None,
    ) -> None:
        self.parameters = [p for p in parameters if p.get("in") in ("path", "query", "header")]
        self.uri_parser = uri_parser
        self.strict_validation = strict_validation
        self.allowed_query = {p["name"] for p in self.parameters if p["in"] == "query"} | set(
            security_query_params or []
        )

    @classmethod
    def for_operation(
        cls,
        parameters: list[Mapping[str, Any]],
        uri_parser: AbstractURIParser,
        strict_validation: bool = False,
        security_query_params: Iterable[str] | None = None,
    ) -> ParameterValidator:
        """The validator of an operation's `parameters`, built once: Connexion asks for one on every request,
        with the operation's same list each time (kept alive by the entry, so its `id` is not reused)."""
        entry = _PARAMETER_VALIDATORS.get(id(parameters))
        if entry is None or entry[0] is not parameters:
            entry = (parameters, cls(parameters, uri_parser, strict_validation, security_query_params))
            _PARAMETER_VALIDATORS[id(parameters)] = entry
        return entry[1]

    def validate(self, scope: Scope) -> None:
        values = RequestParameters(scope, self.uri_parser)
        facts_of(scope).parameters = values
        errors: list[FieldError] = []
        if self.strict_validation:
            extra = sorted(set(values.query) - self.allowed_query)
            errors += [FieldError((name,), "Unknown query parameter", source="query", code=UNKNOWN) for name in extra]
        for parameter in self.parameters:
            errors += self._check(parameter, values)
        if errors:
            raise validation_error(errors, "Invalid request parameters")

    def _check(self, parameter: Mapping[str, Any], values: RequestParameters) -> list[FieldError]:
        name, source = str(parameter["name"]), cast(ParameterSource, parameter["in"])
        value = values.get(source, name)
        if value is None:
            if parameter.get("required"):
                message = f"Missing {source} parameter '{name}'"
                return [FieldError((name,), message, source=source, code="required")]
            return []
        errors = field_errors(compiled(parameter.get("schema", _ANY_VALUE)).iter_errors(value), source)
        return [
            FieldError((name, *error.location), error.message, source, error.code, error.limit, error.value)
            for error in errors
        ]


class RequestParameters:
    """A request's path, query and header parameters, coerced by Connexion's URI parser, each read once."""

    def __init__(self, scope: Scope, uri_parser: AbstractURIParser) -> None:
        self.path: dict[str, Any] = uri_parser.resolve_path(dict(scope.get("path_params", {})))
        raw_query = scope.get("query_string", b"")
        self.query: dict[str, Any] = {}
        if raw_query:
            listed = QueryParams(raw_query)
            self.query = uri_parser.resolve_query({key: listed.getlist(key) for key in listed})
        # The raw headers, not the scope: the request's facts refer to these parameters, and the scope to
        # the facts, so keeping the scope would make each request a reference cycle.
        self._raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        self._headers: Headers | None = None

    def get(self, source: ParameterSource, name: str) -> Any:
        if source == "path":
            return self.path.get(name.replace("-", "_"))
        if source == "query":
            return self.query.get(name)
        if self._headers is None:
            self._headers = Headers(raw=self._raw_headers)
        return self._headers.get(name)


VALIDATOR_MAP: dict[str, Any] = {
    "parameter": ParameterValidator.for_operation,
    "body": MediaTypeDict(
        {
            "*/*json": JSONBodyValidator,
            "application/x-www-form-urlencoded": FormBodyValidator,
            "multipart/form-data": CONNEXION_VALIDATORS["body"]["multipart/form-data"],
        }
    ),
    "response": CONNEXION_VALIDATORS["response"],
}
