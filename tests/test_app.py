"""The engine through a one-resource vendor: routing, auth, validation, errors, atomicity."""

import dataclasses
import subprocess
import sys
from typing import Any

import pytest
from connexion import spec as connexion_spec

from mock_server.app import StartupError, create_app
from mock_server.config import Settings
from mock_server.engine import validation
from mock_server.engine.spec import SpecError
from mock_server.state.fixtures import FixtureError
from tests.support import widgets

URL = "/widgets/widgets/1"
AUTH = {"Authorization": "Bearer dev-token.app-tests"}


def state(client, headers=AUTH):
    response = client.get(URL, headers=headers)
    assert response.status_code == 200
    return response.json()


def test_patch_persists_and_get_reads_it_back(widgets_client):
    headers = {"Authorization": "Bearer dev-token.persist"}
    response = widgets_client.patch(URL, json={"name": "new"}, headers=headers)
    assert response.status_code == 200 and response.json()["name"] == "new"
    assert state(widgets_client, headers) == {"id": 1, "name": "new", "size": 3}


def test_tenants_do_not_see_each_others_writes(widgets_client):
    widgets_client.patch(URL, json={"name": "mine"}, headers={"Authorization": "Bearer dev-token.a"})
    assert state(widgets_client, {"Authorization": "Bearer dev-token.b"})["name"] == "abc"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"name": "js"}'),
        ("text/json", b'{"name": "tj"}'),
        ("application/x-www-form-urlencoded", b"name=fm"),
    ],
)
def test_every_declared_content_type_is_accepted(widgets_client, content_type, body):
    headers = {**AUTH, "Content-Type": content_type}
    assert widgets_client.patch(URL, content=body, headers=headers).status_code == 200


def test_schema_violations_name_every_field_and_change_nothing(widgets_client):
    before = state(widgets_client)
    response = widgets_client.patch(URL, json={"name": "far too long", "size": -1, "colour": "red"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "/colour": "Unknown field.",
        "/name": "'far too long' is too long",
        "/size": "-1 is less than the minimum of 0",
    }
    assert state(widgets_client) == before


def test_a_rule_broken_inside_the_handler_changes_nothing(widgets_client):
    before = state(widgets_client)
    response = widgets_client.patch(URL, json={"name": "boom", "size": 0}, headers=AUTH)
    assert response.status_code == 400 and response.json()["message"] == "boom is not a widget name"
    assert state(widgets_client) == before


@pytest.mark.parametrize(
    "body, content_type, status, kind",
    [
        (b"{not json", "application/json", 400, "bad_request"),
        (b"\xff\xfe\x00", "application/json", 400, "bad_request"),
        (b"<widget/>", "application/xml", 415, "unsupported_media_type"),
        (b"", "application/json", 400, "bad_request"),
        (b'"just a string"', "application/json", 400, "validation"),
        (b'{"size": NaN}', "application/json", 400, "bad_request"),
        (b'{"size": Infinity}', "application/json", 400, "bad_request"),
    ],
)
def test_unreadable_bodies_get_a_clear_4xx(widgets_client, body, content_type, status, kind):
    response = widgets_client.patch(URL, content=body, headers={**AUTH, "Content-Type": content_type})
    assert (response.status_code, response.json()["error"]) == (status, kind)


def test_bodies_over_the_limit_get_413(widgets_client):
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = widgets_client.patch(URL, content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "headers, status, kind",
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer unknown"}, 401, "invalid_token"),
        ({"Authorization": "Basic ZGV2LXRva2Vu"}, 401, "invalid_token"),
        ({"Authorization": "Bearer readonly-token"}, 403, "forbidden"),
    ],
)
def test_auth_failures_are_rendered_by_the_vendor(widgets_client, headers, status, kind):
    response = widgets_client.patch(URL, json={"name": "x"}, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, kind)


def test_read_only_token_may_read(widgets_client):
    assert widgets_client.get(URL, headers={"Authorization": "Bearer readonly-token"}).status_code == 200


def test_unknown_record_and_unknown_path_are_404_in_vendor_shape(widgets_client):
    assert widgets_client.get("/widgets/widgets/999999", headers=AUTH).json() == {
        "error": "not_found",
        "message": "no widget 999999",
    }
    assert widgets_client.get("/widgets/gadgets", headers=AUTH).json()["error"] == "not_found"


def test_undeclared_method_is_405_with_the_full_allow_header(widgets_client):
    response = widgets_client.delete(URL, headers=AUTH)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH"


