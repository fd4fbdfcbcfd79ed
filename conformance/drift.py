"""`conformance drift`: replay a recording's writes against the mock and list where it answers differently.

For each recorded write, the record it touches is first brought to the state the recording shows
before it (the last recorded GET of it, or the answer to the previous write) through
`PUT /__admin/records/...`, the mock's clock is set to the recording's `Date`, then the recorded
request is sent in a fresh tenant and the two answers are compared. Only what cannot be the same is
ignored: values of members the request did not set (timestamps, generated ids) are compared by
presence and JSON type, not by value.

Each recorded request is replayed with credentials of the class the recording kept (`har.CredentialClass`):
none, the target's, an unknown token, a token without the grant (`readonly_token` of the target
file), or the target's token naming another organisation (`other_org_id`). An exchange whose class
cannot be replayed is reported as "not replayable", never compared. A recorded record that breaks the
response schema is a finding of its own (`vendor.response_schema_conformance`); the mock is then
seeded with its nearest valid form (each offending member as the mock has it) so the replay goes on.

Each difference is classed by what it compares (`conformance.evidence`, the spec's `x-likely` marks):
a member our spec only infers, or an answer it only infers, differs without failing the run (unless
`--strict`); only a departure from documented behaviour is drift that fails it.
"""

from __future__ import annotations

import email.utils
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from jsonpointer import JsonPointerException, resolve_pointer

from conformance.apis import Api
from conformance.evidence import member_basis
from conformance.exchange_checks import CHECKS, judge, sent_values
from conformance.exchange_checks import Exchange as CheckedExchange
from conformance.exchange_spec import ApiContract, Matched, contract_for, media_type, schema_validator
from conformance.results import CaseResult, Exchange, Outcome, RunResult, Suite, Violation
from conformance.target import BUNDLED_MOCK_TOKEN, Target, TargetError, resolve_target
from launcher.servers import MockStartError, bundled_mock
from openapi_model.evidence import DOCUMENTED, Basis, response_basis, status_basis, weakest
from recordings import har

Progress = Callable[[str], None]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Recorded request headers that belong to the recorder's connection or credentials, not to the request.
NOT_REPLAYED = frozenset({"host", "content-length", "connection", "accept-encoding", "authorization", "cookie"})
MAX_SHOWN_BODY = 4000
VENDOR_SCHEMA_RULE = "vendor.response_schema_conformance"
# What drift compares: the two answers, the vendor's records against the schema, the mock's answers.
COMPARED_RULES = (
    "drift.status", "drift.types", "drift.members", "drift.values", "drift.derived", "drift.error-fields",
    VENDOR_SCHEMA_RULE, *(f"mock.{rule}" for rule in CHECKS),
)  # fmt: skip
NEAREST_VALID_PASSES = 3


class NotReplayable(Exception):
    """The recorded exchange's credentials cannot be reproduced against the mock."""


class DriftError(Exception):
    """The recording cannot be used (exit 2)."""


@dataclass(frozen=True)
class DriftOptions:
    api: Api
    har_path: Path
    base_url: str | None = None  # the mock's root (its admin API must be reachable); default: the bundled mock
    target_file: Path | None = None  # variables for credentials to replay (default: fixtures/<api>/target.yaml)
    timeout: float = 30.0
    strict: bool = False  # differences from our inferences fail the run too


@dataclass(frozen=True)
class Difference:
    rule: str
    pointer: str
    message: str
    basis: Basis = DOCUMENTED  # what the compared part of the answer rests on


