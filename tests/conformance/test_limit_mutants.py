"""A target that does not enforce one documented limit is flagged, for every kind of limit of every API.

The mutants are generated from the specs, not picked by hand: for each API and each kind of limit
(`maxLength`, `minimum`, `maximum`, `enum`), the first documented limit the boundary suite knows is
dropped from the spec the mock serves, so the mock (its own process, `contract-mock serve --specs …`)
accepts a value past it. The harness, reading the unchanged spec, must report a documented violation
(exit 1) naming the member and the limit. The control, the unchanged mock, is flagged for nothing
(`test_cli.py::test_bundled_mock_conforms`).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.apis import Api, discover
from conformance.boundaries import INVALID_VALUE_ACCEPTED, limit_basis, past_limits
from conformance.fuzz import DEFAULT_MAX_EXAMPLES
from conformance.invariants import UpdateModel
from conformance.results import Evidence, ExitCode, RunResult
from conformance.run import RunOptions, SuiteChoice, run_api
from conformance.target import resolve_target
from launcher.servers import bundled_mock
from vendor_facts import resources

SEED = 20261206
KINDS = ("maxLength", "minimum", "maximum", "enum")


@dataclass(frozen=True)
class Mutant:
    api: str
    member: str
    kind: str

    @property
    def id(self) -> str:
        return f"{self.api}:{self.member}:{self.kind}"


def _documented_limits(api: Api) -> Iterator[Mutant]:
    model = UpdateModel(api)
    for operation in api.operations():
        if not model.checked(operation) or operation.method not in ("PUT", "PATCH"):
            continue
        for media_type in operation.definition.get("requestBody", {}).get("content", {}):
            members = (
                model.record_members(operation)
                if model.semantics(operation) == "json-patch"
                else model.request_members(operation, media_type)
            )
            for member, schema in members.items():
                for case in past_limits(member, schema, api):
                    if limit_basis(model, operation, media_type, member, case.kind).documented:
                        yield Mutant(api.name, member, case.kind)


def mutants() -> list[Mutant]:
    """The first documented limit of each kind, per API."""
    chosen: dict[tuple[str, str], Mutant] = {}
    for api in discover().values():
        for mutant in _documented_limits(api):
            chosen.setdefault((mutant.api, mutant.kind), mutant)
    return sorted(chosen.values(), key=lambda mutant: (mutant.api, KINDS.index(mutant.kind)))


def without_limit(document: Any, member: str, keyword: str) -> int:
    """Drop `keyword` from every schema of a member named `member`; how many were changed."""
    changed = 0
    if isinstance(document, dict):
        properties = document.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get(member), dict):
            for part in _parts(properties[member]):
                if keyword in part:
                    del part[keyword]
                    changed += 1
        for child in document.values():
            changed += without_limit(child, member, keyword)
    elif isinstance(document, list):
        for child in document:
            changed += without_limit(child, member, keyword)
    return changed


def _parts(schema: dict[str, Any]) -> list[dict[str, Any]]:
    parts = [part for key in ("allOf", "anyOf", "oneOf") for part in schema.get(key, [])]
    return [schema, *(part for part in parts if isinstance(part, dict))]


def mutant_specs(mutant: Mutant, directory: Path) -> Path:
    """A copy of the bundled specs in which `mutant.api`'s spec no longer states the limit."""
    shutil.copytree(resources.spec_dir(), directory)
    path = directory / f"{mutant.api}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert without_limit(document, mutant.member, mutant.kind), f"{mutant.id}: the spec states no such limit"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return directory


def test_every_api_has_a_mutant_per_kind_of_limit_it_documents() -> None:
    kinds = {(mutant.api, mutant.kind) for mutant in mutants()}
    assert {api for api, _ in kinds} == set(discover()), "an API documents no limit the boundary suite checks"
    assert ("revnue", "maxLength") in kinds and ("elevate", "maximum") in kinds


@pytest.mark.parametrize("mutant", mutants(), ids=lambda mutant: mutant.id)
def test_a_limit_the_target_does_not_enforce_is_a_documented_violation(mutant: Mutant, tmp_path: Path) -> None:
    api = discover()[mutant.api]
    specs = mutant_specs(mutant, tmp_path / "specs")
    with bundled_mock("--specs", str(specs), "--api", api.name) as url:
        target = resolve_target(api, base_url=f"{url}/{api.name}", bundled=True, tenant=f"m-{uuid.uuid4().hex[:8]}")
        options = RunOptions(apis=[api], suite=SuiteChoice.BOUNDARIES, max_examples=DEFAULT_MAX_EXAMPLES, seed=SEED)
        results = run_api(target, options, seed=SEED, on_progress=lambda message: None)

    flagged = [
        violation
        for result in results
        for violation in result.violations
        if violation.rule == INVALID_VALUE_ACCEPTED and violation.subject == mutant.member
    ]
    assert flagged, f"{mutant.id} not flagged: {[(r.name, r.outcome, r.detail) for r in results]}"
    assert all(violation.evidence == Evidence.DOCUMENTED for violation in flagged)
    assert f"({mutant.kind})" in flagged[0].message and mutant.member in flagged[0].message
    for result in results:
        result.settle()
    assert RunResult(cases=results, duration=0, targets={}).exit_code == ExitCode.VIOLATIONS
