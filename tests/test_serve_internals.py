"""jsonschema's internal `evolve`, kept per subschema (`mock_server/_compat.py`): still there, still right.

Validators that keep each subschema's validator report exactly what jsonschema's own report, on every
schema of every spec, for valid and invalid instances; and a schema that can reach a `$ref` keeps nothing.
The scalars they remember valid change no report: every subschema of every spec against values on both
sides of each of the spec's limits, validated again once remembered.
Connexion's Swagger UI middleware, asked only about its own paths (`mock_server/edge/swagger_ui.py`),
and its router, walked once for a request the edge routed (`mock_server/edge/routing.py`), leave every
answer, and the scope the next middleware gets, as Connexion's own stack gives them.
"""

from __future__ import annotations

import gc
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


# Paths one step away from an operation's: other ids, signs, slashes, segments, case.
_NEAR_OPERATION = ("/1", "/+1", "/-1", "/007", "/1/", "/x", "/1/x", "//1", "/1.5", "/%20", "X", "/", "")


def _answers(client: Any, requests: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    answers = []
    for method, path in requests:
        response = client.request(method, path, headers={"Authorization": "Bearer dev-token.swagger"})
        headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
        answers.append((method, path, response.status_code, headers, response.content))
    return answers


def _requests_near_operations() -> list[tuple[str, str]]:
    requests = []
    for vendor in discover().values():
        spec = ApiSpec.load(DEFAULT_SPEC_DIR / f"{vendor.name}.yaml")
        for operation in spec.operations:
            stem = vendor.prefix + re.sub(r"/\{[^}]+\}.*", "", operation.path)
            for near in _NEAR_OPERATION:
                for method in (operation.method.upper(), "GET", "HEAD", "OPTIONS", "TRACE"):
                    requests.append((method, stem + near))
    return sorted(set(requests))


def _handed_on(monkeypatch: pytest.MonkeyPatch, app: Any, requests: list[tuple[str, str]]) -> list[Any]:
    """What the routing middleware hands the next one, per request: path parameters and routing context."""
    from connexion.middleware.security import SecurityMiddleware

    seen: list[Any] = []
    handle = SecurityMiddleware.__call__

    async def spy(self: Any, scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope.get("path_params"), scope.get("extensions", {}).get("connexion_routing")))
        await handle(self, scope, receive, send)

    with monkeypatch.context() as patched:
        patched.setattr(SecurityMiddleware, "__call__", spy)
        answers = _answers(app.test_client(follow_redirects=False), requests)
    return [*answers, seen]


def test_requests_answered_as_with_connexions_own_swagger_ui_middleware(monkeypatch: pytest.MonkeyPatch) -> None:

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
    monkeypatch.setattr(app_module, "_connexion_layers", _stock_layers)
    stock = create_app(Settings(limits=False))
    assert not any(type(layer).__name__ == "SwaggerUIForItsPaths" for layer in _layers(stock))
    assert len(_layers(stock)) == len(_layers(mock)) + 1  # and response validation, off, is left out
    assert ours == _answers(stock.test_client(follow_redirects=False), requests)


def test_routed_as_by_connexions_own_router(monkeypatch: pytest.MonkeyPatch) -> None:

    from mock_server import app as app_module
    from mock_server.app import create_app
    from mock_server.config import Settings
    from mock_server.edge.routing import DirectRouting

    requests = _requests_near_operations()
    mock = create_app(Settings(limits=False))
    assert sum(isinstance(layer, DirectRouting) for layer in _layers(mock)) == 1
    routed_directly = []
    route = DirectRouting._routed

    def counted(self: Any, scope: Any) -> Any:
        routed = route(self, scope)
        routed_directly.append(routed is not None)
        return routed

    with monkeypatch.context() as patched:
        patched.setattr(DirectRouting, "_routed", counted)
        ours = _handed_on(monkeypatch, mock, requests)
    assert sum(routed_directly) > len(requests) // 10, "requests to operations skip Starlette's router walk"
    monkeypatch.setattr(app_module, "_connexion_layers", _stock_layers)
    stock = create_app(Settings(limits=False))
    assert ours == _handed_on(monkeypatch, stock, requests)


def _stock_layers(settings: Any, edge: Any) -> list[Any]:
    """Connexion's own middlewares, with the edge outside its exception handling."""
    from connexion import ConnexionMiddleware
    from connexion.middleware.exceptions import ExceptionMiddleware

    layers = list(ConnexionMiddleware.default_middlewares)
    layers.insert(layers.index(ExceptionMiddleware), edge)
    return layers


def _layers(app: Any) -> list[Any]:
    app.test_client().get("/")  # Connexion builds its stack on the first request
    return list(app.middleware.middleware_stack or [])


# -- Connexion's request validation finding the content type (mock_server/_compat.py) ---------------------

