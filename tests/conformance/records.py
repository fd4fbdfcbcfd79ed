"""What tests need to know about each discovered API's records, read from its spec and fixture folder."""

from __future__ import annotations

import json
import uuid
from typing import Any

from conformance.apis import Api, Operation
from conformance.concurrency import distinct_changes, json_media_type

__all__ = ["distinct_changes"]
from conformance.invariants import UpdateModel
from conformance.run import example_record_id, fill_path
from conformance.scenarios.loader import load_directory
from conformance.scenarios.template import render
from conformance.target import load_target_file, resolve_target


def read_operation(api: Api) -> Operation:
    return next(operation for operation in api.operations() if operation.method == "GET")


def record_path(api: Api, record_id: object | None = None) -> str:
    """The read path of the spec's example record (or of `record_id`)."""
    operation = read_operation(api)
    return fill_path(
        operation.path, operation.path_parameters, example_record_id(api) if record_id is None else record_id
    )


def missing_record_path(api: Api) -> str:
    """The read path of the fixture folder's `missing_id`: no record has it."""
    return record_path(api, load_target_file(api.default_target_file).variables["missing_id"])


def restored_record_paths(api: Api) -> set[str]:
    """Every record path a scenario declares it changes (`restore:`), with the target file's variables."""
    variables = load_target_file(api.default_target_file).variables
    loaded = load_directory(api.scenarios_dir, api.name)
    return {render(path, variables) for scenario in loaded.scenarios for path in scenario.restore}


def bundled_headers(api: Api, token: str | None = None) -> dict[str, str]:
    """Credentials for the bundled mock in a tenant of their own (and the org header, where the API has one)."""
    target = resolve_target(api, base_url="http://127.0.0.1", bundled=True, token=token, tenant=uuid.uuid4().hex[:8])
    return {**target.headers, **target.credentials.headers()}


def partial_write(api: Api) -> Operation:
    """The API's first write that may change one member alone."""
    model = UpdateModel(api)
    return next(op for op in api.operations() if model.checked(op) and model.semantics(op) in ("partial", "json-patch"))


def write_changing(api: Api, record: dict[str, Any], members: int = 2) -> tuple[Operation, str, bytes, set[str]]:
    """A write that changes `members` members of `record`: its operation, media type, body, and the members."""
    operation = partial_write(api)
    changes = distinct_changes(api, operation, record, members)
    body: Any = changes
    if UpdateModel(api).semantics(operation) == "json-patch":
        body = [{"op": "replace", "path": f"/{name}", "value": value} for name, value in changes.items()]
    return operation, json_media_type(api, operation), json.dumps(body).encode(), set(changes)


def derived_members(api: Api) -> set[str]:
    operation = partial_write(api)
    return set(UpdateModel(api).derived(operation))
