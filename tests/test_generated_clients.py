"""A client generated from every spec by openapi-python-client works against the real mock.

Each spec is generated once per module, all in parallel, into a temporary folder; each client then
reads a record, updates it with the spec's own example, and sends an invalid update, all through a
real server on 127.0.0.1, and the parsed models are checked. Everything vendor-specific is read from
the spec (operations, parameter examples, body examples, lengths and patterns) or the vendor module
(the Authorization prefix), so a fifth spec is covered without an edit here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import DEFAULT_SPEC_DIR, Settings
from mock_server.vendors import discover
from openapi_model import ApiSpec

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
GENERATOR_VERSION = importlib.metadata.version("openapi-python-client")
SPECS = {path.stem: path for path in sorted(DEFAULT_SPEC_DIR.glob("*.yaml"))}
VENDORS = discover()
GENERATION_TIMEOUT_SECONDS = 120


def package_name(api: str) -> str:
    return "generated_" + re.sub(r"\W", "_", api)


def load_raw(api: str) -> dict[str, Any]:
    return yaml.safe_load(SPECS[api].read_text(encoding="utf-8"))


# --- reading the spec (unresolved, so that schemas keep their component names) ------------------


def deref(raw: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = raw
        for part in node_path(node["$ref"]):
            target = target[part]
        node = target
    return node


def node_path(ref: str) -> list[str]:
    return ref.removeprefix("#/").split("/")


def schema_name(schema: dict[str, Any]) -> str:
    return node_path(schema["$ref"])[-1]


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    spec: dict[str, Any]
    parameters: list[dict[str, Any]]

    @property
    def operation_id(self) -> str:
        return str(self.spec["operationId"])


def operations(raw: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in raw["paths"].items():
        shared = [deref(raw, p) for p in item.get("parameters", [])]
        for method in ("get", "put", "patch", "post", "delete"):
            if method in item:
                own = [deref(raw, p) for p in item[method].get("parameters", [])]
                found.append(Operation(path, method, item[method], shared + own))
    return found


def read_and_update(raw: dict[str, Any]) -> tuple[Operation, Operation]:
    """The read of one record and its update (PATCH, else PUT) on the same path."""
    by_path = {(op.path, op.method): op for op in operations(raw)}
    for (path, method), read in sorted(by_path.items()):
        if method == "get" and "{" in path:
            update = by_path.get((path, "patch")) or by_path.get((path, "put"))
            if update is not None:
                return read, update
    raise AssertionError("the spec has no read and update of one record")


def response_schema(raw: dict[str, Any], operation: Operation, status: str) -> str | None:
    response = deref(raw, operation.spec["responses"][status])
    content = response.get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    return schema_name(schema) if "$ref" in schema else None


def body_example(raw: dict[str, Any], media: dict[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    first = next(iter(media["examples"].values()))
    return deref(raw, first)["value"]


def json_media_type(operation: Operation) -> str:
    return next(ct for ct in operation.spec["requestBody"]["content"] if ct.endswith("json"))


def invalid_variant(raw: dict[str, Any], schema: dict[str, Any], example: Any) -> Any:
    """The example with one string member broken: one character over its maxLength, else against its pattern."""
    schema = deref(raw, schema)
    if schema.get("type") == "array":
        return [invalid_variant(raw, schema["items"], example[0]), *example[1:]]
    members = {name: deref(raw, member) for name, member in schema.get("properties", {}).items()}
    for name, member in members.items():
        if member.get("type") == "string" and "maxLength" in member:
            return {**example, name: "x" * (member["maxLength"] + 1)}
    for name, member in members.items():
        if member.get("type") == "string" and "pattern" in member and not re.search(member["pattern"], "x"):
            return {**example, name: "x"}
    raise AssertionError("no string member with a maxLength or a pattern to break")


# --- the generated client ------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedClient:
    api: str
    package: str
    raw: dict[str, Any]

    def module(self, operation: Operation) -> ModuleType:
        api_package = importlib.import_module(f"{self.package}.api")
        wanted = operation.operation_id.lower()
        for info in pkgutil.walk_packages(api_package.__path__, f"{self.package}.api."):
            if info.name.rsplit(".", 1)[-1].replace("_", "") == wanted:
                return importlib.import_module(info.name)
        raise AssertionError(f"no generated module for {operation.operation_id}")

    def model(self, name: str) -> type:
        models = importlib.import_module(f"{self.package}.models")
        wanted = re.sub(r"\W", "", name).lower()
        for attribute in dir(models):
            if attribute.lower() == wanted:
                return getattr(models, attribute)  # type: ignore[no-any-return]
        raise AssertionError(f"no generated model for schema {name}")

    def body(self, schema: dict[str, Any], value: Any) -> Any:
        name = schema_name(schema)
        resolved = deref(self.raw, schema)
        if resolved.get("type") == "array":
            item = self.model(schema_name(resolved["items"]))
            return [item.from_dict(element) for element in value]  # type: ignore[attr-defined]
        return self.model(name).from_dict(value)  # type: ignore[attr-defined]

    def client(self, base_url: str, hooks: list[Any] | None = None) -> Any:
        client_module = importlib.import_module(f"{self.package}.client")
        return client_module.AuthenticatedClient(
            base_url=f"{base_url}/{self.api}",
            token=f"dev-token.{uuid.uuid4().hex[:12]}",
            prefix=ApiSpec(self.raw).auth_prefix,
            raise_on_unexpected_status=False,
            httpx_args={"event_hooks": {"request": hooks or []}},
        )

    def call(self, client: Any, operation: Operation, **extra: Any) -> Any:
        function = self.module(operation).sync_detailed
        arguments = dict(extra)
        names = {name.replace("_", "").lower(): name for name in _signature_names(function)}
        for parameter in operation.parameters:
            if not parameter.get("required"):
                continue
            value = parameter.get("example", parameter.get("schema", {}).get("example"))
            arguments[names[parameter["name"].replace("_", "").lower()]] = value
        return function(client=client, **arguments)


def _signature_names(function: Any) -> list[str]:
    import inspect

    return list(inspect.signature(function).parameters)


def _generate(api: str, root: Path) -> subprocess.CompletedProcess[str]:
    package = package_name(api)
    config = root / f"{package}.config.yaml"
    config.write_text(
        yaml.safe_dump({"project_name_override": package, "package_name_override": package, "post_hooks": []})
    )
    command = [str(GENERATOR), "generate", "--path", str(SPECS[api]), "--output-path", str(root / package)]
    command += ["--meta", "none", "--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, timeout=GENERATION_TIMEOUT_SECONDS, check=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, GeneratedClient]]:
    root = tmp_path_factory.mktemp("generated_clients")
    with ThreadPoolExecutor(max_workers=len(SPECS)) as pool:
        results = dict(zip(SPECS, pool.map(lambda api: _generate(api, root), SPECS), strict=True))
    failed = {api: r.stdout + r.stderr for api, r in results.items() if r.returncode != 0}
    assert failed == {}
    sys.path.insert(0, str(root))
    try:
        yield {api: GeneratedClient(api, package_name(api), load_raw(api)) for api in SPECS}
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("generated_")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(create_app(Settings(validate_responses=True))) as url:
        yield url


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", SPECS)
def test_every_generated_module_imports(generated, api):
    package = importlib.import_module(generated[api].package)
    imported = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, f"{generated[api].package}.")
    ]
    assert any(module.__name__.endswith(".models") for module in imported)


@pytest.mark.parametrize("api", SPECS)
def test_read_update_and_invalid_update_through_the_generated_client(generated, base_url, api):
    client_of = generated[api]
    raw = client_of.raw
    read, update = read_and_update(raw)
    client = client_of.client(base_url)

    before = client_of.call(client, read)
    assert before.status_code == 200, before.content
    view = client_of.model(response_schema(raw, read, "200") or "")
    assert isinstance(before.parsed, view)
    assert before.parsed.additional_properties == {}, "members the generated model does not know"

    media_type = json_media_type(update)
    media = update.spec["requestBody"]["content"][media_type]
    example = body_example(raw, media)
    updated = client_of.call(client, update, body=client_of.body(media["schema"], example))
    assert updated.status_code == 200, updated.content
    assert isinstance(updated.parsed, client_of.model(response_schema(raw, update, "200") or ""))
    assert_sent_values_shown(example, updated.parsed.to_dict())
    after = client_of.call(client, read)
    assert after.parsed.to_dict() == updated.parsed.to_dict()

    broken = invalid_variant(raw, media["schema"], example)
    rejected = client_of.call(client, update, body=client_of.body(media["schema"], broken))
    assert 400 <= rejected.status_code < 500 and str(rejected.status_code) in update.spec["responses"]
    error_models = importlib.import_module(f"{client_of.package}.models")
    assert type(rejected.parsed).__module__.startswith(error_models.__name__), rejected.content
    assert client_of.call(client, read).parsed.to_dict() == updated.parsed.to_dict()


def assert_sent_values_shown(sent: Any, shown: dict[str, Any]) -> None:
    """Text members of an object body read back as sent; `replace` operations of a JSON Patch too."""
    if isinstance(sent, list):
        changes = {op["path"].lstrip("/"): op["value"] for op in sent if op.get("op") == "replace"}
    else:
        changes = {name: value for name, value in sent.items() if isinstance(value, str)}
    compared = {name: shown.get(name) for name in changes if name in shown}
    assert compared == {name: changes[name] for name in compared}
    assert compared, "nothing sent could be compared"


def content_types() -> list[tuple[str, str]]:
    found = []
    for api in SPECS:
        _, update = read_and_update(load_raw(api))
        found += [(api, content_type) for content_type in update.spec["requestBody"]["content"]]
    return found


@pytest.mark.parametrize("api, content_type", content_types())
def test_the_generated_client_sends_every_documented_content_type(generated, base_url, api, content_type):
    client_of = generated[api]
    _, update = read_and_update(client_of.raw)
    media = update.spec["requestBody"]["content"][content_type]
    sent: list[str] = []
    client = client_of.client(base_url, hooks=[lambda request: sent.append(request.headers["Content-Type"])])
    response = client_of.call(client, update, body=client_of.body(media["schema"], body_example(client_of.raw, media)))
    if sent != [content_type]:
        pytest.xfail(
            f"openapi-python-client {GENERATOR_VERSION} writes no code for {content_type} request bodies "
            f"(it skips them as an unsupported content type), so the client sends {sent} instead"
        )
    assert response.status_code == 200, response.content