_CONTENT_TYPE_HEADERS = (
    [], [(b"host", b"x")], [(b"content-type", b"application/json")],
    [(b"Content-Type", b"text/plain; charset=latin-1")],
    [(b"CONTENT-TYPE", b"application/json;charset=")], [(b"content-type", b"")], [(b"content-type", b";")],
    [(b"content-type", b"a/b; x=1; charset=utf-16")], [(b"content-type", b"\xe9/\xff")],
    [(b"x", b"y"), (b"content-type", b"application/merge-patch+json"), (b"content-type", b"text/html")],
    [(b"content-type\xc9", b"x/y")], [(b"content-typ", b"x/y")],
)  # fmt: skip


def test_request_validation_finds_the_content_type_connexion_finds() -> None:
    from connexion.middleware.request_validation import RequestValidationOperation

    from mock_server.app import create_app
    from mock_server.config import Settings

    ours = _compat.request_validation_middleware()
    (layer,) = [layer for layer in _layers(create_app(Settings(limits=False))) if isinstance(layer, ours)]
    operations = [op for apis in layer.apis.values() for api in apis for op in api.operations.values()]
    assert len(operations) > 20 and all(type(op) is not RequestValidationOperation for op in operations)
    for operation in operations:
        for headers in _CONTENT_TYPE_HEADERS:
            expected = RequestValidationOperation.extract_content_type(operation, headers)
            assert operation.extract_content_type(headers) == expected, (operation._operation.operation_id, headers)


def test_request_validation_remembers_the_body_definitions_connexion_gives() -> None:
    from mock_server.app import create_app
    from mock_server.config import Settings

    ours = _compat.request_validation_middleware()
    (layer,) = [layer for layer in _layers(create_app(Settings(limits=False))) if isinstance(layer, ours)]
    operations = [op._operation for apis in layer.apis.values() for api in apis for op in api.operations.values()]
    asked = [None, "application/json", "application/*", "text/plain", "x/y", "*/*", ""]
    for operation in operations:
        stock = type(operation).body_definition
        for media_type in [*operation.consumes, *asked]:
            remembered = operation.body_definition(media_type)
            assert remembered == stock(operation, media_type)
            assert operation.body_definition(media_type) is remembered
            assert operation.body_schema(media_type) is remembered.get("schema", {}) or not remembered
        for media_type in operation.consumes:
            assert operation.body_definition(media_type) is stock(operation, media_type)
    for index in range(2 * _compat.MAX_REMEMBERED_MEDIA_TYPES):  # past what is remembered: still right
        assert operations[0].body_definition(f"x/{index}") == stock(operations[0], f"x/{index}")


# -- Connexion's exception handling, `send` wrapped only where nothing else watches it (edge/exceptions.py) --


def _raised_after_answering(monkeypatch: pytest.MonkeyPatch, app: Any) -> str:
    from mock_server.engine.dispatch import Dispatcher

    async def answer_then_fail(self: Any, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("after the answer began")

    with monkeypatch.context() as patched:
        patched.setattr(Dispatcher, "__call__", answer_then_fail)
        with pytest.raises(RuntimeError) as raised:
            app.test_client().get("/elevate/customer-contracts/1", headers={"Authorization": "Bearer dev-token.x"})
    assert isinstance(raised.value.__cause__, ValueError)
    return str(raised.value)


@pytest.mark.filterwarnings("ignore:coroutine 'ServerErrorMiddleware.error_response' was never awaited")
def test_exceptions_are_handled_as_by_connexions_own_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_server import app as app_module
    from mock_server.app import create_app
    from mock_server.config import Settings
    from mock_server.edge.exceptions import ExceptionsWhenRaised
    from mock_server.edge.log import recording_of
    from mock_server.edge.swagger_ui import routed_elsewhere

    mock = create_app(Settings(limits=False))
    handled = []
    handle = ExceptionsWhenRaised.__call__

    async def counted(self: Any, scope: Any, receive: Any, send: Any) -> None:
        handled.append(recording_of(send) is not None and routed_elsewhere(scope))  # the path without a wrapper
        await handle(self, scope, receive, send)

    monkeypatch.setattr(app_module, "_connexion_layers", _stock_layers)
    stock = create_app(Settings(limits=False))
    assert _raised_after_answering(monkeypatch, mock) == _raised_after_answering(monkeypatch, stock)
    gc.collect()  # Connexion's ServerErrorMiddleware leaves a coroutine unawaited there: warned of here
    # a request to an operation whose handler raises: the same answer, through the handling copy
    body = b'[{"op": "replace", "path": "/renewalAlertDays", "value": 99}]'
    headers = {"Authorization": "Bearer dev-token.x", "Content-Type": "application/json-patch+json"}
    answers = []
    for app in (mock, stock):
        with monkeypatch.context() as patched:
            patched.setattr(ExceptionsWhenRaised, "__call__", counted)
            response = app.test_client().patch("/elevate/customer-contracts/1", content=body, headers=headers)
        answers.append((response.status_code, response.headers.get("content-type"), response.content))
    assert answers[0] == answers[1] and answers[0][0] == 400
    assert handled == [True]
