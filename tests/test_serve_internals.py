"""The library internals the serve path relies on (`mock_server/_compat.py`): still there, still right.

- uvicorn's protocol with the coalescing transport writes each response in one write, and every
  response arrives whole, keep-alive and pipelined;
- validators that keep each subschema's validator report exactly what jsonschema's own report, on every
  schema of every spec, for valid and invalid instances.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, ClassVar

import httpx
import pytest
from jsonschema.validators import extend

from launcher.servers import serving
from mock_server import _compat
from mock_server.config import DEFAULT_FIXTURES_DIR, DEFAULT_SPEC_DIR
from mock_server.engine.spec import (
    FORMAT_CHECKER,
    _decimal_request_validator,
    _kept_request_validator,
    request_validator,
)
from mock_server.state.fixtures import load_fixtures
from mock_server.vendors import discover
from openapi_model import ApiSpec, violations

CONTRACT = "/elevate/customer-contracts/1"
HEADERS = {"Authorization": "Bearer dev-token.internals"}


class _CountingTransport:
    """The server's real transport, counting the writes that reach it."""

    def __init__(self, transport: asyncio.Transport, writes: list[bytes]) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _CountingProtocol(_compat.CoalescingHttpToolsProtocol):
    writes: ClassVar[list[bytes]] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CountingTransport(transport, self.writes))  # type: ignore[arg-type]


def test_the_serve_path_uses_the_coalescing_protocol_on_this_uvicorn() -> None:
    version = __import__("uvicorn").__version__
    assert _compat.http_protocol() is _compat.CoalescingHttpToolsProtocol, (
        f"uvicorn {version} is outside {_compat.CHECKED_UVICORN}: check mock_server/_compat.py"
    )


def test_each_response_is_one_write_and_arrives_whole(mock_app: Any) -> None:
    _CountingProtocol.writes.clear()
    with serving(mock_app, http=_CountingProtocol) as base_url, httpx.Client(base_url=base_url) as client:
        bodies = [client.get(CONTRACT, headers=HEADERS) for _ in range(5)]
        bodies.append(client.patch(CONTRACT, headers=HEADERS, json={"not": "a patch"}))
    assert [response.status_code for response in bodies][:5] == [200] * 5 and bodies[-1].status_code >= 400
    assert len(_CountingProtocol.writes) == len(bodies)
    for write, response in zip(_CountingProtocol.writes, bodies, strict=True):
        head, _, body = write.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {response.status_code}".encode()) and body == response.content


def test_pipelined_and_closing_requests_get_whole_responses(mock_app: Any) -> None:
    request = f"GET {CONTRACT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-token.internals\r\n\r\n".encode()
    closing = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    with serving(mock_app, http=_compat.http_protocol()) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request + request + closing)
            received = b""
            while chunk := sock.recv(65536):  # the server closes after the third response
                received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 3 and received.endswith(b"}")


def test_a_streamed_file_arrives_whole(mock_app: Any) -> None:
    with serving(mock_app, http=_compat.http_protocol()) as base_url, httpx.Client(base_url=base_url) as client:
        bundle = client.get("/zoho-desk/ui/swagger-ui-bundle.js")
        assert client.get(CONTRACT, headers=HEADERS).status_code == 200  # the connection is still usable
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    assert len(bundle.content) == int(bundle.headers["content-length"])


def _schemas(spec: ApiSpec) -> list[dict[str, Any]]:
    schemas = [spec.schema(name) for name in spec.raw.get("components", {}).get("schemas", {})]
    for operation in spec.operations:
        for content in operation.request_body.get("content", {}).values():
            if "schema" in content:
                schemas.append(content["schema"])
    return schemas


def _instances(spec: ApiSpec, seed: Any) -> list[Any]:
    from mix import with_wrong_types  # bench/mix.py: every scalar of another JSON type

    examples: list[Any] = []
    for operation in spec.operations:
        for content in operation.request_body.get("content", {}).values():
            examples += [content["example"]] if "example" in content else []
            examples += [e["value"] for e in content.get("examples", {}).values() if "value" in e]
    records = [record for rows in seed.values() for record in list(rows.values())[:3]]
    found = [*examples, *records]
    return [*found, *(with_wrong_types(value) for value in found), {}, [], None, "text", 7, {"id": None}]


def _report(validator: Any, instance: Any) -> list[tuple[Any, ...]]:
    return [
        (v.location, v.keyword, v.message, repr(v.limit), repr(v.value))
        for v in violations(validator.iter_errors(instance))
    ]


@pytest.mark.parametrize("api", sorted(discover()))
def test_kept_validators_report_what_jsonschema_reports(api: str) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    spec = ApiSpec.load(DEFAULT_SPEC_DIR / f"{api}.yaml")
    seed = load_fixtures(discover()[api], DEFAULT_FIXTURES_DIR).seed
    plain = extend(_decimal_request_validator(), {})
    schemas, instances = _schemas(spec), _instances(spec, seed)
    kept_count = 0
    for schema in schemas:
        kept = request_validator(schema)
        kept_count += type(kept) is _kept_request_validator()
        library = plain(schema, format_checker=FORMAT_CHECKER)
        for instance in instances:
            assert _report(kept, instance) == _report(library, instance), (schema.get("title"), instance)
    assert kept_count == len(schemas), "every schema of the specs can keep its validators"


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
