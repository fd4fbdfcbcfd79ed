"""Pre-flight: before any suite, the target must answer as the API does.

Two requests, read-only: an unknown record (its answer must not refuse the credentials) and a known
one, which must read back 2xx as JSON. Without a known record (no `record_ids`), the unknown one's
error answer must be in a shape the spec declares. Anything else ends the run with exit 2 and what to
fix, rather than a report of violations that only say the harness was pointed at the wrong place.
What a target that is the API answers wrongly (an unknown id answered 200, say) is left to the suites.
"""

from __future__ import annotations

import secrets

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
        findings = _departures(target, unknown_path, unknown) if not 200 <= unknown.status_code < 300 else []
        if findings:
            raise PreflightFailed(
                f"{api.name}: GET {unknown_path} answered {unknown.status_code} in a shape the spec does not declare "
                f"({'; '.join(findings)}): the target does not answer as the API; {base_hint}. If the URL is right, "
                "name a record in the target file's record_ids so that the pre-flight can read it back"
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


def _departures(target: Target, path: str, response: httpx.Response) -> list[str]:
    exchange = Exchange(
        method="GET",
        path=path,
        request_headers={},
        request_body=b"",
        status=response.status_code,
        response_headers={name.lower(): value for name, value in response.headers.items()},
        response_body=response.content,
    )
    shape = {"status_code_conformance", "content_type_conformance", "response_schema_conformance"}
    verdict = judge(contract_for(target.api), exchange)
    return [f"{finding.location}: {finding.message}" for finding in verdict.findings if finding.rule in shape][:3]


def _unknown_id(target: Target) -> object:
    """An id no record has: the target file's `missing_id`, else a long random number."""
    missing = target.variables.get("missing_id")
    return missing if missing is not None else f"9{secrets.randbelow(10**12):012d}"
