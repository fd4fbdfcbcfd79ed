"""Upstreams that depart from the documented behaviour in one way each: the mock behind a rewriting middleware.

Each departure is built for any API from its spec and vendor module alone, so a new vendor is
covered without an edit here. The calls made through them (`calls`) are the same for every API: for
each resource, a read, the spec's example write, and the example write to an unknown id.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from rich.console import Console

from conformance.apis import Api, discover
from conformance.exchange_checks import sent_values
from conformance.exchange_spec import contract_for
from conformance.proxy import ProxySettings, create_proxy
from conformance.target import resolve_target
from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import Settings
from tests.conformance.variants import ASGIApp, Message, Receive, Scope, Send

MISSING_ID = "999999999"
# (method, JSON sent or None, status, JSON answered) -> (status, JSON to answer)
Change = Callable[[str, Any, int, Any], tuple[int, Any]]


def mock(api: Api) -> ASGIApp:
    """The mock serving `api`, on the system clock (so that a recording's Date header is its today)."""
    return create_app(Settings(apis=(api.name,), today=None))  # type: ignore[return-value]


class Rewrite:
    """ASGI middleware that lets `change` rewrite each JSON answer, knowing the JSON request it answers."""

    def __init__(self, app: ASGIApp, change: Change) -> None:
        self.app = app
        self.change = change

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self.app(scope, receive, send)
            return
        request_chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            request_chunks.append(message.get("body", b""))
            return message

        start: Message = {}
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, body = self._rewritten(scope["method"], b"".join(request_chunks), start["status"], b"".join(chunks))
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, recording_receive, buffered)

    def _rewritten(self, method: str, sent: bytes, status: int, body: bytes) -> tuple[int, bytes]:
        try:
            answered = json.loads(body)
        except ValueError:
            return status, body
        try:
            request = json.loads(sent) if sent else None
        except ValueError:
            request = None
        new_status, new_body = self.change(method, request, status, answered)
        return new_status, json.dumps(new_body).encode()


@dataclass(frozen=True)
class Departure:
    id: str
    proxy_rules: frozenset[str]  # what the proxy must flag
    drift_rules: frozenset[str]  # what drift must report
    change: Callable[[Api], Change]
    applies: Callable[[Api], bool] = lambda api: True

    @property
    def slug(self) -> str:
        return self.id.replace(" ", "-")


class Departing:
    """The mock of one API behind every departure at once: `/<departure slug>/<api>/...` departs that way,
    `/as-documented/<api>/...` does not. One server per API serves every case."""

    def __init__(self, api: Api) -> None:
        app = mock(api)
        self.apps: dict[str, ASGIApp] = {AS_DOCUMENTED: app}
        for departure in DEPARTURES:
            if departure.applies(api):
                self.apps[departure.slug] = Rewrite(app, departure.change(api))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.apps[AS_DOCUMENTED](scope, receive, send)
            return
        slug, _, rest = scope["path"].lstrip("/").partition("/")
        if slug not in self.apps:  # e.g. drift asking this upstream for /__admin: it has none
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        scope = {**scope, "path": "/" + rest, "raw_path": raw_path[len(slug) + 1 :]}
        await self.apps[slug](scope, receive, send)


AS_DOCUMENTED = "as-documented"


def _is_write(method: str) -> bool:
    return method in ("POST", "PUT", "PATCH")


def wrong_type(api: Api) -> Change:
    """A successful write answers a member the schema types as a string with a number."""
    schema = contract_for(api).resource_schema(next(iter(contract_for(api).vendor.resources.values())))  # type: ignore[union-attr]
    strings = [name for name, member in schema.get("properties", {}).items() if member.get("type") == "string"]

    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if _is_write(method) and status == 200 and isinstance(body, dict):
            name = next(name for name in strings if isinstance(body.get(name), str))
            body = {**body, name: 12345}
        return status, body

    return change


def unknown_error_shape(api: Api) -> Change:
    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        return status, ({"oops": "something failed"} if status >= 400 else body)

    return change


