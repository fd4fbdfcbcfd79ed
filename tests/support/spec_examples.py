"""Requests built from a spec's own examples, so tests reach every API without naming one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mock_server.engine.spec import SpecView
from mock_server.vendors.base import Vendor


@dataclass(frozen=True)
class ExampleRequest:
    method: str
    path: str  # below the mock's root, e.g. /<api>/<vendor path with the example ids>
    headers: dict[str, str]  # the example header parameters (an organisation header, …)
    content_type: str | None
    body: Any  # the first example of the first request content type
    auth_prefix: str  # the word before the token (the spec's x-auth-prefix)

    def with_token(self, vendor: Vendor, token: str) -> dict[str, str]:
        headers = {**self.headers, "Authorization": f"{self.auth_prefix} {token}"}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        return headers

    @property
    def content(self) -> bytes | None:
        return None if self.body is None else json.dumps(self.body).encode()


def update_operation(spec: SpecView) -> tuple[str, str, dict[str, Any]]:
    """(path, method, operation) of the update: the first PATCH, else the first PUT."""
    for wanted in ("PATCH", "PUT"):
        for operation in spec.operations:
            if operation.method == wanted:
                return operation.path, wanted.lower(), dict(operation.definition)
    raise LookupError("the spec has no PATCH or PUT operation")


def example_request(
    spec: SpecView, vendor: Vendor, method: str, vendor_path: str, example_key: str | None = None
) -> ExampleRequest:
    item = spec.resolved["paths"][vendor_path]
    operation = item[method]
    path, headers = vendor_path, {}
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        value = parameter.get("example", parameter.get("schema", {}).get("example"))
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "header" and parameter.get("required"):
            headers[parameter["name"]] = str(value)
    content_type, body = None, None
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        # a JSON body where the operation takes one: what Swagger UI fills in from the examples
        content_type = next((ct for ct in content if "json" in ct), next(iter(content)))
        media = content[content_type]
        if "example" in media:
            body = media["example"]
        else:
            body = media["examples"][example_key or next(iter(media["examples"]))]["value"]
    return ExampleRequest(method.upper(), vendor.prefix + path, headers, content_type, body, spec.auth_prefix)


def example_update(spec: SpecView, vendor: Vendor, example_key: str | None = None) -> ExampleRequest:
    path, method, _ = update_operation(spec)
    return example_request(spec, vendor, method, path, example_key)


def update_example_keys(spec: SpecView) -> list[str]:
    """The named examples of the update's first request content type (empty for a single `example`)."""
    _, _, operation = update_operation(spec)
    content = operation["requestBody"]["content"]
    media = content[next((ct for ct in content if "json" in ct), next(iter(content)))]
    return list(media.get("examples", {}))


def example_read(spec: SpecView, vendor: Vendor) -> ExampleRequest:
    """The GET of the record the example update changes."""
    path, _, _ = update_operation(spec)
    return example_request(spec, vendor, "get", path)
