"""Admin endpoints for recordings: seed one record as a client reads it, export the journal as HAR.

- `PUT /__admin/records/{api}/{collection}/{id}` stores a record given as the API answers it (validated
  against the resource's response schema), in the tenant named by `X-Tenant-Token` or `?tenant=`.
  Drift uses it to bring a record to the state a recording shows; tests can use it to seed.
- `GET /__admin/requests?format=har` is the request journal as HAR 1.2 (credentials as `***`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connexion.json_schema import Draft4ResponseValidator
from flask import Blueprint, Response, jsonify, request

from mock_server.engine.auth import fingerprint
from mock_server.engine.spec import FORMAT_CHECKER
from mock_server.state.store import RecordsView
from recordings import har

if TYPE_CHECKING:
    from mock_server.state.mock_state import MockState

TENANT_TOKEN_HEADER = "X-Tenant-Token"


def register(blueprint: Blueprint, state: MockState) -> None:
    @blueprint.put("/records/<api>/<collection>/<record_id>")
    def put_record(api: str, collection: str, record_id: str) -> Response:
        return _put_record(state, api, collection, record_id)


def _put_record(state: MockState, api: str, collection: str, record_id: str) -> Response:
    vendor = state.vendors.get(api)
    if vendor is None:
        return _error(404, f"unknown API {api!r}; available: {', '.join(state.vendors)}")
    resource = next((r for r in vendor.resources.values() if r.collection == collection), None)
    if resource is None:
        known = ", ".join(r.collection for r in vendor.resources.values()) or "none"
        return _error(404, f"{api} has no collection {collection!r} clients address; available: {known}")
    tenant = _tenant()
    if tenant is None:
        return _error(400, f"name the tenant: the {TENANT_TOKEN_HEADER} header or ?tenant=<fingerprint>")
    view = request.get_json(silent=True)
    if not isinstance(view, dict):
        return _error(400, "send the record as a JSON object, as the API returns it")
    schema = state.specs[api].schema(resource.view_schema)
    problems = [
        {"field": "/".join(map(str, error.absolute_path)) or "(record)", "message": error.message}
        for error in Draft4ResponseValidator(schema, format_checker=FORMAT_CHECKER).iter_errors(view)
    ]
    if problems:
        return _error(400, f"the record does not match {resource.view_schema}", fields=problems)
    given_id = view.get(resource.id_member)
    if given_id is not None and str(given_id) != record_id:
        return _error(400, f"the record's {resource.id_member} {given_id!r} is not the id in the path {record_id!r}")
    records = RecordsView(state.store, tenant, api)
    stored = records.get(collection, record_id)
    records.insert(collection, record_id, vendor.record_of_view(collection)(records, view, stored))
    body = {"tenant": tenant, "api": api, "collection": collection, "id": record_id, "created": stored is None}
    response = jsonify(body)
    response.status_code = 201 if stored is None else 200
    return response


def journal_as_har(state: MockState, entries: list[dict[str, Any]]) -> Response:
    """The journal's entries (already redacted by the journal) as a HAR document."""
    org_headers = [vendor.org_header for vendor in state.vendors.values() if vendor.org_header]
    redaction = har.Redaction().with_headers(org_headers)
    converted = [_har_entry(entry, redaction) for entry in entries]
    return Response(json.dumps(har.document(converted)), mimetype="application/json")


def _har_entry(entry: dict[str, Any], redaction: har.Redaction) -> dict[str, Any]:
    headers = [(name, value) for name, value in entry["headers"].items()]
    query = entry.get("query") or ""
    url = f"{request.host_url.rstrip('/')}{quote(entry['path'])}" + (f"?{query}" if query else "")
    return har.entry(
        started=dt.datetime.fromtimestamp(entry["time"], dt.UTC),
        duration_ms=entry["durationMs"],
        method=entry["method"],
        url=url,
        request=har.Message(headers, entry["body"].encode()),
        status=entry["status"],
        status_text="",
        response=har.Message([("content-type", "application/json")], entry["response"].encode()),
        redaction=redaction,
    )


def _tenant() -> str | None:
    token = request.headers.get(TENANT_TOKEN_HEADER)
    if token:
        return fingerprint(token)
    return request.args.get("tenant") or None


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response