def not_found_as_ok(api: Api) -> Change:
    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        return (200, {}) if status == 404 else (status, body)

    return change


def wrong_derived(api: Api) -> Change:
    derived = {name for resource in contract_for(api).vendor.resources.values() for name in resource.derived}  # type: ignore[union-attr]

    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict):
            body = {**body, **{name: "1999-01-01" for name in derived if name in body}}
        return status, body

    return change


def has_derived(api: Api) -> bool:
    vendor = contract_for(api).vendor
    return vendor is not None and any(resource.derived for resource in vendor.resources.values())


def not_echoed(api: Api) -> Change:
    """A successful write answers other values than those it was sent."""

    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if _is_write(method) and status == 200 and isinstance(body, dict):
            body = json.loads(json.dumps(body))
            for pointer, value in sent_values(sent):
                name = pointer.lstrip("/")
                if name in body and isinstance(value, str | int) and not isinstance(value, bool):
                    body[name] = value + " (not saved)" if isinstance(value, str) else value + 1
        return status, body

    return change


def _record_schema(api: Api) -> tuple[str, dict[str, Any]]:
    contract = contract_for(api)
    resource = next(iter(contract.vendor.resources.values()))  # type: ignore[union-attr]
    return resource.id_member, contract.resource_schema(resource)


def has_string_id(api: Api) -> bool:
    id_member, schema = _record_schema(api)
    return schema.get("properties", {}).get(id_member, {}).get("type") == "string"


def ids_as_numbers(api: Api) -> Change:
    """Every record read or written answers its id as a number, where the schema types it as a string."""
    id_member, _ = _record_schema(api)

    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict) and str(body.get(id_member, "")).isdigit():
            body = {**body, id_member: int(body[id_member])}
        return status, body

    return change


def member_missing(api: Api) -> Change:
    """Every record answered lacks one member the schema requires (the first that is not its id)."""
    id_member, schema = _record_schema(api)
    missing = next(name for name in schema.get("required", []) if name != id_member)

    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict) and missing in body:
            body = {name: value for name, value in body.items() if name != missing}
        return status, body

    return change


def has_required_member(api: Api) -> bool:
    id_member, schema = _record_schema(api)
    return any(name != id_member for name in schema.get("required", []))


