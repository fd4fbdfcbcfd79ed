"""The request mix of one API — reads, valid updates, invalid updates — built from its spec and fixtures.

Nothing here names a vendor, so a fifth API is benchmarked without edits:
- the read is the spec's first GET on a path with parameters; the update is the PATCH (else PUT)
  on that path;
- valid update bodies are that operation's JSON request examples, kept if the mock accepts them
  twice in a row on the chosen record (a rule may refuse an example for a given record);
- the invalid update is the first example with every scalar replaced by a value of another JSON type;
- path parameters take the first candidate (the parameter's example, then each value of
  fixtures/<api>/target.yaml) for which the mock answers the read and a valid update with 2xx;
  other required parameters take the target variable of the same name, else their example.
The calls go out in the order read, update, read, update, invalid (40 % / 40 % / 20 %).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import yaml

from mock_server.vendors.base import Vendor
from openapi_model import ApiSpec, Operation

BASE_TOKEN = "dev-token"  # valid on every API with every scope (docs/ARCHITECTURE.md)
MAX_CANDIDATE_COMBINATIONS = 50


class MixError(Exception):
    """No request mix can be built for this API (no read/update operation, no usable record)."""


@dataclass(frozen=True)
class Call:
    kind: str  # "read", "valid update" or "invalid update"
    method: str
    path: str  # parameters filled in, without any mount prefix
    headers: tuple[tuple[str, str], ...]
    media_type: str | None
    body: bytes
    expect: int  # the status class a correct server answers: 2 (2xx) or 4 (4xx)


@dataclass(frozen=True)
class Target:
    """How one server is addressed: its mount prefix and the word before the token."""

    host: str
    port: int
    prefix: str
    auth_scheme: str


@dataclass(frozen=True)
class Mix:
    api: str
    calls: tuple[Call, ...]
    path_values: dict[str, str]

    def raw_requests(self, target: Target, token: str) -> list[dict[str, Any]]:
        return [
            {"kind": call.kind, "raw": raw_request(call, target, token), "expect": call.expect} for call in self.calls
        ]


def raw_request(call: Call, target: Target, token: str) -> str:
    lines = [
        f"{call.method} {target.prefix}{call.path} HTTP/1.1",
        f"Host: {target.host}:{target.port}",
        f"Authorization: {target.auth_scheme} {token}",
        *(f"{name}: {value}" for name, value in call.headers),
    ]
    if call.media_type is not None:
        lines += [f"Content-Type: {call.media_type}", f"Content-Length: {len(call.body)}"]
    return "\r\n".join(lines) + "\r\n\r\n" + call.body.decode("latin-1")


def read_and_update(spec: ApiSpec) -> tuple[Operation, Operation]:
    for read in (op for op in spec.operations if op.method == "GET" and op.path_parameters):
        for method in ("PATCH", "PUT"):
            update = next((op for op in spec.operations if op.path == read.path and op.method == method), None)
            if update is not None and json_examples(update)[1]:
                return read, update
    raise MixError("no GET on a path with parameters that also has a PATCH or PUT with a JSON request example")


def auth_scheme(api: str, spec_dir: Path) -> str:
    """The word before the token in `Authorization` on `api`, from its spec."""
    return ApiSpec.load(spec_dir / f"{api}.yaml").auth_prefix


def json_examples(update: Operation) -> tuple[str, list[Any]]:
    """The first JSON media type of the request body that has examples, and their values."""
    for media_type, content in update.request_body.get("content", {}).items():
        if "json" not in media_type:
            continue
        if "example" in content:
            return media_type, [content["example"]]
        values = [example["value"] for example in content.get("examples", {}).values() if "value" in example]
        if values:
            return media_type, values
    return "", []


def with_wrong_types(value: Any) -> Any:
    """The same structure with every scalar of another JSON type: invalid against any typed schema."""
    if isinstance(value, dict):
        return {key: with_wrong_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_wrong_types(item) for item in value]
    if isinstance(value, bool):
        return "not-a-boolean"
    if isinstance(value, (int, float)):
        return "not-a-number"
    if isinstance(value, str):
        return 12345
    return value


def parameter_value(parameter: Mapping[str, Any], variables: Mapping[str, Any]) -> str | None:
    for value in (
        variables.get(parameter["name"]),
        parameter.get("example"),
        parameter.get("schema", {}).get("example"),
        parameter.get("schema", {}).get("default"),
    ):
        if value is not None:
            return str(value)
    return None


def path_candidates(parameter: Mapping[str, Any], variables: Mapping[str, Any]) -> list[str]:
    values = [parameter.get("example"), *variables.values()]
    scalars = [str(v) for v in values if isinstance(v, (str, int)) and not isinstance(v, bool)]
    return list(dict.fromkeys(scalars))


def org_of(auth_fixture: Mapping[str, Any]) -> str | None:
    for entry in auth_fixture.get("tokens", []):
        if entry.get("token") == BASE_TOKEN and entry.get("orgs"):
            return str(entry["orgs"][0])
    return None


def fill_path(template: str, values: Mapping[str, str]) -> str:
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


class MixBuilder:
    """Builds one API's mix, choosing records by asking the running mock."""

    def __init__(self, vendor: Vendor, spec_dir: Path, fixtures_dir: Path) -> None:
        self.vendor = vendor
        self.spec = ApiSpec.load(spec_dir / f"{vendor.name}.yaml")
        fixtures = fixtures_dir / vendor.name
        self.variables: dict[str, Any] = _yaml(fixtures / "target.yaml").get("variables", {})
        self.org = org_of(_yaml(fixtures / "auth.yaml"))

    def build(self, mock: Target) -> Mix:
        read, update = read_and_update(self.spec)
        media_type, examples = json_examples(update)
        path_parameters = [p for p in read.parameters if p["in"] == "path"]
        combinations = itertools.product(*(path_candidates(p, self.variables) for p in path_parameters))
        with httpx.Client(base_url=f"http://{mock.host}:{mock.port}", timeout=10) as client:
            for combination in itertools.islice(combinations, MAX_CANDIDATE_COMBINATIONS):
                values = dict(zip((p["name"] for p in path_parameters), combination, strict=True))
                read_call = self._call("read", read, values, None, None, 2)
                if not _accepted(client, mock, read_call):
                    continue
                updates = [self._call("valid update", update, values, media_type, body, 2) for body in examples]
                # Twice: an example may be accepted once and then refused by a rule (e.g. a state change).
                accepted = [call for call in updates if _accepted(client, mock, call) and _accepted(client, mock, call)]
                if accepted:
                    wrong = with_wrong_types(examples[0])
                    invalid = self._call("invalid update", update, values, media_type, wrong, 4)
                    return Mix(self.vendor.name, _interleave(read_call, accepted, invalid), values)
        raise MixError("the mock accepted no candidate record for the read and a valid update")

    def _call(
        self,
        kind: str,
        operation: Operation,
        path_values: Mapping[str, str],
        media_type: str | None,
        body: Any,
        expect: int,
    ) -> Call:
        query: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        for parameter in operation.parameters:
            if parameter["in"] == "path" or not parameter.get("required"):
                continue
            value = self._org_or(parameter, parameter_value(parameter, self.variables))
            if value is None:
                continue
            if parameter["in"] == "query":
                query[parameter["name"]] = value
            elif parameter["in"] == "header":
                headers.append((parameter["name"], value))
        if self.vendor.org_header and self.org and self.vendor.org_header not in dict(headers):
            headers.append((self.vendor.org_header, self.org))
        path = fill_path(operation.path, path_values) + (f"?{urlencode(query)}" if query else "")
        encoded = b"" if body is None else json.dumps(body).encode()
        return Call(kind, operation.method, path, tuple(headers), media_type, encoded, expect)

    def _org_or(self, parameter: Mapping[str, Any], value: str | None) -> str | None:
        is_org_header = parameter["in"] == "header" and parameter["name"] == self.vendor.org_header
        return self.org if is_org_header and self.org else value


def _interleave(read: Call, updates: list[Call], invalid: Call) -> tuple[Call, ...]:
    return tuple(call for update in updates for call in (read, update, read, update, invalid))


def _accepted(client: httpx.Client, mock: Target, call: Call) -> bool:
    headers = {"Authorization": f"{mock.auth_scheme} {BASE_TOKEN}.bench-calibration", **dict(call.headers)}
    if call.media_type is not None:
        headers["Content-Type"] = call.media_type
    response = client.request(call.method, mock.prefix + call.path, content=call.body or None, headers=headers)
    return response.is_success


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) if path.exists() else {}
