"""The rule matrix: every documented rule of an API → what checks it → its result in a run.

Rules come from the spec only:
- each rule the spec states in prose: a bullet of an operation's description, or an entry of its
  `x-likely-rules`, with the sentence it rests on; a scenario checks it when one of the scenario's
  writes sends a member the sentence names (in backticks) or the scenario's title names one;
- each documented update semantics (`x-update`, `x-derived-from`): checked by the invariants
  around every write;
- each limit of a writable member (enum, maxLength, minimum, maximum, alternative types): checked by
  the generated boundary cases (valid side) and by fuzzing's negative data (invalid side).
Rules checked by nothing are listed first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from conformance.apis import Api, Operation
from conformance.boundaries import limit_basis
from conformance.invariants import INVARIANTS, UpdateModel
from conformance.results import CaseResult, Outcome, Suite
from conformance.scenarios.loader import load_directory
from conformance.scenarios.model import Scenario
from openapi_model import properties
from openapi_model.evidence import DOCUMENTED, Basis, Evidence, node_basis, weakest

_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NAMED = re.compile(r"`/?([A-Za-z_][A-Za-z0-9_]*)")
BOUNDARIES = "boundaries"
LIMITS = ("enum", "maxLength", "minimum", "maximum", "anyOf", "oneOf")


@dataclass
class Rule:
    id: str
    sentence: str  # the documented sentence the rule rests on
    checked_by: list[str] = field(default_factory=list)  # scenario ids, invariant ids, generated checks
    result: str = "unchecked"
    basis: Basis = DOCUMENTED  # documented, or inferred (and from what)

    @property
    def evidence(self) -> Evidence:
        return self.basis.evidence

    @property
    def source(self) -> str:
        return self.basis.source

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sentence": self.sentence,
            "evidence": self.evidence.value,
            "source": self.source,
            "checked_by": self.checked_by,
            "result": self.result,
        }


def rule_matrix(api: Api, results: Iterable[CaseResult] = ()) -> list[Rule]:
    """The API's rules, unchecked first, each with its checks and (given a run's results) its result."""
    scenarios = _scenarios(api.scenarios_dir, api.name)
    rules = [*_prose_rules(api, scenarios), *_semantics_rules(api), *_limit_rules(api)]
    outcomes = _outcomes(list(results))
    for rule in rules:
        rule.result = _result(rule, outcomes) if rule.checked_by else "unchecked"
    order = {"unchecked": 0, "failed": 1, "differs": 2, "error": 2, "not run": 3, "passed": 4, "checked": 4}
    return sorted(rules, key=lambda rule: order.get(rule.result, 3))


@cache
def _scenarios(directory: Path, api_name: str) -> list[Scenario]:
    """Loaded once per process: parsing every scenario file is the slow part of a matrix."""
    return load_directory(directory, api_name).scenarios if directory.is_dir() else []


def _prose_rules(api: Api, scenarios: list[Scenario]) -> list[Rule]:
    rules = []
    for operation in api.operations():
        source = str(api.model.raw.get("info", {}).get("x-source", "the vendor's documents"))
        sentences = [
            *(
                (bullet, _bullet_basis(bullet, source))
                for bullet in _bullets(str(operation.definition.get("description", "")))
            ),
            *_likely(operation),
        ]
        for number, (sentence, basis) in enumerate(sentences, start=1):
            named = set(_NAMED.findall(sentence)) | (set(re.findall(r"\w+", sentence)) & _request_members(operation))
            rule = Rule(f"{api.name}.{_operation_id(operation)}.rule-{number}", sentence, basis=basis)
            words = _words(sentence)
            rule.checked_by = [
                scenario.id
                for scenario in scenarios
                if named & _members_of(scenario)
                or len(overlap := words & _words(f"{scenario.title} {scenario.id}")) >= 2
                or (overlap and _calls(api, scenario, operation))
            ]
            rules.append(rule)
    return rules


_COMMON = {
    "must",
    "with",
    "that",
    "this",
    "from",
    "when",
    "they",
    "their",
    "them",
    "only",
    "each",
    "every",
    "other",
    "sent",
    "the",
    "contract",
    "contracts",
    "value",
    "values",
    "likely",
    "field",
    "fields",
    "member",
    "members",
}


def _words(text: str) -> set[str]:
    """Significant words, stemmed, for matching a rule's sentence with a scenario's title."""
    words = {word.lower() for word in re.findall(r"[A-Za-z]{4,}", text)}
    return {_stem(word) for word in words if word not in _COMMON and f"{word}s" not in _COMMON}


def _stem(word: str) -> str:
    """`deleted`, `deletes`, `deleting` → `delet`: enough to match a title with a rule's sentence."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _request_members(operation: Operation) -> set[str]:
    """The names of the members the operation's request bodies take, in any media type."""
    return {
        name
        for media_type in operation.request_media_types()
        for name in properties(operation.request_schema(media_type))
    }