def test_control_characters_in_the_path_are_not_found(widgets_client):
    response = widgets_client.get("/widgets/widgets/1%0A", headers=AUTH)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_extra_query_parameters_are_rejected(widgets_client):
    response = widgets_client.get(URL + "?debug=1", headers=AUTH)
    assert response.status_code == 400 and response.json()["fields"] == {"/debug": "Unknown query parameter"}


def test_swagger_ui_is_served_per_api(widgets_client):
    assert "Swagger UI" in widgets_client.get("/widgets/ui/").text


def test_the_swagger_ui_page_is_the_one_connexion_renders(widgets_client):
    """Connexion's Swagger UI templates, made on first use in the mock (`_compat.swagger_ui_templates_on_first_use`),
    render the page Connexion renders with its own, in a process where nothing changed them."""
    script = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from connexion import ConnexionMiddleware\n"
        "from connexion.options import SwaggerUIOptions\n"
        "from starlette.testclient import TestClient\n"
        "from starlette.responses import PlainTextResponse\n"
        "from mock_server.edge.swagger_ui import swagger_ui_options\n"
        "from openapi_model import load_yaml_file\n"
        "from pathlib import Path\n"
        "app = ConnexionMiddleware(PlainTextResponse('no'))\n"
        "app.add_api(load_yaml_file(Path(sys.argv[1])), base_path='/widgets', resolver_error=501, "
        "swagger_ui_options=swagger_ui_options(True))\n"
        "sys.stdout.write(TestClient(app).get('/widgets/ui/').text)\n"
    )
    spec = widgets.SETTINGS.spec_dir / "widgets.yaml"
    done = subprocess.run([sys.executable, "-c", script, str(spec)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Swagger UI" in done.stdout
    assert widgets_client.get("/widgets/ui/").text == done.stdout


def test_startup_fails_clearly_on_unknown_api():
    with pytest.raises(StartupError, match="unknown API nope"):
        create_app(Settings(apis=("nope",)), vendors={"widgets": widgets.VENDOR})


def test_startup_fails_clearly_on_invalid_spec(tmp_path):
    (tmp_path / "widgets.yaml").write_text("openapi: 3.0.3\ninfo: {}\n")
    settings = Settings(spec_dir=tmp_path, fixtures_dir=widgets.HERE / "fixtures")
    with pytest.raises(SpecError, match=r"widgets\.yaml: invalid OpenAPI document"):
        create_app(settings, vendors={"widgets": widgets.VENDOR})


def connexion_validations(monkeypatch) -> list[str]:
    """The specs Connexion validates against the OpenAPI schema, by title, as it validates them."""
    validated: list[str] = []
    build = connexion_spec.create_spec_validator

    def counting(spec):
        validated.append(spec["info"].get("title", ""))
        return build(spec)

    monkeypatch.setattr(connexion_spec, "create_spec_validator", counting)
    return validated


def test_a_valid_spec_is_validated_once_per_content_and_library_versions(tmp_path, monkeypatch):
    validated = connexion_validations(monkeypatch)
    settings = dataclasses.replace(widgets.SETTINGS, cache_dir=tmp_path / "cache")
    for _ in range(2):
        assert state(create_app(settings, vendors={"widgets": widgets.VENDOR}).test_client())["id"] == 1
    assert len(validated) == 1
    assert len(list((tmp_path / "cache" / "connexion-valid").iterdir())) == 1  # one marker, named by the SHA-256
    changed = tmp_path / "specs"
    changed.mkdir()
    text = (widgets.SETTINGS.spec_dir / "widgets.yaml").read_text()
    (changed / "widgets.yaml").write_text(text + "\nx-changed: true\n")
    create_app(dataclasses.replace(settings, spec_dir=changed), vendors={"widgets": widgets.VENDOR})
    assert len(validated) == 2
    create_app(dataclasses.replace(settings, cache_dir=None), vendors={"widgets": widgets.VENDOR})
    assert len(validated) == 3  # no cache, no shortcut


def test_an_invalid_spec_is_refused_at_every_start_with_a_cache(tmp_path, monkeypatch):
    validated = connexion_validations(monkeypatch)
    (tmp_path / "widgets.yaml").write_text("openapi: 3.0.3\ninfo: {}\n")
    settings = Settings(spec_dir=tmp_path, fixtures_dir=widgets.HERE / "fixtures", cache_dir=tmp_path / "cache")
    for _ in range(2):
        with pytest.raises(SpecError, match=r"widgets\.yaml: invalid OpenAPI document"):
            create_app(settings, vendors={"widgets": widgets.VENDOR})
    assert len(validated) == 2
    assert not (tmp_path / "cache" / "connexion-valid").exists()
    assert not (tmp_path / "cache" / "connexion-spec").exists()


def connexion_builds(monkeypatch) -> list[str]:
    """The specs Connexion resolves (the work of building a `Specification`), by title."""
    resolved: list[str] = []
    resolve = connexion_spec.resolve_refs

    def counting(spec, *args, **kwargs):
        resolved.append(spec["info"].get("title", ""))
        return resolve(spec, *args, **kwargs)

    monkeypatch.setattr(connexion_spec, "resolve_refs", counting)
    return resolved


def test_connexion_builds_a_spec_once_per_content_and_serves_it_the_same(tmp_path, monkeypatch):
    built, validated = connexion_builds(monkeypatch), connexion_validations(monkeypatch)
    settings = dataclasses.replace(widgets.SETTINGS, cache_dir=tmp_path / "cache")
    clients = [create_app(settings, vendors={"widgets": widgets.VENDOR}).test_client() for _ in range(2)]
    assert [state(client)["id"] for client in clients] == [1, 1]
    assert (len(built), len(validated)) == (1, 1)
    served = [client.get("/widgets/openapi.json").json() for client in clients]  # Connexion copies it (unkept)
    assert served[0] == served[1]
    assert len(list((tmp_path / "cache" / "connexion-spec").iterdir())) == 1
    client = create_app(
        dataclasses.replace(settings, cache_dir=None), vendors={"widgets": widgets.VENDOR}
    ).test_client()
    assert client.get("/widgets/openapi.json").json() == served[0]


@pytest.mark.parametrize("api", ["abillity", "elevate", "revnue", "zoho-desk"])
def test_a_remembered_connexion_specification_is_the_one_connexion_builds(api, tmp_path):
    """Why `_compat.connexion_specifications_remembered` may stand in for Connexion's own build: what it
    keeps and gives back is what `Specification.load` makes of the same document, objects shared alike."""
    from mock_server import _compat
    from mock_server.config import DEFAULT_SPEC_DIR
    from openapi_model import load_yaml_file

    document = load_yaml_file(DEFAULT_SPEC_DIR / f"{api}.yaml")
    own = connexion_spec.Specification.load(document)
    with _compat.connexion_specifications_remembered(tmp_path):
        first, again = (connexion_spec.Specification.load(document) for _ in range(2))
    for remembered in (first, again):
        assert type(remembered) is type(own)
        assert (remembered.raw, remembered.spec) == (own.raw, own.spec)
        assert (remembered.base_path, remembered.security_schemes) == (own.base_path, own.security_schemes)
        assert remembered.with_base_path("/x").spec == own.with_base_path("/x").spec
    assert _shared_nodes(again.spec) == _shared_nodes(own.spec) > 0
    assert len(list((tmp_path / "connexion-spec").iterdir())) == 1  # kept once, read back the second time
    assert again.spec is not first.spec


def _shared_nodes(node: Any, seen: set[int] | None = None) -> int:
    """How many times a dict or list is reached again under `node`."""
    seen = set() if seen is None else seen
    if not isinstance(node, dict | list):
        return 0
    if id(node) in seen:
        return 1
    seen.add(id(node))
    children = node.values() if isinstance(node, dict) else node
    return sum(_shared_nodes(child, seen) for child in children)


def test_startup_fails_clearly_on_broken_fixture(tmp_path):
    (tmp_path / "widgets").mkdir()
    (tmp_path / "widgets" / "seed.yaml").write_text("widgets: [1, 2]\n")
    settings = Settings(spec_dir=widgets.HERE / "openapi", fixtures_dir=tmp_path)
    with pytest.raises(FixtureError, match="collection 'widgets' must map ids to records"):
        create_app(settings, vendors={"widgets": widgets.VENDOR})


def test_startup_fails_clearly_on_missing_handler():
    vendor = widgets.Vendor(name="widgets", title="W", operations={}, render_error=widgets.render_error)
    with pytest.raises(StartupError, match="no handler for operationId 'getWidget'"):
        create_app(widgets.SETTINGS, vendors={"widgets": vendor}).test_client().get(URL)


def _recording_vendor(seen: list[Any]) -> widgets.Vendor:
    """The widgets vendor, recording what its handler receives and every error it is asked to render."""

    def get_widget(ctx, id):
        seen.append(("handler", id))
        return widgets.get_widget(ctx, id)

    def render_error(error):
        seen.append(("error", error))
        return widgets.render_error(error)

    return dataclasses.replace(
        widgets.VENDOR, operations={**widgets.VENDOR.operations, "getWidget": get_widget}, render_error=render_error
    )


def test_handlers_get_path_parameters_coerced_to_their_schema_type():
    seen: list[Any] = []
    client = create_app(widgets.SETTINGS, vendors={"widgets": _recording_vendor(seen)}).test_client()
    assert client.get(URL, headers=AUTH).status_code == 200
    assert seen == [("handler", 1)]


def test_parameter_errors_reach_the_vendor_as_data():
    seen: list[Any] = []
    client = create_app(widgets.SETTINGS, vendors={"widgets": _recording_vendor(seen)}).test_client()
    assert client.get("/widgets/widgets/0", headers=AUTH).status_code == 400
    [(_, too_small)] = seen
    assert [(f.location, f.source, f.code, f.limit, f.value) for f in too_small.fields] == [
        (("id",), "path", "minimum", 1, 0)
    ]


def test_body_errors_reach_the_vendor_as_data():
    seen: list[Any] = []
    client = create_app(widgets.SETTINGS, vendors={"widgets": _recording_vendor(seen)}).test_client()
    body = {"name": "far too long", "size": "3", "colour": "red"}
    assert client.patch(URL, json=body, headers=AUTH).status_code == 400
    [(_, error)] = seen
    assert {(f.dotted, f.code, repr(f.limit), repr(f.value)) for f in error.fields} == {
        ("colour", "unknown", "None", "'red'"),
        ("name", "maxLength", "5", "'far too long'"),
        ("size", "type", "'integer'", "'3'"),
    }


def test_an_unsupported_media_type_names_the_request_media_type():
    seen: list[Any] = []
    client = create_app(widgets.SETTINGS, vendors={"widgets": _recording_vendor(seen)}).test_client()
    response = client.patch(URL, content=b"<a/>", headers={**AUTH, "Content-Type": "application/xml; charset=utf-8"})
    assert response.status_code == 415
    [(_, error)] = seen
    assert (error.kind, error.media_type) == ("unsupported_media_type", "application/xml")


def test_json_schema_validators_are_built_once_per_schema_not_per_request(widgets_client):
    def exchange():
        widgets_client.get(URL, headers=AUTH)
        widgets_client.patch(URL, json={"name": "once"}, headers=AUTH)
        widgets_client.patch(URL, json={"name": "far too long"}, headers=AUTH)

    exchange()
    built = dict(validation._COMPILED)
    exchange()
    exchange()
    assert validation._COMPILED.keys() == built.keys()
    assert all(validation._COMPILED[key][1] is validator for key, (_, validator) in built.items())


def test_responses_are_framed_by_content_length_not_chunked(widgets_client):
    response = widgets_client.get(URL, headers=AUTH)
    assert int(response.headers["content-length"]) == len(response.content)
    assert "transfer-encoding" not in response.headers


def test_admin_requests_reach_the_admin_app_and_other_unrouted_paths_are_404(widgets_client):
    assert widgets_client.get("/__admin").status_code == 200
    response = widgets_client.get("/elsewhere", headers=AUTH)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("returned", "status", "body", "location"),
    [
        ({"id": 1, "name": "a"}, 200, {"id": 1, "name": "a"}, None),
        (
            ({"id": 1, "name": "a"}, 201, {"Location": "/widgets/widgets/1"}),
            201,
            {"id": 1, "name": "a"},
            "/widgets/widgets/1",
        ),
        ((None, 204), 204, None, None),
    ],
)
def test_handlers_may_return_a_body_a_status_and_headers(returned, status, body, location):
    vendor = dataclasses.replace(
        widgets.VENDOR, operations={**widgets.VENDOR.operations, "getWidget": lambda ctx, id: returned}
    )
    settings = dataclasses.replace(widgets.SETTINGS, validate_responses=False)
    response = create_app(settings, vendors={"widgets": vendor}).test_client().get(URL, headers=AUTH)
    assert response.status_code == status
    assert (response.json() if body is not None else response.content) == (body if body is not None else b"")
    assert response.headers.get("location") == location
    assert ("content-type" in response.headers) == (body is not None)
