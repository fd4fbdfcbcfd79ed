"""jsonschema's internal `evolve`, kept per subschema (`mock_server/_compat.py`): still there, still right.

Validators that keep each subschema's validator report exactly what jsonschema's own report, on every
schema of every spec, for valid and invalid instances; and a schema that can reach a `$ref` keeps nothing.
The scalars they remember valid change no report: every subschema of every spec against values on both
sides of each of the spec's limits, validated again once remembered.
Connexion's Swagger UI middleware, asked only about its own paths (`mock_server/edge/swagger_ui.py`),
leaves every answer as Connexion's own stack gives it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema.validators import extend

from mock_server import _compat
from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.engine.spec import (
    FORMAT_CHECKER,
    _decimal_request_validator,
    _kept_request_validator,
    request_validator,
)
from mock_server.vendors import discover
from openapi_model import ApiSpec
from tests.support.schema_probes import EVERY_TYPE, instances, probe_pool, probes, report, schemas, spec_cases


@pytest.mark.parametrize("api", sorted(discover()))
def test_kept_validators_report_what_jsonschema_reports(api: str) -> None:
    spec, seed, _ = spec_cases(api)
    plain = extend(_decimal_request_validator(), {})
    every_schema, every_instance = schemas(spec), instances(spec, seed)
    kept_count = 0
    for schema in every_schema:
        kept = request_validator(schema)
        kept_count += type(kept) is _kept_request_validator()
        library = plain(schema, format_checker=FORMAT_CHECKER)
        for instance in every_instance:
            assert report(kept, instance) == report(library, instance), (schema.get("title"), instance)
    assert kept_count == len(every_schema), "every schema of the specs can keep its validators"


def test_a_kept_validator_is_built_once_per_subschema() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}}
    validator = request_validator(schema)
    subschema = schema["properties"]["name"]
    assert validator.evolve(schema=subschema) is validator.evolve(schema=subschema)
    assert [e.validator for e in validator.iter_errors({"name": "long"})] == ["maxLength"]


def test_a_schema_that_can_reach_a_reference_keeps_nothing() -> None:
    assert not _compat.references_nothing({"properties": {"a": {"$ref": "#/components/schemas/A"}}})
    assert not _compat.references_nothing({"anyOf": [{"type": "null"}, {"$ref": "#/x"}]})
    # a member named `$ref` or `id`, or a `$ref` only a reference could reach, is no reference
    assert _compat.references_nothing({"properties": {"id": {"type": "integer"}}, "components": {"$ref": "#/x"}})
    assert _compat.references_nothing({"type": "object", "example": {"$ref": "x"}})


# -- Scalars remembered valid (mock_server/_compat.py, ValidScalars) ---------------------------------


@pytest.mark.parametrize("api", sorted(discover()))
def test_scalars_remembered_valid_change_no_report(api: str) -> None:
    """Every subschema of the spec against every probe scalar of the spec, validated twice by the mock's
    validators (the second time with what the first remembered) and once by jsonschema's own: the same
    report. Then an instance of each schema with one member set to each probe of its own, the same way."""
    spec, seed, every_subschema = spec_cases(api)
    plain = extend(_decimal_request_validator(), {})
    pool = probe_pool(spec, seed, every_subschema)
    for schema in every_subschema:
        mock, library = request_validator(schema), plain(schema, format_checker=FORMAT_CHECKER)
        for value in pool:
            expected = report(library, value)
            assert report(mock, value) == expected, (schema, value)
            assert report(mock, value) == expected, (schema, value)
    objects = [instance for instance in instances(spec, seed) if isinstance(instance, dict)]
    for schema in schemas(spec):
        mock, library = request_validator(schema), plain(schema, format_checker=FORMAT_CHECKER)
        members = schema.get("properties", {})
        # one instance of this schema (a valid one where the spec or seed has one), each member changed in turn
        instance = min(objects, key=lambda candidate: len(report(library, candidate)), default={})
        for member in members:
            for value in [*probes(members[member]), *EVERY_TYPE]:
                changed = {**instance, member: value}
                assert report(mock, changed) == report(library, changed), (member, value)


def test_a_value_is_remembered_valid_only_against_its_own_subschema() -> None:
    short, long = {"type": "string", "maxLength": 3}, {"type": "string", "maxLength": 5}
    schema = {"type": "object", "properties": {"short": short, "long": long, "count": {"type": "integer"}}}
    validator = request_validator(schema)
    assert type(validator) is _kept_request_validator()
    for _ in range(2):
        assert list(validator.iter_errors({"long": "four", "count": 1})) == []
        errors = validator.iter_errors({"short": "four", "count": True})
        assert sorted((tuple(e.path), e.validator) for e in errors) == [(("count",), "type"), (("short",), "maxLength")]


def test_a_value_remembered_valid_is_not_validated_again() -> None:
    seen: list[Any] = []
    counting = extend(_decimal_request_validator(), {"maxLength": lambda v, limit, instance, s: seen.append(instance)})
    validator = _compat.with_kept_subschema_validators(counting)(
        {"properties": {"name": {"maxLength": 3}}}, format_checker=FORMAT_CHECKER
    )
    for _ in range(3):
        assert list(validator.iter_errors({"name": "abc"})) == []
        assert list(validator.iter_errors({"name": "x" * (_compat.MAX_REMEMBERED_TEXT + 1)})) == []
    assert seen == ["abc", *["x" * (_compat.MAX_REMEMBERED_TEXT + 1)] * 3], "a long text is validated every time"


# -- Swagger UI asked only about its own paths (mock_server/edge/swagger_ui.py) ----------------------

_NEAR_SWAGGER = (
    "/openapi.json", "/openapi.json/", "/openapi.yaml", "/openapi", "/ui", "/ui/", "/ui/index.html",
    "/ui/swagger-ui-config.json", "/ui/swagger-ui.css", "/ui/missing.js", "/uix", "", "/", "/nothing-here",
)  # fmt: skip


def _answers(client: Any, requests: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    answers = []
    for method, path in requests:
        response = client.request(method, path, headers={"Authorization": "Bearer dev-token.swagger"})
        headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
        answers.append((method, path, response.status_code, headers, response.content))
    return answers


def test_requests_answered_as_with_connexions_own_swagger_ui_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    from connexion import ConnexionMiddleware

    from mock_server import app as app_module
    from mock_server.app import create_app
    from mock_server.config import Settings

    vendors = discover()
    requests = []
    for vendor in vendors.values():
        spec = ApiSpec.load(DEFAULT_SPEC_DIR / f"{vendor.name}.yaml")
        for operation in spec.operations:
            path = vendor.prefix + re.sub(r"\{[^}]+\}", "1", operation.path)
            requests += [("GET", path), (operation.method.upper(), path), ("GET", path + "/")]
        requests += [(method, vendor.prefix + path) for path in _NEAR_SWAGGER for method in ("GET", "PATCH")]
    mock = create_app(Settings(limits=False))
    assert any(type(layer).__name__ == "SwaggerUIForItsPaths" for layer in _layers(mock))
    ours = _answers(mock.test_client(follow_redirects=False), requests)
    monkeypatch.setattr(app_module, "_connexion_layers", lambda settings: list(ConnexionMiddleware.default_middlewares))
    stock = create_app(Settings(limits=False))
    assert not any(type(layer).__name__ == "SwaggerUIForItsPaths" for layer in _layers(stock))
    assert len(_layers(stock)) == len(_layers(mock)) + 1  # and response validation, off, is left out
    assert ours == _answers(stock.test_client(follow_redirects=False), requests)


def _layers(app: Any) -> list[Any]:
    app.test_client().get("/")  # Connexion builds its stack on the first request
    return list(app.middleware.middleware_stack or [])
