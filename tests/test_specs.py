"""Every spec is a valid OpenAPI 3.0 document whose examples validate against their schemas."""

import re
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.engine.spec import SpecView
from mock_server.vendors import discover
from openapi_model import examples

SPECS = sorted(DEFAULT_SPEC_DIR.glob("*.yaml"))
VENDORS = discover()


def spec_id(path: Path) -> str:
    return path.stem


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
    found = [
        *examples(resolved.get("paths", {}), "paths"),
        *examples(resolved.get("components", {}), "components"),
    ]
    assert found, "the spec has no examples"
    problems = [
        f"{where}: {error.message}"
        for where, schema, example in found
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
    vendor = VENDORS[path.stem]
    served_at_the_edge = {vendor.login.operation_id} if vendor.login else set()  # edge.oauth.LoginEndpoint
    for operation in spec.operations:
        assert operation.operation_id in {*vendor.operations, *served_at_the_edge}, operation.label
        assert "401" in operation.definition["responses"], operation.label
        if "{" in operation.path:  # an operation on one record: that record may not exist
            assert "404" in operation.definition["responses"], operation.label


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_update_links_to_the_read_of_the_same_resource(path):
    spec = SpecView.load(path)
    reads = {op.operation_id for op in spec.operations if op.method == "GET"}
    for operation in spec.operations:
        if operation.method in ("PATCH", "PUT"):
            links = operation.definition["responses"]["200"].get("links", {})
            assert any(link.get("operationId") in reads for link in links.values()), operation.label


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_create_links_to_the_read_update_and_delete_of_the_new_record(path):
    """So that Schemathesis' stateful phase can walk whole lifecycles."""
    spec = SpecView.load(path)
    for create in spec.operations:
        if create.method != "POST":
            continue
        record_paths = {op.path for op in spec.operations if op.path.startswith(create.path.rstrip("/") + "/{")}
        responses = create.definition["responses"]
        success = next(response for status, response in responses.items() if status.startswith("2"))
        linked = {link["operationId"] for link in success.get("links", {}).values()}
        for kinds in (("GET",), ("PATCH", "PUT"), ("DELETE",)):
            targets = {op.operation_id for op in spec.operations if op.path in record_paths and op.method in kinds}
            assert not targets or linked & targets, (create.label, kinds)


def _patterns(node, where=""):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield where, node["pattern"]
        for key, child in node.items():
            yield from _patterns(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _patterns(child, f"{where}/{index}")


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_patterns_use_ascii_classes_only(path):
    """`\\d`, `\\w` and `\\s` match any Unicode digit, letter or space in Python's `re` (jsonschema's):
    a generator then produces values such as Arabic-Indic dates that `format: date` refuses, so
    Schemathesis gives up with "Cannot generate test data" (issue 21). Write `[0-9]` instead."""
    found = [
        (where, pattern)
        for where, pattern in _patterns(yaml.safe_load(path.read_text()))
        if re.search(r"\\[dwsDWS]", pattern)
    ]
    assert found == []
