"""Every spec is a valid OpenAPI 3.0 document whose examples validate against their schemas."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.spec import SpecView
from mock_server.vendors import discover

SPECS = sorted(DEFAULT_SPEC_DIR.glob("*.yaml"))
VENDORS = discover()


def spec_id(path: Path) -> str:
    return path.stem


def examples_in(node: Any, where: str = "") -> list[tuple[str, dict, Any]]:
    """(location, schema, example) for every example in a resolved spec."""
    found = []
    if isinstance(node, dict):
        schema = node.get("schema")
        if isinstance(schema, dict):
            if "example" in node:
                found.append((where, schema, node["example"]))
            for name, example in (node.get("examples") or {}).items():
                if "value" in example:
                    found.append((f"{where}/examples/{name}", schema, example["value"]))
        if "example" in node and node.get("type") and "schema" not in node:
            found.append((where, node, node["example"]))
        for key, child in node.items():
            found.extend(examples_in(child, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(examples_in(child, f"{where}/{index}"))
    return found


def test_there_is_a_spec_for_every_vendor_module():
    assert sorted(p.stem for p in SPECS) == sorted(VENDORS)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_spec_is_valid_openapi_3_0(path):
    document = yaml.safe_load(path.read_text())
    assert document["openapi"].startswith("3.0.")
    validate(document)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_example_validates_against_its_schema(path):
    resolved = SpecView.load(path).resolved
    examples = examples_in(resolved.get("paths", {}), "paths") + examples_in(
        resolved.get("components", {}), "components"
    )
    assert examples, "the spec has no examples"
    problems = [
        f"{where}: {error.message}"
        for where, schema, example in examples
        for error in OAS30Validator(schema).iter_errors(example)
    ]
    assert problems == []


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_servers_list_the_vendor_then_the_local_mock(path):
    servers = [server["url"] for server in yaml.safe_load(path.read_text())["servers"]]
    assert servers[0].startswith("https://")
    assert f"http://127.0.0.1:8080/{path.stem}" in servers


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_operation_has_a_handler_and_declares_its_auth_and_404(path):
    spec = SpecView.load(path)
    for route, method, operation in spec.operations():
        assert operation["operationId"] in VENDORS[path.stem].operations, (route, method)
        assert "401" in operation["responses"], (route, method)
        if "{" in route:  # an operation on one record: that record may not exist
            assert "404" in operation["responses"], (route, method)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_update_links_to_the_read_of_the_same_resource(path):
    spec = SpecView.load(path)
    reads = {op["operationId"] for _, method, op in spec.operations() if method == "get"}
    for route, method, operation in spec.operations():
        if method in ("patch", "put"):
            links = operation["responses"]["200"].get("links", {})
            assert any(link.get("operationId") in reads for link in links.values()), (route, method)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_create_links_to_the_read_update_and_delete_of_the_new_record(path):
    """So that Schemathesis' stateful phase can walk whole lifecycles."""
    spec = SpecView.load(path)
    operations = list(spec.operations())
    for route, method, operation in operations:
        if method != "post":
            continue
        record_routes = {r for r, _, _ in operations if r.startswith(route.rstrip("/") + "/{")}
        success = next(response for status, response in operation["responses"].items() if status.startswith("2"))
        linked = {link["operationId"] for link in success.get("links", {}).values()}
        for kinds in (("get",), ("patch", "put"), ("delete",)):
            targets = {op["operationId"] for r, m, op in operations if r in record_routes and m in kinds}
            assert not targets or linked & targets, (route, kinds)
