"""Turning any error into the called vendor's own status, body and headers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping

from connexion.exceptions import (
    BadRequestProblem,
    ExtraParameterProblem,
    Forbidden,
    NonConformingResponse,
    ProblemException,
    Unauthorized,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from mock_server.engine.errors import KIND_BY_STATUS, FieldError, VendorError, validation_error
from mock_server.engine.facts import RequestFacts, known_facts
from mock_server.engine.spec import SpecView
from mock_server.vendors.base import Vendor

logger = logging.getLogger("mock_server")
# What json.dumps(body, separators=(",", ":")) writes, without building an encoder for every response.
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


class ErrorRendering:
    """Asks the vendor a request was for (its facts say which) to render an error: the mock's one error responder."""

    handled_exceptions = (VendorError, ProblemException, StarletteHTTPException, UnicodeDecodeError, Exception)

    def __init__(self, specs: Mapping[str, SpecView]) -> None:
        self._specs = dict(specs)

    def allowed_methods(self, vendor: Vendor, path: str) -> list[str]:
        spec = self._specs.get(vendor.name)
        if spec is None:
            return []
        local = path[len(vendor.prefix) :] or "/"
        # Django-style APIs tell `/contract/` from `/contract`; others ignore a trailing slash.
        return spec.methods_for(local) or spec.methods_for(local.rstrip("/") or "/")

    def render(self, vendor: Vendor | None, path: str | None, error: VendorError) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers; `path` (the request's) is needed only for a 405's `Allow`."""
        headers = dict(error.headers)
        if error.kind == "method_not_allowed" and vendor is not None:
            headers["Allow"] = ", ".join(self.allowed_methods(vendor, path or ""))
        if vendor is None:
            status, body = error.status, {"error": error.kind, "message": error.message}
        else:
            status, body = vendor.render_error(error)
            if status == 401 and vendor.auth_challenge:
                headers.setdefault("WWW-Authenticate", vendor.auth_challenge)
        return status, COMPACT_JSON.encode(body).encode(), headers

    def response(self, facts: RequestFacts, error: VendorError, status: int | None = None) -> Response:
        """The error as the vendor answers it; `status` replaces the vendor's (a fault's or the mock's own)."""
        rendered_status, body, headers = self.render(facts.vendor, facts.path, error)
        return Response(body, status_code=status or rendered_status, headers=headers, media_type="application/json")

    def handle(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        """Connexion's error handler: any exception raised inside it, in the vendor's shape."""
        # The request's headers and URL are parsed only for the errors that need them.
        content_type = request.headers.get("content-type") if isinstance(exc, UnsupportedMediaTypeProblem) else None
        error = as_vendor_error(exc, content_type)
        facts = known_facts(request.scope)
        vendor = facts.vendor if facts is not None else None
        if error.kind == "not_found" and vendor is not None:  # Connexion routes integer ids only
            error = self.unbound_path_parameter(vendor, request.method, request.url.path) or error
            if error.kind == "validation" and "authorization" not in request.headers:
                # the frameworks authenticate before they bind the path (Spring Security, [Authorize])
                error = VendorError(401, "unauthorized", "Authentication credentials were not provided")
        path = request.url.path if error.kind == "method_not_allowed" else None
        status, body, headers = self.render(vendor, path, error)
        return ConnexionResponse(status_code=status, mimetype="application/json", body=body, headers=headers)

    def unbound_path_parameter(self, vendor: Vendor, method: str, path: str) -> VendorError | None:
        """A path no route took because a parameter is not of its type (`/contract/abc`), on an API
        whose spec says its framework answers that as a bad request (Spring, ASP.NET Web API)."""
        spec = self._specs.get(vendor.name)
        if spec is None or not _answers_unbound_path_parameters(spec):
            return None
        local = path[len(vendor.prefix) :] or "/"
        operation = spec.operation_for(method, local)
        arguments = None if operation is None else operation.path_arguments(local)
        if operation is None or not arguments:
            return None
        errors = [
            FieldError((name,), f"The value '{value}' is not valid for {name}.", "path", "type", "integer", value)
            for parameter in operation.parameters
            if parameter.get("in") == "path" and parameter.get("schema", {}).get("type") == "integer"
            for name in [str(parameter["name"])]
            if not _INTEGER.fullmatch(value := arguments.get(name, ""))
        ]
        return validation_error(errors, "Invalid request parameters") if errors else None


# Spec root keyword: how the vendor's framework answers a path parameter it cannot bind to its type.
UNBOUND_PATH_PARAMETER = "x-unbound-path-parameter"
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


def _answers_unbound_path_parameters(spec: SpecView) -> bool:
    policy = spec.raw.get(UNBOUND_PATH_PARAMETER)
    return isinstance(policy, Mapping) and policy.get("status") == 400


def as_vendor_error(exc: Exception, content_type: str | None = None) -> VendorError:
    """`exc` as a `VendorError`; `content_type` is the request's header (named in a 415)."""
    if isinstance(exc, VendorError):
        return exc
    if isinstance(exc, MultiPartException):  # the form parser's own limits (number of fields, part sizes)
        return VendorError(400, "bad_request", f"Form body refused: {exc.message}")
    if isinstance(exc, UnicodeDecodeError):
        return VendorError(400, "bad_request", "Request is not valid UTF-8")
    if isinstance(exc, NonConformingResponse):
        # The mock broke its own spec: a bug in the mock, reported loudly as a 500.
        logger.error("response does not conform to the spec: %s", exc.detail)
        return VendorError(500, "internal", f"Mock response does not conform to the spec: {exc.detail}")
    if isinstance(exc, ExtraParameterProblem):
        return VendorError(400, "validation", str(exc.detail))
    if isinstance(exc, UnsupportedMediaTypeProblem):
        media_type = (content_type or "").split(";", 1)[0].strip() or None
        return VendorError(415, "unsupported_media_type", str(exc.detail), media_type=media_type)
    if isinstance(exc, BadRequestProblem):
        return VendorError(400, "bad_request", str(exc.detail))
    if isinstance(exc, Unauthorized):
        return VendorError(401, "unauthorized", "Authentication credentials were not provided")
    if isinstance(exc, Forbidden):
        return VendorError(403, "forbidden", str(exc.detail))
    if isinstance(exc, (ProblemException, StarletteHTTPException)):
        status = exc.status_code
        kind = KIND_BY_STATUS.get(status)
        if kind is not None:
            return VendorError(status, kind, str(exc.detail or kind))
    logger.exception("unexpected error", exc_info=exc)
    return VendorError(500, "internal", "Internal error in the mock")


__all__ = ["ErrorRendering", "FieldError", "as_vendor_error"]
