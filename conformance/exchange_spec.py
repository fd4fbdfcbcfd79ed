"""What the exchange checks read from an API's spec and its vendor module, in one place.

Operations, declared responses and resolved schemas come from the spec (`openapi_model`, the model
the mock reads too, so the proxy, drift and the mock read one document the same way); the resources a
path addresses and the members derived from others come from the vendor's facts (`vendor_facts`),
which the mock reads too, when there are any.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.protocols import Validator

from conformance.apis import Api, Operation
from conformance.evidence import error_basis
from conformance.invariants import UpdateModel
from openapi_model.evidence import Basis
from vendor_facts import Resource, VendorFacts
from vendor_facts import discover as discover_vendors

FORMAT_CHECKER = Draft4Validator.FORMAT_CHECKER


@functools.cache
def _connexion_validators() -> tuple[type[Validator], type[Validator]]:
    """Connexion's OpenAPI-aware validators (request, response), imported on first use: importing Connexion
    costs a third of a second, and a conformance run that judges no exchange never needs it."""
    # Connexion imports Starlette's test client, which warns at import that it is deprecated with httpx;
    # only that warning, only around this import.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
        from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
    return Draft4RequestValidator, Draft4ResponseValidator


def schema_validator(schema: dict[str, Any], *, response: bool) -> Validator:
    """A validator of `schema` as Connexion reads OpenAPI 3.0 (`nullable`, `readOnly`/`writeOnly` by direction)."""
    request_validator, response_validator = _connexion_validators()
    return (response_validator if response else request_validator)(schema, format_checker=FORMAT_CHECKER)


@dataclass(frozen=True)
class Matched:
    """A request's operation, the path as the spec writes it (after any base path) and its parameters."""

    operation: Operation
    path: str  # the request path from the API's root: /api/v1/contracts/1
    definition: dict[str, Any]  # the operation with every $ref resolved

    @property
    def parameters(self) -> dict[str, str]:
        template = self.operation.path.strip("/").split("/")
        actual = self.path.strip("/").split("/")
        return {t[1:-1]: a for t, a in zip(template, actual, strict=True) if t.startswith("{")}


class ApiContract:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.view = api.model
        self.vendor: VendorFacts | None = discover_vendors().get(api.name)

    def match(self, method: str, path: str) -> Matched | None:
        """The operation for `path`, trying it whole and then without leading segments (a base path)."""
        path = path.split("?", 1)[0]
        # a trailing slash is part of the path: Revnue declares `/api/v2/contract/` and `/api/v2/contract`
        trailing = "/" if path.endswith("/") and path.strip("/") else ""
        segments = path.strip("/").split("/")
        for start in range(len(segments)):
            candidate = "/" + "/".join(segments[start:]) + trailing
            operation = self.api.operation_for(method, candidate)
            if operation is not None:
                definition = self.view.resolved["paths"][operation.path][method.lower()]
                return Matched(operation, candidate, definition)
        return None

    def response(self, matched: Matched, status: int) -> dict[str, Any] | None:
        """The declared response for `status`: exact, `4XX`-style, or `default`."""
        responses: dict[str, Any] = matched.definition.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return dict(responses[key])
        return None

    def request_schema(self, matched: Matched, media_type: str) -> dict[str, Any] | None:
        content = matched.definition.get("requestBody", {}).get("content", {})
        found = content.get(media_type)
        return None if found is None else found.get("schema")

    def request_media_types(self, matched: Matched) -> list[str]:
        return list(matched.definition.get("requestBody", {}).get("content", {}))

    def resource(self, matched: Matched) -> Resource | None:
        return None if self.vendor is None else self.vendor.resources.get(matched.operation.path)

    def not_read_back(self, matched: Matched) -> set[str]:
        """Record members a write's value does not read back as sent, by the reading the harness's invariants
        use: derived from others (`x-derived-from`), `readOnly`, or read back in another form (`x-read-form`)."""
        model = UpdateModel(self.api)
        members = model.record_members(matched.operation)
        compared = model.compared(matched.operation)
        return {name for name, member in members.items() if name not in compared or "x-read-form" in member}

    def resource_schema(self, resource: Resource) -> dict[str, Any]:
        return self.view.schema(resource.view_schema)

    def errors(self, schema: dict[str, Any], instance: Any, *, response: bool) -> list[tuple[str, str]]:
        """(JSON pointer, message) for every violation of `schema`."""
        return [
            (pointer, message) for pointer, message, _ in self.classified_errors(schema, instance, response=response)
        ]

    def classified_errors(
        self, schema: dict[str, Any], instance: Any, *, response: bool
    ) -> list[tuple[str, str, Basis]]:
        """(JSON pointer, message, what the broken keyword rests on) for every violation of `schema`."""
        found = schema_validator(schema, response=response).iter_errors(instance)
        classified = [
            ("/" + "/".join(map(str, error.absolute_path)), error.message, error_basis(schema, error))
            for error in found
        ]
        return sorted(classified, key=lambda item: item[:2])

    def response_schema(self, matched: Matched, status: int, media_type: str) -> dict[str, Any] | None:
        """The schema declared for an answer of `status` in `media_type` (or the response's only media type)."""
        content: dict[str, Any] = (self.response(matched, status) or {}).get("content", {})
        media = content.get(media_type) or (next(iter(content.values())) if len(content) == 1 else None)
        schema = media.get("schema") if isinstance(media, dict) else None
        return schema if isinstance(schema, dict) else None


@functools.cache
def contract_for(api: Api) -> ApiContract:
    return ApiContract(api)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