def run_drift(options: DriftOptions, on_progress: Progress = lambda message: None) -> RunResult:
    started = time.monotonic()
    try:
        recorded = har.read(options.har_path)
        contract = contract_for(options.api)
        writes = [(entry, m) for entry in recorded if (m := contract.match(entry.method, entry.path))]
        if not any(entry.method in WRITE_METHODS for entry, _ in writes):
            raise DriftError(f"{options.har_path}: the recording holds no write of {options.api.name}")
        with _mock_root(options, on_progress) as root:
            session = _Session(options, contract, root)
            try:
                cases = session.replay(writes, on_progress)
            finally:
                session.close()
        targets = {options.api.name: f"{root}/{options.api.name}"}
        return RunResult(cases=cases, duration=time.monotonic() - started, targets=targets, strict=options.strict)
    except (har.HarError, DriftError, TargetError) as exc:
        return RunResult(cases=[], duration=time.monotonic() - started, targets={}, fatal=str(exc))


def drift_heading(options: DriftOptions, result: RunResult) -> str:
    """What was compared: the recording, the API, the writes replayed and not replayable, the rules."""
    replayed = [case for case in result.cases if case.outcome in (Outcome.PASSED, Outcome.FAILED, Outcome.DIFFERS)]
    not_replayable = [case for case in result.cases if case.outcome == Outcome.NOT_RUN]
    lines = [
        f"Drift of {options.api.name} from {options.har_path}: {len(replayed)} write(s) replayed against the mock, "
        f"{len(not_replayable)} not replayable",
        *(f"  not replayable: {case.name}: {case.detail}" for case in not_replayable),
        f"Rules compared: {', '.join(COMPARED_RULES)}",
    ]
    return "\n".join(lines)


@contextmanager
def _mock_root(options: DriftOptions, on_progress: Progress) -> Iterator[str]:
    if options.base_url is not None:
        yield options.base_url.rstrip("/")
        return
    on_progress("starting the bundled mock")
    try:
        with bundled_mock() as url:
            yield url
    except (OSError, MockStartError) as exc:
        raise DriftError(f"cannot start the bundled mock: {exc}") from exc