def refusals_as_403(api: Api) -> Change:
    """A request without accepted credentials is answered 403 instead of 401 (same body)."""

    def change(method: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        return (403 if status == 401 else status), body

    return change


DEPARTURES = [
    Departure("response member of the wrong type", frozenset({"response_schema_conformance"}),
              frozenset({"drift.types"}), wrong_type),
    Departure("unknown error shape", frozenset({"response_schema_conformance"}),
              frozenset({"drift.members"}), unknown_error_shape),
    Departure("404 answered as 200", frozenset({"response_schema_conformance"}),
              frozenset({"drift.status"}), not_found_as_ok),
    Departure("derived member wrong", frozenset({"derived_members"}), frozenset({"drift.derived"}),
              wrong_derived, has_derived),
    Departure("update not echoed", frozenset({"update_echoes_request"}), frozenset({"drift.values"}), not_echoed),
    Departure("ids as numbers", frozenset({"response_schema_conformance"}),
              frozenset({"vendor.response_schema_conformance", "drift.types"}), ids_as_numbers, has_string_id),
    Departure("a member missing", frozenset({"response_schema_conformance"}),
              frozenset({"vendor.response_schema_conformance", "drift.members"}), member_missing, has_required_member),
]  # fmt: skip
APIS = list(discover().values())
CASES = [(departure, api) for departure in DEPARTURES for api in APIS if departure.applies(api)]
CASE_IDS = [f"{departure.slug}-{api.name}" for departure, api in CASES]


def case(departure_id: str, api_name: str) -> tuple[Departure, Api]:
    return next((d, api) for d, api in CASES if d.id == departure_id and api.name == api_name)


# The same departure on a member the spec documents and on one it only infers (the answer to aBILLity's
# PATCH is `x-likely`: the vendor documents no response), for what depends on the evidence class.
DOCUMENTED_CASE = case("response member of the wrong type", "elevate")
INFERRED_CASE = case("response member of the wrong type", "abillity")


@dataclass(frozen=True)
class Recorded:
    """What one run of `calls` through the proxy left: the answers, what was printed, the recording."""

    responses: list[httpx.Response]
    printed: str
    har: Path


@contextmanager
def proxying(upstream: str, api: Api | None = None, **options: Any) -> Iterator[tuple[str, io.StringIO]]:
    """The proxy for `api` in front of `upstream`, and what it prints."""
    printed = io.StringIO()
    console = Console(file=printed, width=200, color_system=None)
    api = api or APIS[0]  # any API, for what does not depend on the vendor
    proxy = create_proxy(ProxySettings(api=api, upstream=upstream, **options), console=console)
    with serving(proxy, server_header=False, date_header=False) as url:
        yield url, printed


class Recordings:
    """Each API's departing upstream, started once, and the recording of `calls` through each departure."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.folder = folder
        self.stack = stack
        self.upstreams: dict[str, str] = {}
        self.done: dict[tuple[str, str], Recorded] = {}

    def upstream(self, api: Api, slug: str) -> str:
        if api.name not in self.upstreams:
            self.upstreams[api.name] = self.stack.enter_context(serving(Departing(api)))
        return f"{self.upstreams[api.name]}/{slug}/{api.name}"

    def record(self, api: Api, slug: str = AS_DOCUMENTED, token: str = "dev-token.departures") -> Recorded:
        key = (api.name, slug)
        if key not in self.done:
            har_path = self.folder / f"{slug}-{api.name}.har"
            with proxying(self.upstream(api, slug), api, record=har_path) as (proxy, printed):
                responses = list(calls(api, proxy, f"{token}-{slug}"))
            self.done[key] = Recorded(responses, printed.getvalue(), har_path)
        return self.done[key]


# --- the calls ---------------------------------------------------------------------------------


def first_id(api: Api, collection: str) -> str:
    seed = yaml.safe_load((api.fixtures_dir / "seed.yaml").read_text(encoding="utf-8"))
    return str(next(iter(seed[collection])))


def example_write(api: Api, template: str) -> tuple[str, str, bytes] | None:
    """(method, media type, body) of the spec's first example write to `template`."""
    contract = contract_for(api)
    for operation in api.operations():
        if operation.path == template and operation.method in ("PUT", "PATCH"):
            definition = contract.view.resolved["paths"][template][operation.method.lower()]
            declared = definition["requestBody"]["content"].items()
            media_type, content = next((m, c) for m, c in declared if "json" in m)  # the example is JSON
            example = content["example"] if "example" in content else next(iter(content["examples"].values()))["value"]
            return operation.method, media_type, json.dumps(example).encode()
    return None


def calls(api: Api, base_url: str, token: str) -> Iterator[httpx.Response]:
    """For each resource of the API: a read, the spec's example write, and that write to an unknown id."""
    target = resolve_target(api, base_url=base_url, bundled=True)
    headers = {"Authorization": f"{target.credentials.auth_prefix} {token}", **target.credentials.org()}
    vendor = contract_for(api).vendor
    assert vendor is not None
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for template, resource in vendor.resources.items():
            (parameter,) = [part[1:-1] for part in template.split("/") if part.startswith("{")]
            path = template.replace(f"{{{parameter}}}", first_id(api, resource.collection))
            yield client.get(path)
            write = example_write(api, template)
            if write is not None:
                method, media_type, body = write
                yield client.request(method, path, headers={"Content-Type": media_type}, content=body)
                missing = template.replace(f"{{{parameter}}}", MISSING_ID)
                yield client.request(method, missing, headers={"Content-Type": media_type}, content=body)