def _calls(api: Api, scenario: Scenario, operation: Operation) -> bool:
    """Whether one of the scenario's steps is a request of `operation`."""
    return any(
        (found := api.operation_for(step.method, str(step.request["path"]))) is not None
        and found.label == operation.label
        for step in scenario.steps
    )


def _bullets(description: str) -> list[str]:
    """Bullet items of a description, continuation lines joined."""
    items: list[str] = []
    for line in description.splitlines():
        bullet = _BULLET.match(line)
        if bullet:
            items.append(bullet.group(1).strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
        elif not line.strip() and items:
            items.append("")
    return [item for item in items if item]


def _likely(operation: Operation) -> list[tuple[str, Basis]]:
    """The operation's `x-likely-rules`: each a sentence with its source (or a bare sentence)."""
    rules = []
    for entry in operation.definition.get("x-likely-rules", []):
        if isinstance(entry, Mapping):
            rules.append((str(entry.get("rule", "")), Basis(Evidence.INFERRED, str(entry.get("source", "")))))
        else:
            rules.append((str(entry), Basis(Evidence.INFERRED, "x-likely-rules")))
    return rules


def _bullet_basis(sentence: str, source: str) -> Basis:
    """A description's bullet is documented unless it says it is likely."""
    if "likely" in sentence.lower():
        return Basis(Evidence.INFERRED, "the spec marks this sentence (likely)")
    return Basis(Evidence.DOCUMENTED, source)


def _operation_id(operation: Operation) -> str:
    return str(operation.definition.get("operationId", f"{operation.method.lower()}{operation.path}"))


def _members_of(scenario: Scenario) -> set[str]:
    """Members a scenario's writes send (merge keys, JSON Patch paths, form fields) and names in its title."""
    members = set(_NAMED.findall(scenario.title)) | set(
        re.findall(r"\b([a-z]+[A-Z][A-Za-z]*|[a-z]+_[a-z_]+)\b", scenario.title)
    )
    for step in scenario.steps:
        for kind in ("json", "form"):
            body = step.request.get(kind)
            if isinstance(body, Mapping):
                members |= {str(name) for name in body}
            elif isinstance(body, list):
                members |= {str(op.get("path", "")).lstrip("/").split("/")[0] for op in body if isinstance(op, Mapping)}
    return members


def _semantics_rules(api: Api) -> list[Rule]:
    model = UpdateModel(api)
    rules = []
    for operation in api.operations():
        semantics = model.semantics(operation)
        if semantics is None:
            continue
        invariants = [name for name in INVARIANTS if _applies(name, semantics)]
        rule = Rule(
            f"{api.name}.{_operation_id(operation)}.x-update",
            f"{operation.label}: {SEMANTICS_TEXT.get(semantics, semantics)}",
            basis=model.basis(operation),
        )
        rule.checked_by = invariants if model.checked(operation) else []
        rules.append(rule)
        for member, inputs in model.derived(operation).items():
            derived = Rule(
                f"{api.name}.{member}.x-derived-from",
                f"{member} is derived from {', '.join(inputs)}"
                if inputs != ["*"]
                else f"{member} changes on every change",
                basis=model.basis(operation, node_basis(model.record_members(operation)[member], "x-derived-from")),
            )
            derived.checked_by = ["invariant:derived-member-recomputed", "invariant:unsent-member-unchanged"]
            rules.append(derived) if derived.id not in {r.id for r in rules} else None
    return rules


def _applies(invariant: str, semantics: str) -> bool:
    if invariant.endswith("replace-nulls-unsent"):
        return semantics == "replace"
    if invariant.endswith("unsent-member-unchanged"):
        return semantics != "replace"
    return True


def _limit_rules(api: Api) -> list[Rule]:
    model = UpdateModel(api)
    rules: dict[str, Rule] = {}
    for operation in api.operations():
        if not model.checked(operation) or model.semantics(operation) == "replace":
            continue
        for media_type in operation.definition.get("requestBody", {}).get("content", {}):
            for member, schema in model.request_members(operation, media_type).items():
                limits = [f"{key}={_short(schema[key])}" for key in LIMITS if key in schema]
                if not limits or f"{api.name}.{member}.limits" in rules:
                    continue
                rule = Rule(
                    f"{api.name}.{member}.limits",
                    f"{member}: {', '.join(limits)}",
                    basis=weakest(
                        limit_basis(model, operation, media_type, member, key) for key in LIMITS if key in schema
                    ),
                )
                rule.checked_by = [f"{BOUNDARIES}:{member}", BOUNDARIES, "negative_data_rejection"]
                if schema.get("x-boundaries") or schema.get("x-immutable"):
                    rule.checked_by = ["negative_data_rejection"]
                rules[rule.id] = rule
    return list(rules.values())


SEMANTICS_TEXT = {
    "partial": "a partial update: members not sent stay unchanged",
    "replace": "a full replacement: members not sent become null or their default",
    "json-patch": "a JSON Patch (RFC 6902) applied in order to the record",
}


def rules_json(matrices: Mapping[str, list[Rule]]) -> str:
    return json.dumps({api: [rule.as_dict() for rule in rules] for api, rules in matrices.items()}, indent=2) + "\n"


def rules_markdown(matrices: Mapping[str, list[Rule]]) -> str:
    """The rule matrix as Markdown tables, one per API, for a partner to share."""
    lines = []
    for api, rules in matrices.items():
        unchecked = sum(1 for rule in rules if rule.result == "unchecked")
        lines += [f"## Rules of {api}: {len(rules)}, {unchecked} checked by nothing", ""]
        lines += ["| rule | statement | class | source | checked by |", "|---|---|---|---|---|"]
        for rule in rules:
            cells = [rule.id, rule.sentence, rule.evidence.value, rule.source, ", ".join(rule.checked_by) or "nothing"]
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _outcomes(results: list[CaseResult]) -> dict[str, set[Outcome]]:
    """Outcome of every check by the names rules use: scenario ids, invariant ids, fuzz check names."""
    outcomes: dict[str, set[Outcome]] = {}
    for result in results:
        names = {result.name} if result.suite == Suite.SCENARIOS else set()
        if result.suite == Suite.FUZZ and " · " in result.name:
            names.add(result.name.rsplit(" · ", 1)[1])
        if result.suite == Suite.BOUNDARIES:
            # The case covers every member of its operation; a violation fails only the member it names.
            ran = Outcome.PASSED if result.outcome in (Outcome.PASSED, Outcome.FAILED) else result.outcome
            outcomes.setdefault(BOUNDARIES, set()).add(ran)
            for violation in result.violations:
                outcomes.setdefault(f"{BOUNDARIES}:{violation.subject}", set()).add(Outcome.FAILED)
            continue
        if (result.suite == Suite.FUZZ and result.name.endswith("update_semantics")) or result.suite == Suite.SCENARIOS:
            names |= set(INVARIANTS)
        names |= {violation.rule for violation in result.violations}
        for name in names:
            broken = [v for v in result.violations if v.rule == name]
            outcome = (
                (Outcome.FAILED if any(v.basis.documented for v in broken) else Outcome.DIFFERS)
                if broken
                else result.outcome
            )
            if name in INVARIANTS and result.outcome in (Outcome.FAILED, Outcome.DIFFERS) and not broken:
                outcome = Outcome.PASSED  # the case failed for another rule; this invariant held
            outcomes.setdefault(name, set()).add(outcome)
    return outcomes


def _result(rule: Rule, outcomes: Mapping[str, set[Outcome]]) -> str:
    seen = set().union(*(outcomes.get(name, set()) for name in rule.checked_by))
    for outcome in (Outcome.FAILED, Outcome.DIFFERS, Outcome.ERROR, Outcome.PASSED):
        if outcome in seen:
            return outcome.value
    return "not run" if seen or outcomes else "checked"
