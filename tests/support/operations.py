"""Every operation of every discovered API, from the specs: for tests that must not name vendors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from mock_server.config import Settings
from mock_server.engine.spec import SpecView
from mock_server.state.fixtures import load_fixtures
from mock_server.vendors import discover
from mock_server.vendors.base import Vendor
from vendor_facts import resources

VENDORS = discover()
_tokens = itertools.count()


@dataclass(frozen=True)
class Operation:
    vendor: Vendor
    method: str
    path: str  # concrete: the spec's template with each path parameter's example
    media_types: tuple[str, ...]
    schema: dict[str, Any]  # the JSON body's schema (or the form's)
    org: str | None
    examples: tuple[Any, ...] = ()  # the spec's request examples (JSON media types first)
    template: str = ""
    auth_prefix: str = "Bearer"  # the spec's word before the token (x-auth-prefix)

    def with_token(self, token: str, media_type: str | None = None) -> dict[str, str]:
        headers = self.headers(media_type)
        headers["Authorization"] = f"{self.auth_prefix} {token}"
        return headers

    def headers(self, media_type: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"{self.auth_prefix} dev-token.hostile-{next(_tokens)}"}
        if self.vendor.org_header and self.org:
            headers[self.vendor.org_header] = self.org
        if media_type:
            headers["Content-Type"] = media_type
        return headers

    @property
    def url(self) -> str:
        return self.vendor.prefix + self.path

    def __str__(self) -> str:
        return f"{self.vendor.name} {self.method.upper()} {self.path}"


def operations() -> list[Operation]:
    found = []
    for name, vendor in VENDORS.items():
        spec = SpecView.load(Settings().spec_dir / f"{name}.yaml")
        grant = load_fixtures(vendor, resources.fixtures_dir()).tokens.lookup("dev-token")
        org = sorted(grant.orgs)[0] if grant and grant.orgs else None
        for op in spec.operations:
            template, method, operation = op.path, op.method.lower(), op.definition
            path = template
            query = []
            for parameter in op.parameters:
                example = parameter.get("example", parameter.get("schema", {}).get("example", 1))
                if parameter["in"] == "path":
                    path = path.replace("{" + parameter["name"] + "}", str(example))
                elif parameter["in"] == "query" and parameter.get("required"):
                    query.append(f"{parameter['name']}={example}")
            if query:
                path += "?" + "&".join(query)
            content = operation.get("requestBody", {}).get("content", {})
            schema = next(iter(content.values()), {}).get("schema", {}) if content else {}
            found.append(
                Operation(
                    vendor, method, path, tuple(content), schema, org, _examples(content), template, spec.auth_prefix
                )
            )
    return found


def _examples(content: dict[str, Any]) -> tuple[Any, ...]:
    found = []
    for media_type, media in sorted(content.items(), key=lambda item: "json" not in item[0]):
        if "json" not in media_type:
            continue
        if "example" in media:
            found.append(media["example"])
        found += [example["value"] for example in media.get("examples", {}).values() if "value" in example]
    return tuple(found)