class _Session:
    """One fresh tenant of the mock, the records' states as the recording shows them, and the replays."""

    def __init__(self, options: DriftOptions, contract: ApiContract, root: str) -> None:
        self.api = options.api
        self.har_path = options.har_path
        self.contract = contract
        self.root = root
        tenant = f"drift-{secrets.token_hex(4)}"
        self.target: Target = resolve_target(
            self.api, base_url=f"{root}/{self.api.name}", bundled=True, tenant=tenant, target_file=options.target_file
        )
        self.token = self.target.credentials.token_value(BUNDLED_MOCK_TOKEN)
        self.redaction = har.Redaction(secrets=frozenset({self.token}))
        self.client = httpx.Client(timeout=options.timeout)
        self.states: dict[str, Any] = {}  # record path -> the record as the recording last showed it

    def close(self) -> None:
        self.client.close()

    def replay(self, entries: list[tuple[har.Recorded, Matched]], on_progress: Progress) -> list[CaseResult]:
        cases = []
        for entry, matched in entries:
            if entry.method in WRITE_METHODS:
                on_progress(f"drift {self.api.name}: entry {entry.index}")
                cases.append(self._case(entry, matched))
            if 200 <= entry.status < 300 and isinstance(entry.response_json(), dict):
                self.states[matched.path] = entry.response_json()
        return cases

    def _case(self, entry: har.Recorded, matched: Matched) -> CaseResult:
        started = time.monotonic()
        case = CaseResult(
            api=self.api.name,
            suite=Suite.DRIFT,
            name=f"entry {entry.index}: {entry.method} {matched.path}",
            title=f"drift of {matched.operation.label}",
            outcome=Outcome.PASSED,
            source=f"{self.har_path} entry {entry.index} ({entry.started}), credentials {entry.credential}",
        )
        try:
            credentials = self._credentials(entry)
        except NotReplayable as exc:
            case.outcome, case.detail = Outcome.NOT_RUN, f"not replayable: {exc}"
            return case
        try:
            self._set_clock(entry)
            seeding = self._seed(matched)
            response = self._send(entry, matched, credentials)
        except (httpx.TransportError, DriftError) as exc:
            case.outcome, case.detail = Outcome.ERROR, self.redaction.text(str(exc))
            return case
        exchange = self._exchange(response)
        case.exchanges.append(exchange)
        case.violations.extend(replace(finding, exchange=exchange) for finding in seeding)
        vendor_answer = f"the vendor answered {entry.status}\n\n{_shown(entry.response_body)}"
        for difference in compare(self.contract, matched, entry, response):
            case.violations.append(
                Violation(
                    rule=difference.rule,
                    message=f"{difference.rule}: at {difference.pointer or '(body)'}: {difference.message}",
                    expected=vendor_answer,
                    exchange=exchange,
                    subject=difference.pointer,
                    basis=difference.basis,
                )
            )
        # the mock's own answer is judged by the same checks as the vendor's answers in the proxy
        for finding in judge(self.contract, _judged(entry, matched, response)).findings:
            case.violations.append(
                Violation(
                    rule=f"mock.{finding.rule}",
                    message=f"mock.{finding.rule}: the mock's answer, at {finding.location}: {finding.message}",
                    expected="the documented behaviour (openapi/ and the vendor module)",
                    exchange=exchange,
                    basis=finding.basis,
                )
            )
        case.outcome = Outcome.FAILED if case.violations else Outcome.PASSED
        case.settle()
        case.duration = time.monotonic() - started
        return case

    def _set_clock(self, entry: har.Recorded) -> None:
        date = entry.response_headers.get("date")
        if not date:
            return
        try:
            today = email.utils.parsedate_to_datetime(date).date()
        except (TypeError, ValueError):
            raise DriftError(f"entry {entry.index}: unreadable Date header {date!r}") from None
        self._admin("POST", "/clock", json={"today": today.isoformat()})

    def _credentials(self, entry: har.Recorded) -> dict[str, str]:
        """Headers carrying credentials of the recorded class, for the mock."""
        credentials, variables = self.target.credentials, self.target.variables
        match entry.credential:
            case har.CredentialClass.ACCEPTED:
                return credentials.headers()
            case har.CredentialClass.ABSENT:
                return credentials.org()
            case har.CredentialClass.REFUSED_401:
                unknown = str(variables.get("invalid_token") or f"unknown-{secrets.token_hex(8)}")
                return {**credentials.org(), **credentials.authorization(unknown)}
            case har.CredentialClass.REFUSED_403:
                if not isinstance(variables.get("readonly_token"), str):
                    raise NotReplayable("refused with 403, and the target file names no readonly_token")
                return {**credentials.org(), **credentials.authorization(variables["readonly_token"])}
            case har.CredentialClass.OTHER_ORGANISATION:
                other = variables.get("other_org_id")
                if credentials.org_header is None or other is None:
                    raise NotReplayable("another organisation's, and the target file names no other_org_id")
                return {credentials.org_header: str(other), **credentials.authorization()}
        raise NotReplayable(f"credentials of class {entry.credential}")  # pragma: no cover - every class is matched

    def _seed(self, matched: Matched) -> list[Violation]:
        """Bring the record to the recorded state; the recorded record's departures from the schema are findings."""
        state = self.states.get(matched.path)
        resource = self.contract.resource(matched)
        if state is None or resource is None:
            return []  # nothing recorded before this write: the mock's own seed stands
        schema = self.contract.resource_schema(resource)
        findings = [
            Violation(
                rule=VENDOR_SCHEMA_RULE,
                message=f"{VENDOR_SCHEMA_RULE}: the vendor's record, at {pointer or '(record)'}: {message} "
                f"(vendor value {_shown_value(state, pointer)})",
                expected=f"the vendor answered a record that does not match the response schema "
                f"{resource.view_schema}\n\n{_shown(json.dumps(state))}",
                subject=pointer,
                basis=basis,
            )
            for pointer, message, basis in self.contract.classified_errors(schema, state, response=True)
        ]
        if findings:
            state = self._nearest_valid(matched, schema, state)
        (record_id,) = matched.parameters.values()
        path = f"/records/{self.api.name}/{resource.collection}/{record_id}"
        if state is not None:
            self._admin("PUT", path, json=state, headers={"X-Tenant-Token": self.token})
        return findings

    def _nearest_valid(self, matched: Matched, schema: dict[str, Any], state: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded record with each member that breaks the schema as the mock has it (or left out);
        None when that is still not valid (the mock's own record then stands)."""
        response = self.client.get(f"{self.target.base_url}{matched.path}", headers=self.target.credentials.headers())
        own = _json(response) if response.status_code == 200 else None
        own = own if isinstance(own, dict) else {}
        fixed = dict(state)
        validator = schema_validator(schema, response=True)
        for _ in range(NEAREST_VALID_PASSES):
            errors = list(validator.iter_errors(fixed))
            if not errors:
                return fixed
            for error in errors:
                members = [str(error.absolute_path[0])] if error.absolute_path else _required_missing(error)
                for member in members:
                    if member in own:
                        fixed[member] = own[member]
                    else:
                        fixed.pop(member, None)
        return None if any(validator.iter_errors(fixed)) else fixed

    def _admin(self, method: str, path: str, **kwargs: Any) -> None:
        response = self.client.request(method, f"{self.root}/__admin{path}", **kwargs)
        if response.status_code >= 400:
            raise DriftError(f"the mock refused {method} /__admin{path}: {response.status_code} {response.text}")

    def _send(self, entry: har.Recorded, matched: Matched, credentials: dict[str, str]) -> httpx.Response:
        headers = {
            name: value
            for name, value in entry.request_headers.items()
            # HTTP/2 pseudo-headers (`:authority`) appear in browsers' recordings; they are not headers to send
            if name not in NOT_REPLAYED and value != har.REDACTED and not name.startswith(":")
        }
        headers.update(credentials)
        url = f"{self.target.base_url}{matched.path}" + (f"?{entry.query}" if entry.query else "")
        body = (entry.request_body or "").encode()
        return self.client.request(entry.method, url, headers=headers, content=body)

    def _exchange(self, response: httpx.Response) -> Exchange:
        request = response.request
        return Exchange(
            method=request.method,
            url=self.redaction.text(str(request.url)),
            request_headers={
                name: har.REDACTED if name.lower() in har.ALWAYS_REDACTED_HEADERS else self.redaction.text(value)
                for name, value in request.headers.items()
                if name.lower() not in ("host", "accept-encoding", "connection", "user-agent", "accept")
            },
            request_body=self.redaction.text(request.content.decode("utf-8", errors="replace")) or None,
            status=response.status_code,
            response_headers={"content-type": response.headers.get("content-type", "")},
            response_body=self.redaction.text(response.text) or None,
        )


def _judged(entry: har.Recorded, matched: Matched, response: httpx.Response) -> CheckedExchange:
    request = response.request
    return CheckedExchange(
        method=entry.method,
        path=matched.path,
        query=entry.query,
        request_headers={name.lower(): value for name, value in request.headers.items()},
        request_body=request.content,
        status=response.status_code,
        response_headers={name.lower(): value for name, value in response.headers.items()},
        response_body=response.content,
    )


def _required_missing(error: Any) -> list[str]:
    """The members a `required` error at the record's top names as missing (read from the error's data)."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return []
    return [str(name) for name in error.validator_value if name not in error.instance]


def _shown_value(document: Any, pointer: str) -> str:
    value = _at(document, pointer)
    return "(absent)" if value is _ABSENT else json.dumps(value, ensure_ascii=False)


def _shown(body: str | None) -> str:
    if not body:
        return "(no body)"
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body
    return text if len(text) <= MAX_SHOWN_BODY else text[:MAX_SHOWN_BODY] + "…"


# --- comparing two answers ---------------------------------------------------------------------


def compare(contract: ApiContract, matched: Matched, vendor: har.Recorded, mock: httpx.Response) -> list[Difference]:
    """The differences between the two answers, each classed by what the spec says of the part compared."""
    definition = matched.definition
    if vendor.status != mock.status_code:  # the mock answers the status the spec says the vendor answers
        message = f"the vendor answered {vendor.status}, the mock {mock.status_code}"
        return [Difference("drift.status", "", message, status_basis(definition, mock.status_code))]
    declared = response_basis(definition, mock.status_code)
    schema = contract.response_schema(matched, mock.status_code, media_type(mock.headers.get("content-type")))
    return [
        replace(difference, basis=weakest([declared, member_basis(schema or {}, difference.pointer)]))
        for difference in _differences(contract, matched, vendor, mock)
    ]


def _differences(
    contract: ApiContract, matched: Matched, vendor: har.Recorded, mock: httpx.Response
) -> list[Difference]:
    expected, actual = vendor.response_json(), _json(mock)
    if expected is None or actual is None:
        return []
    differences = list(_structure(expected, actual, ""))
    if vendor.status >= 400:
        differences += _error_fields(expected, actual)
        return differences
    for pointer, _ in sent_values(vendor.request_json()):
        differences += _value_at(expected, actual, pointer, "drift.values", "a member the request set")
    resource = contract.resource(matched)
    for member in resource.derived if resource else ():
        differences += _value_at(expected, actual, f"/{member}", "drift.derived", "a derived member")
    return differences


def _json(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _structure(expected: Any, actual: Any, pointer: str) -> Iterator[Difference]:
    """Members present in one answer and not the other, and members of different JSON types."""
    if _kind(expected) != _kind(actual):
        yield Difference("drift.types", pointer, f"the vendor's is {_kind(expected)}, the mock's is {_kind(actual)}")
        return
    if isinstance(expected, dict):
        for name in expected.keys() - actual.keys():
            yield Difference("drift.members", f"{pointer}/{name}", "the vendor's answer has it, the mock's does not")
        for name in actual.keys() - expected.keys():
            yield Difference("drift.members", f"{pointer}/{name}", "the mock's answer has it, the vendor's does not")
        for name in expected.keys() & actual.keys():
            yield from _structure(expected[name], actual[name], f"{pointer}/{name}")
    elif isinstance(expected, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            yield from _structure(left, right, f"{pointer}/{index}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "string"


def _value_at(expected: Any, actual: Any, pointer: str, rule: str, what: str) -> list[Difference]:
    left, right = _at(expected, pointer), _at(actual, pointer)
    if left is _ABSENT or right is _ABSENT or left == right:
        return []  # absence is reported by drift.members
    return [Difference(rule, pointer, f"{what}: the vendor shows {json.dumps(left)}, the mock {json.dumps(right)}")]


_ABSENT = object()


def _at(document: Any, pointer: str) -> Any:
    """The member a JSON pointer names, or `_ABSENT`."""
    try:
        return resolve_pointer(document, pointer, _ABSENT)
    except JsonPointerException:  # not a pointer, or it walks through a scalar
        return _ABSENT


def _error_fields(expected: Any, actual: Any) -> list[Difference]:
    """The fields each error names: members whose name says they name a field, at any depth."""
    named_by_vendor, named_by_mock = _named_fields(expected), _named_fields(actual)
    if named_by_vendor == named_by_mock:
        return []
    return [
        Difference(
            "drift.error-fields",
            "",
            f"the vendor's errors name {sorted(named_by_vendor)}, the mock's {sorted(named_by_mock)}",
        )
    ]


def _named_fields(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for name, value in node.items():
            if "field" in name.lower() and isinstance(value, str):
                found.add(value)
            found |= _named_fields(value)
    elif isinstance(node, list):
        for item in node:
            found |= _named_fields(item)
    return found
