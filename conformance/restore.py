"""Read records before a scenario changes them and write them back afterwards, using only the spec.

The write that restores a record is the spec's PATCH on the record's path (else its PUT), in the
first JSON media type the operation accepts. For a JSON Patch body the operations are the
difference between the record now and as it was, limited to members that are not `readOnly`. For a
merge body the fields are those of the request schema that differ; a value as read is turned into
a value as written when the read form expands it (`{"id": 3, "name": …}` → `3`, `"5"` → `5`,
a nested object → the properties the request takes), and is only sent once it validates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30WriteValidator

from conformance.apis import Api
from conformance.http import Client
from openapi_model import Operation, keywords, properties
from openapi_model.values import same_value

JSON_PATCH = "application/json-patch+json"
RESTORE = "restore"  # the title of a result that says a record could not be written back


class RestoreError(Exception):
    pass


@dataclass(frozen=True)
class Snapshot:
    path: str
    record: Any


class Unconvertible(Exception):
    pass


@dataclass
class Ledger:
    """Every record a run may have written to, as first read: compared again when the run ends."""

    first_reads: dict[str, Snapshot] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # path -> why writing it back failed

    def remember(self, snapshot: Snapshot) -> None:
        self.first_reads.setdefault(snapshot.path, snapshot)


@dataclass(frozen=True)
class Difference:
    path: str
    members: dict[str, tuple[Any, Any]]  # member -> (as first read, as read now)
    request: str  # the request that would put them back


class Restorer:
    def __init__(self, api: Api, client: Client, ledger: Ledger | None = None) -> None:
        self.api = api
        self.client = client
        self.ledger = ledger

    def snapshot(self, path: str, headers: Mapping[str, str]) -> Snapshot | None:
        """The record at `path`, or `None` when there is none to restore."""
        response = self.client.send("GET", path, headers=headers)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RestoreError(f"cannot read {path} before changing it: status {response.status_code}")
        snapshot = Snapshot(path, response.json())
        if self.ledger is not None:
            self.ledger.remember(snapshot)
        return snapshot

    def restore(self, snapshot: Snapshot, headers: Mapping[str, str]) -> None:
        try:
            self._restore(snapshot, headers)
        except RestoreError as exc:
            if self.ledger is not None:
                self.ledger.failures[snapshot.path] = str(exc)
            raise

    def _restore(self, snapshot: Snapshot, headers: Mapping[str, str]) -> None:
        current = self.client.send("GET", snapshot.path, headers=headers)
        if current.status_code != 200:
            raise RestoreError(f"cannot read {snapshot.path} to restore it: status {current.status_code}")
        operation, media_type = self._write_operation(snapshot.path)
        body = self._body(operation, media_type, snapshot.record, current.json())
        if not body:
            return
        response = self.client.send(
            operation.method,
            snapshot.path,
            headers={**headers, "Content-Type": media_type},
            content=json.dumps(body).encode(),
        )
        if not response.is_success:
            raise RestoreError(
                f"restoring {snapshot.path} with {operation.method} failed: status {response.status_code} "
                f"{self.client.redactor.text(response.text[:300])}"
            )

    def unclearable(self, path: str, record: Any) -> set[str]:
        """Members a run must not write, for it could not write their current value back: empty now where the
        write cannot empty them again (aBILLity: `null` means "not sent"), or read in a form no write takes
        (`x-read-form`: a country read as its name, written as its id)."""
        try:
            operation, _ = self._write_operation(path)
        except RestoreError:
            return set()
        read = self.api.operation_for("GET", path)
        if not isinstance(record, dict) or read is None:
            return set()
        read_forms = {name for name, member in properties(_record_schema(read)).items() if keywords.read_form(member)}
        if keywords.clearable(operation.definition):
            return read_forms & set(record)
        return read_forms & set(record) | {name for name, value in record.items() if value in (None, "", [])}

    def differences(self, headers: Mapping[str, str], base_url: str = "") -> list[Difference]:
        """Every remembered record that does not read as it first did, with the request that would restore it."""
        found = []
        for path, first in self.ledger.first_reads.items() if self.ledger is not None else ():
            response = self.client.send("GET", path, headers=headers)
            now = response.json() if response.status_code == 200 else None
            if not isinstance(now, dict) or not isinstance(first.record, dict):
                found.append(
                    Difference(path, {"(record)": (first.record, now)}, self._request(path, first.record, {}, base_url))
                )
                continue
            members = {
                name: (value, now.get(name))
                for name, value in first.record.items()
                if name in self._compared(path) and not same_value(value, now.get(name))
            }
            if members:
                found.append(Difference(path, members, self._request(path, first.record, now, base_url)))
        return found

    def _compared(self, path: str) -> set[str]:
        operation = self.api.operation_for("GET", path)
        write = self.api.operation_for("PATCH", path) or self.api.operation_for("PUT", path)
        if operation is None or write is None:
            return set()
        return {
            name
            for name, member in properties(_record_schema(operation)).items()
            if not member.get("readOnly") and keywords.derived_from(member) is None
        }

    def _request(self, path: str, before: Any, now: Any, base_url: str) -> str:
        """The request that would put `before` back, as text a person can send."""
        try:
            operation, media_type = self._write_operation(path)
            body = self._body(operation, media_type, before, now)
        except RestoreError:
            operation, media_type, body = None, "application/json", before
        method = operation.method if operation is not None else "PATCH"
        text = json.dumps(body, indent=2, ensure_ascii=False, default=str)
        return f"{method} {base_url}{path}\nContent-Type: {media_type}\n\n{text}"

    def _write_operation(self, path: str) -> tuple[Operation, str]:
        for method in ("PATCH", "PUT"):
            operation = self.api.operation_for(method, path)
            if operation is None:
                continue
            media_type = next((m for m in operation.request_media_types() if "json" in m.split(";")[0]), None)
            if media_type is not None:
                return operation, media_type
        raise RestoreError(f"{self.api.name}: the spec has no JSON PATCH or PUT on {path} to restore it with")

    def _body(self, operation: Operation, media_type: str, before: Any, now: Any) -> Any:
        if media_type.startswith(JSON_PATCH):
            writable = self._writable_members(operation)
            return jsonpatch.make_patch(_only(now, writable), _only(before, writable)).patch
        return RequestBody(self.api, operation, media_type).restoring(before, now, complete=operation.method == "PUT")

    def _writable_members(self, operation: Operation) -> set[str]:
        response = operation.definition.get("responses", {}).get("200", {})
        content: dict[str, Any] = next(iter(response.get("content", {}).values()), {})
        schema = content.get("schema", {})
        return {name for name, member in properties(schema).items() if not member.get("readOnly")}


def _record_schema(read: Operation) -> Mapping[str, Any]:
    response = read.definition.get("responses", {}).get("200", {})
    content: dict[str, Any] = next(iter(response.get("content", {}).values()), {})
    schema: Mapping[str, Any] = content.get("schema", {})
    return schema


def _only(record: Any, members: set[str]) -> Any:
    return {key: value for key, value in record.items() if key in members} if isinstance(record, dict) else record


class RequestBody:
    """The request schema of one operation, to turn values as read into values as written."""

    def __init__(self, api: Api, operation: Operation, media_type: str) -> None:
        self.api = api
        self.schema = operation.request_schema(media_type)  # resolved by the spec model
        self.validator = OAS30WriteValidator(self.schema)

    def restoring(self, before: Mapping[str, Any], now: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
        """The body that turns `now` back into `before`: every writable field (`complete`) or those that differ."""
        body: dict[str, Any] = {}
        problems: list[str] = []
        for name, schema in properties(self.schema).items():
            if name not in before or schema.get("readOnly"):
                continue
            if not complete and before[name] == now.get(name):
                continue
            try:
                body[name] = self._writable(name, before[name], schema)
            except Unconvertible:
                problems.append(f"{name}={json.dumps(before[name])[:100]}")
        if problems:
            raise RestoreError(f"cannot write back {', '.join(problems)}: no form of the value fits the request schema")
        return body

    def _writable(self, name: str, value: Any, schema: Any) -> Any:
        for candidate in self._candidates(value, schema):
            if not self._errors(name, candidate):
                return candidate
        return self._as_returned(value, schema)

    def _as_returned(self, value: Any, schema: Any) -> Any:
        """The value in the representation the target itself returned, where no form fits the schema: a
        scalar as it is (DRF's decimal string "150000.00" where the spec says number: what the target reads,
        it takes back), a nested object member by member, an expanded relation as its id."""
        if value is None or isinstance(value, str | int | float | bool):
            return value
        nested = properties(schema)
        if isinstance(value, dict) and nested:
            return {key: self._nested(item, nested[key]) for key, item in value.items() if key in nested}
        if isinstance(value, dict) and "id" in value:
            return value["id"]
        raise Unconvertible(str(value)[:100])

    def _nested(self, value: Any, schema: Any) -> Any:
        validator = OAS30WriteValidator(schema)
        for candidate in self._candidates(value, schema):
            if validator.is_valid(candidate):
                return candidate
        return self._as_returned(value, schema)

    def _candidates(self, value: Any, schema: Any) -> Iterator[Any]:
        yield value
        if isinstance(value, dict) and "id" in value:
            yield value["id"]
        if isinstance(value, str) and value.isdigit():
            yield int(value)
        nested = properties(schema)
        if isinstance(value, dict) and nested:
            yield {key: item for key, item in value.items() if key in nested}

    def _errors(self, name: str, value: Any) -> list[ValidationError]:
        # The field alone, so that fields the request requires but this body leaves out do not count.
        return [error for error in self.validator.iter_errors({name: value}) if list(error.absolute_path)[:1] == [name]]
