"""Credentials in recordings: the proxy keeps each exchange's credential class (never the secret) and drift
replays that class, against real loopback upstreams (the mock, and the mock answering refusals with 403)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from conformance.apis import Api
from conformance.drift import DriftOptions, run_drift
from conformance.exchange_spec import contract_for
from conformance.results import Evidence, ExitCode, Outcome
from conformance.target import resolve_target
from launcher.servers import serving
from mock_server.app import create_app
from mock_server.config import Settings
from recordings.har import CREDENTIAL_MEMBER, CredentialClass
from tests.support import departures
from tests.support.departures import Rewrite, example_write, first_id, mock, proxying, refusals_as_403

TENANT = "credentials"


@pytest.fixture(scope="module")
def mock_root() -> Iterator[str]:
    with serving(create_app(Settings(today=None))) as url:
        yield url


def credential_calls(api: Api, base_url: str) -> list[tuple[CredentialClass, httpx.Response]]:
    """A read with the default token, then the spec's example write with each class of credentials."""
    target = resolve_target(api, base_url=base_url, bundled=True)
    variables, org_header = target.variables, target.credentials.org_header
    prefix = target.credentials.auth_prefix
    org = target.credentials.org()
    vendor = contract_for(api).vendor
    assert vendor is not None
    template, resource = next(iter(vendor.resources.items()))
    (parameter,) = [part[1:-1] for part in template.split("/") if part.startswith("{")]
    path = template.replace(f"{{{parameter}}}", first_id(api, resource.collection))
    write = example_write(api, template)
    assert write is not None
    method, media_type, body = write
    good = {"Authorization": f"{prefix} dev-token.{TENANT}"}
    sends = [
        (CredentialClass.ACCEPTED, "GET", {**org, **good}),
        (CredentialClass.ABSENT, method, org),
        (CredentialClass.REFUSED_401, method, {**org, "Authorization": f"{prefix} {variables['invalid_token']}"}),
        (
            CredentialClass.REFUSED_403,
            method,
            {**org, "Authorization": f"{prefix} {variables['readonly_token']}.{TENANT}"},
        ),
    ]
    if org_header is not None:
        sends.append((CredentialClass.OTHER_ORGANISATION, method, {**good, org_header: variables["other_org_id"]}))
    answers = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for expected, verb, headers in sends:
            content = body if verb != "GET" else None
            answers.append(
                (expected, client.request(verb, path, headers={**headers, "Content-Type": media_type}, content=content))
            )
    return answers


def record(api: Api, upstream: str, har_path: Path) -> list[tuple[CredentialClass, httpx.Response]]:
    with proxying(upstream, api, record=har_path) as (proxy, _):
        return credential_calls(api, proxy)


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_the_recording_keeps_each_credential_class_and_drift_replays_it(
    api: Api, mock_root: str, tmp_path: Path
) -> None:
    har_path = tmp_path / "credentials.har"
    with serving(mock(api)) as upstream:
        sent = record(api, f"{upstream}/{api.name}", har_path)

    text = har_path.read_text(encoding="utf-8")
    entries = json.loads(text)["log"]["entries"]
    # a vendor may refuse a token without the grant with 401 (aBILLity does): the class is what the answer says
    expected = [
        CredentialClass.REFUSED_401 if cls == CredentialClass.REFUSED_403 and response.status_code == 401 else cls
        for cls, response in sent
    ]
    assert [entry[CREDENTIAL_MEMBER]["class"] for entry in entries] == [cls.value for cls in expected]
    assert "dev-token" not in text and "readonly-token" not in text and "not-a-valid-token" not in text
    result = run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root))
    assert [case.outcome for case in result.cases] == [Outcome.PASSED] * (len(sent) - 1), [
        (case.name, case.detail, [v.message for v in case.violations]) for case in result.cases
    ]
    assert result.exit_code == ExitCode.CONFORMS


def test_a_class_the_target_cannot_replay_is_reported_not_replayable(mock_root: str, tmp_path: Path) -> None:
    api = next(api for api in departures.APIS if api.org_header is not None)
    har_path = tmp_path / "credentials.har"
    with serving(mock(api)) as upstream:
        sent = record(api, f"{upstream}/{api.name}", har_path)
    refused_403 = sum(1 for _, response in sent if response.status_code == 403) - 1  # one is another organisation's
    target_file = tmp_path / "target.yaml"
    variables = yaml.safe_load(api.default_target_file.read_text(encoding="utf-8"))
    for name in ("readonly_token", "other_org_id"):
        variables["variables"].pop(name)
    target_file.write_text(yaml.safe_dump(variables), encoding="utf-8")

    result = run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root, target_file=target_file))

    not_replayable = [case.detail for case in result.cases if case.outcome == Outcome.NOT_RUN]
    assert len(not_replayable) == refused_403 + 1
    assert all(detail.startswith("not replayable:") for detail in not_replayable)
    assert "other_org_id" in not_replayable[-1]
    assert all("readonly_token" in detail for detail in not_replayable[:-1])
    assert result.exit_code == ExitCode.CONFORMS


@pytest.mark.parametrize("api", departures.APIS, ids=lambda api: api.name)
def test_a_vendor_answering_missing_credentials_with_403_drifts(api: Api, mock_root: str, tmp_path: Path) -> None:
    har_path = tmp_path / "credentials.har"
    with serving(Rewrite(mock(api), refusals_as_403(api))) as upstream:
        record(api, f"{upstream}/{api.name}", har_path)

    result = run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root))

    absent = next(case for case in result.cases if "credentials absent" in case.source)
    assert [violation.rule for violation in absent.violations] == ["drift.status"]
    assert "the vendor answered 403, the mock 401" in absent.violations[0].message
    # the class is the spec's mark on the 401 the mock answers: several specs mark the whole response x-likely
    method, path = absent.name.split(": ", 1)[1].split(" ", 1)
    matched = contract_for(api).match(method, path)
    assert matched is not None
    if matched.definition["responses"]["401"].get("x-likely") is True:
        assert absent.violations[0].evidence == Evidence.INFERRED and absent.outcome == Outcome.DIFFERS
        assert result.exit_code == ExitCode.CONFORMS
        strict = run_drift(DriftOptions(api=api, har_path=har_path, base_url=mock_root, strict=True))
        assert strict.exit_code == ExitCode.VIOLATIONS
    else:
        assert absent.violations[0].evidence == Evidence.DOCUMENTED
        assert result.exit_code == ExitCode.VIOLATIONS
