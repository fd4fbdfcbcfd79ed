"""Pre-flight: before any suite, the target must answer as the API does.

Two requests, read-only: an unknown record (its answer must not refuse the credentials) and a known
one, which must read back 2xx as JSON. Without a known record (no `record_ids`), the unknown one's
error answer must be JSON and must not depart from what the documents state (a departure from our
inferences is left to the suites: a false alarm that stops a run is the worst kind). Anything else
ends the run with exit 2 and what to fix, rather than a report of violations that only say the
harness was pointed at the wrong place. What a target that is the API answers wrongly (an unknown
id answered 200, say) is left to the suites.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import httpx

from conformance.exchange_checks import Exchange, judge
from conformance.exchange_spec import contract_for, media_type
from conformance.http import Client, TargetUnreachable
from conformance.target import Target


class PreflightFailed(Exception):
    """The target does not answer as the API: the message says what to fix."""


def check(target: Target, client: Client, known_record: object | None) -> None:
    """Raise `PreflightFailed` unless the target answers as the API (`known_record`: an id that exists)."""
    api = target.api
    operation = api.record_read()
    if operation is None:
        return
    headers = {**target.headers, **target.credentials.headers()}
    base_hint = (
        f"check the base URL: {target.base_url} must be the API's root, under which the spec's paths "
        f"(such as {operation.path}) are served"
        + (" — for the bundled mock, http://HOST:PORT/" + api.name if not target.bundled else "")
    )

    def read(record: object) -> tuple[str, httpx.Response]:
        path = operation.path
        for name in operation.path_parameters:
            path = path.replace(f"{{{name}}}", str(record))
        try:
            return path, client.send("GET", path, headers=headers)
        except TargetUnreachable as exc:
            raise PreflightFailed(f"{api.name}: the target does not answer: {exc}; {base_hint}") from exc

    unknown_path, unknown = read(_unknown_id(target))
    if unknown.status_code in (401, 403):
        raise PreflightFailed(
            f"{api.name}: the target refuses the credentials (GET {unknown_path} answered {unknown.status_code}): "
            "check --token, and --org-id where the API needs one"
        )
    if known_record is None:
        # No record to read back: the unknown one's answer must at least look like the API's. A 2xx is left to
        # the suites (a vendor answering an unknown id with 200 departs from the spec; it is not elsewhere).
        if 200 <= unknown.status_code < 300:
            return
        stated, inferred = _departures(target, unknown_path, unknown)
        if inferred and not stated and _collection_answers(target, client, headers):
            return  # the API's list answers: the unknown id's answer departs from our inference only
        if stated or inferred:
            raise PreflightFailed(
                f"{api.name}: GET {unknown_path} answered {unknown.status_code} in a shape the spec does not declare "
                f"({'; '.join([*stated, *inferred][:3])}): the target does not answer as the API; {base_hint}. If the "
                "URL is right, name a record in the target file's record_ids so that the pre-flight can read it back"
            )
        return
    known_path, known = read(known_record)
    if known.status_code in (401, 403):
        raise PreflightFailed(
            f"{api.name}: the target refuses the credentials (GET {known_path} answered {known.status_code}): "
            "check --token, and --org-id where the API needs one"
        )
    if not 200 <= known.status_code < 300 or "json" not in media_type(known.headers.get("content-type")):
        what = f"answered {known.status_code} ({media_type(known.headers.get('content-type')) or 'no body type'})"
        raise PreflightFailed(
            f"{api.name}: GET {known_path} of a record the target file names {what}, not the record as JSON; "
            f"{base_hint}, and that record_ids names a record of this account"
        )


def _departures(target: Target, path: str, response: httpx.Response) -> tuple[list[str], list[str]]:
    """What in an unknown record's error answer departs from the spec: (from what the documents state, or from
    JSON where the API answers JSON; from our inferences only: an unknown id's status or error body, which few
    vendors document)."""
    exchange = Exchange(
        method="GET",
        path=path,
        request_headers={},
        request_body=b"",
        status=response.status_code,
        response_headers={name.lower(): value for name, value in response.headers.items()},
        response_body=response.content,
    )
    stated: list[str] = []
    actual = media_type(response.headers.get("content-type"))
    if response.content and "json" not in actual and _answers_json(target, path):
        stated.append(f"response header Content-Type: {actual or 'none'!r}, where the API answers JSON")
    shape = {"status_code_conformance", "content_type_conformance", "response_schema_conformance"}
    findings = [f for f in judge(contract_for(target.api), exchange).findings if f.rule in shape]
    stated += [f"{f.location}: {f.message}" for f in findings if f.documented]
    return stated, [f"{f.location}: {f.message}" for f in findings if not f.documented]


def _answers_json(target: Target, path: str) -> bool:
    operation = target.api.operation_for("GET", path)
    responses = operation.definition.get("responses", {}) if operation is not None else {}
    return any("json" in name for answer in responses.values() for name in answer.get("content", {}))


def _collection_answers(target: Target, client: Client, headers: dict[str, str]) -> bool:
    """Whether the API's list of the records (a GET without path parameters above the record's path) answers 2xx
    with JSON: a read that only the API serves, to tell a faithful target from a wrong base URL."""
    record = target.api.record_read()
    lists = [
        operation
        for operation in target.api.operations()
        if operation.method == "GET" and not operation.path_parameters and record is not None
        and record.path.startswith(operation.path.rstrip("/") + "/")
    ]  # fmt: skip
    if not lists:
        return False
    query = {
        str(parameter["name"]): str(_example(parameter))
        for parameter in lists[0].parameters
        if parameter.get("in") == "query" and parameter.get("required") and _example(parameter) is not None
    }
    try:
        response = client.send("GET", lists[0].path, headers=headers, params=query)
    except TargetUnreachable:
        return False
    return 200 <= response.status_code < 300 and "json" in media_type(response.headers.get("content-type"))


def _example(parameter: Mapping[str, Any]) -> Any:
    """A value the spec gives for a parameter: its example, else its schema's example, default, minimum or first
    choice."""
    schema: Mapping[str, Any] = parameter.get("schema", {})
    for value in (parameter.get("example"), schema.get("example"), schema.get("default"), schema.get("minimum")):
        if value is not None:
            return value
    return next(iter(schema.get("enum", [])), None)


def _unknown_id(target: Target) -> object:
    """An id no record has: the target file's `missing_id`, else a long random number."""
    missing = target.variables.get("missing_id")
    return missing if missing is not None else f"9{secrets.randbelow(10**12):012d}"
