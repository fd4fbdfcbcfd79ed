"""`conformance scenario --from-har`: keep one recorded exchange as a scenario file.

The scenario sends the recorded request and expects the recorded status and body. Values the
request set, derived members and error bodies are expected as recorded; every other value of a
successful answer (timestamps, generated ids, the rest of the record) is expected by its kind through
a matcher (`$datetime`, `$any_string`, ...). A successful write gets a read-back step. The file is
loaded with the scenario loader before this returns, so what is written always loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

from conformance.apis import Api
from conformance.exchange_checks import sent_values
from conformance.exchange_spec import Matched, contract_for, media_type
from conformance.scenarios.loader import load_file
from conformance.scenarios.matchers import DATE, DATETIME, DIGITS
from conformance.scenarios.model import SAFE_METHODS, Scenario
from conformance.target import load_target_file
from recordings import har

DEFAULT_MEDIA_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


class ExportError(Exception):
    """The entry cannot become a scenario: out of range, or no API's spec declares its operation."""


@dataclass(frozen=True)
class Exported:
    scenario: Scenario
    path: Path


def export(har_path: Path, index: int, apis: list[Api], *, scenario_id: str | None, output: Path | None) -> Exported:
    entries = har.read(har_path)
    if not 0 <= index < len(entries):
        raise ExportError(f"{har_path}: no entry {index} (the recording has {len(entries)}, numbered from 0)")
    entry = entries[index]
    api, matched = _operation(entry, apis)
    document = scenario_document(entry, api, matched, scenario_id, har_path)
    path = output or api.scenarios_dir / f"{document['id'].split('.', 1)[-1]}.yaml"
    if path.exists():
        raise ExportError(f"{path} exists; choose another --id or --output")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    return Exported(load_file(path, api.name), path)


def _operation(entry: har.Recorded, apis: list[Api]) -> tuple[Api, Matched]:
    for api in apis:
        matched = contract_for(api).match(entry.method, entry.path)
        if matched is not None:
            return api, matched
    names = ", ".join(api.name for api in apis)
    raise ExportError(f"entry {entry.index}: no operation {entry.method} {entry.path} in the spec of {names}")


def scenario_document(
    entry: har.Recorded, api: Api, matched: Matched, scenario_id: str | None, source: Path
) -> dict[str, Any]:
    path = _templated_path(api, matched)
    request = {"method": entry.method, "path": path, **_query(entry), **_body(entry)}
    step: dict[str, Any] = {"name": "the recorded request", "request": request, "expect": _expect(entry, api, matched)}
    steps = [step]
    reads_back = entry.method not in SAFE_METHODS and 200 <= entry.status < 300 and entry.response_json() is not None
    if reads_back and api.operation_for("GET", matched.operation.path) is not None:
        step["capture"] = {"answered": ""}
        steps.append(
            {
                "name": "read it back",
                "request": {"method": "GET", "path": path},
                "expect": {"status": 200, "body": "${answered}"},
            }
        )
    document: dict[str, Any] = {
        "id": scenario_id or f"{api.name}.recorded-{entry.method.lower()}-{entry.index}",
        "title": f"As recorded: {entry.method} {matched.operation.path} answered {entry.status}",
        "source": f"recording {source.name}, entry {entry.index} ({entry.started})",
        "writes": entry.method not in SAFE_METHODS,
    }
    if entry.method not in SAFE_METHODS and api.operation_for("GET", matched.operation.path) is not None:
        document["restore"] = [path]
    document["steps"] = steps
    return document


def _templated_path(api: Api, matched: Matched) -> str:
    """The path, with each parameter the target file names as a variable written as that variable."""
    file = load_target_file(api.default_target_file) if api.default_target_file.is_file() else None
    variables = {str(value): name for name, value in (file.variables if file else {}).items()}
    path = matched.operation.path
    for name, value in matched.parameters.items():
        path = path.replace(f"{{{name}}}", "${" + variables[value] + "}" if value in variables else value)
    return path


def _query(entry: har.Recorded) -> dict[str, Any]:
    pairs = parse_qsl(entry.query, keep_blank_values=True)
    return {"query": dict(pairs)} if pairs else {}


def _body(entry: har.Recorded) -> dict[str, Any]:
    if not entry.request_body:
        return {}
    sent_type = media_type(entry.request_mime)
    parsed = entry.request_json()
    if parsed is not None:
        body: dict[str, Any] = {"json": parsed}
        key = "json"
    elif sent_type == DEFAULT_MEDIA_TYPES["form"]:
        body, key = {"form": dict(parse_qsl(entry.request_body, keep_blank_values=True))}, "form"
    else:
        return {"body": entry.request_body, "content_type": entry.request_mime or "application/octet-stream"}
    if sent_type != DEFAULT_MEDIA_TYPES[key]:
        body["content_type"] = entry.request_mime
    return body


def _expect(entry: har.Recorded, api: Api, matched: Matched) -> dict[str, Any]:
    expect: dict[str, Any] = {"status": entry.status}
    answered = entry.response_json()
    if answered is None:
        return expect
    if entry.status >= 400:
        expect["body"] = _escaped(answered)  # the vendor's error envelope and wording, as recorded
        return expect
    kept = {pointer.lstrip("/").split("/", 1)[0] for pointer, _ in sent_values(entry.request_json())}
    resource = contract_for(api).resource(matched)
    kept |= set(resource.derived) if resource else set()
    if isinstance(answered, dict):
        expect["body"] = {
            name: _escaped(value) if name in kept else _matcher(value) for name, value in answered.items()
        }
    else:
        expect["body"] = _matcher(answered)
    return expect


def _matcher(value: Any) -> Any:
    """A matcher for a value that may differ between runs, by its kind."""
    if isinstance(value, dict):
        return {name: _matcher(item) for name, item in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return "$any"
    if isinstance(value, int | float):
        return "$any_number"
    if DIGITS.match(value):
        return "$digits"
    if DATE.match(value):
        return "$date"
    if DATETIME.match(value):
        return "$datetime"
    return "$any_string"


def _escaped(value: Any) -> Any:
    """A recorded value as a literal: a string starting with `$` is written `$$...` so it is not a matcher."""
    if isinstance(value, Mapping):
        return {name: _escaped(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    if isinstance(value, str):
        return "$$" + value[1:] if value.startswith("$") else value
    return value
