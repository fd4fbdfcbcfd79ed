"""Load scenario files, validating each against `schema.json` with errors naming file, line, step and key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from conformance.scenarios.matchers import unknown_matchers
from conformance.scenarios.model import Scenario, Step
from conformance.scenarios.template import referenced_names
from openapi_model.evidence import Basis, Evidence

SCHEMA_PATH = Path(__file__).with_name("schema.json")
BODY_KEYS = ("json", "form", "body")


class ScenarioError(Exception):
    """A scenario file that cannot be used, with every problem found in it."""

    def __init__(self, file: Path, problems: Sequence[str]) -> None:
        self.file = file
        self.problems = list(problems)
        super().__init__(f"{file}: invalid scenario\n" + "\n".join(f"  - {problem}" for problem in self.problems))


@dataclass(frozen=True)
class Loaded:
    """The valid scenarios of a directory, and a `ScenarioError` for each file that is not."""

    scenarios: list[Scenario]
    errors: list[ScenarioError]


@cache
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def scenario_files(directory: Path) -> list[Path]:
    return sorted(path for pattern in ("*.yaml", "*.yml") for path in directory.glob(pattern))


def load_directory(directory: Path, api: str) -> Loaded:
    return load_files(scenario_files(directory), api)


def load_files(files: Iterable[Path], api: str) -> Loaded:
    scenarios: list[Scenario] = []
    errors: list[ScenarioError] = []
    for file in files:
        try:
            scenarios.append(load_file(file, api))
        except ScenarioError as exc:
            errors.append(exc)
    duplicates = list(_duplicate_ids(scenarios))
    errors.extend(duplicates)
    rejected = {error.file for error in duplicates}
    return Loaded([scenario for scenario in scenarios if scenario.file not in rejected], errors)


def load_file(file: Path, api: str) -> Scenario:
    text = file.read_text(encoding="utf-8")
    try:
        document = _parse(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(file, [_yaml_problem(exc)]) from None
    errors = list(validator().iter_errors(document))
    root = yaml.compose(text) if errors else None  # the nodes' lines, only to say where a problem is
    problems = sorted((_describe(error, document, root) for error in errors), key=_by_line)
    if not problems:
        problems = list(_semantic_problems(document))
    if problems:
        raise ScenarioError(file, problems)
    return _build(document, file, api)


def _parse(text: str) -> Any:
    """The document, read by libyaml when PyYAML has it (same constructors, a tenth of the time); a file it
    refuses is read again by the pure-Python parser, whose error names the line and the problem."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)  # the safe loader, in C
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    hint = " (quote values that contain ${...} inside {...} flow mappings)" if "{" in str(exc) else ""
    return f"{where}not valid YAML: {problem}{hint}"


def _describe(error: ValidationError, document: Any, root: yaml.Node | None) -> str:
    path = list(error.absolute_path)
    line = _line_of(root, [*path, *_unexpected_keys(error)[:1]])
    where = _location(path, document)
    prefix = f"line {line}: " if line else ""
    return f"{prefix}{where}: {error.message}" if where else f"{prefix}{error.message}"


def _by_line(problem: str) -> tuple[int, str]:
    head = problem.split(":", 1)[0]
    return (int(head.removeprefix("line ")), problem) if head.startswith("line ") else (0, problem)


def _unexpected_keys(error: ValidationError) -> list[str]:
    """The keys an `additionalProperties: false` error is about, to point at their line."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    return [key for key in error.instance if key not in known and not any(re.search(p, key) for p in patterns)]


def _location(path: Sequence[Any], document: Any) -> str:
    """`step 2 (patch only the name) › request › json` for a path inside the document."""
    parts: list[str] = []
    index = 0
    while index < len(path):
        key = path[index]
        if key == "steps" and index + 1 < len(path) and isinstance(path[index + 1], int):
            number = path[index + 1]
            step = document["steps"][number] if isinstance(document, dict) else None
            name = step.get("name") if isinstance(step, dict) else None
            parts.append(f"step {number + 1} ({name})" if name else f"step {number + 1}")
            index += 2
            continue
        parts.append(f"[{key}]" if isinstance(key, int) else str(key))
        index += 1
    return " › ".join(parts)


def _line_of(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((value for name, value in node.value if name.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


def _semantic_problems(document: dict[str, Any]) -> Iterator[str]:
    """What the JSON Schema cannot say: one body per request, known matchers, captures used after they exist."""
    captured: set[str] = set()
    later_captures = {name for step in document["steps"] for name in step.get("capture", {})}
    for number, step in enumerate(document["steps"], start=1):
        label = f"step {number} ({step['name']})" if step.get("name") else f"step {number}"
        request = step["request"]
        bodies = [key for key in BODY_KEYS if key in request]
        if len(bodies) > 1:
            yield f"{label} › request: use only one of {', '.join(bodies)}"
        if "body" in request and "content_type" not in request:
            yield f"{label} › request: a raw `body` needs a `content_type`"
        for problem in unknown_matchers(step["expect"].get("body")):
            yield f"{label} › expect › body {problem}"
        for problem in unknown_matchers(step["expect"].get("headers", {})):
            yield f"{label} › expect › headers {problem}"
        for name in referenced_names([request, step["expect"]]):
            if name in later_captures and name not in captured:
                yield f"{label}: uses ${{{name}}} before the step that captures it"
        captured.update(step.get("capture", {}))


def _build(document: dict[str, Any], file: Path, api: str) -> Scenario:
    steps = tuple(
        Step(
            number=number,
            name=str(step.get("name", "")),
            request=step["request"],
            expect=step["expect"],
            capture=dict(step.get("capture", {})),
            basis=Basis(Evidence(step["evidence"]), str(step.get("because", ""))) if "evidence" in step else None,
        )
        for number, step in enumerate(document["steps"], start=1)
    )
    return Scenario(
        id=document["id"],
        title=document["title"],
        api=api,
        file=file,
        steps=steps,
        source=str(document.get("source", "")),
        description=str(document.get("description", "")),
        declares_writes=bool(document.get("writes", False)),
        requires=tuple(document.get("requires", ())),
        restore=tuple(document.get("restore", ())),
        basis=scenario_basis(document),
    )


def scenario_basis(document: Mapping[str, Any]) -> Basis:
    """The scenario's own `evidence`, else its source's word: `likely` (or no source at all) is an inference."""
    source = str(document.get("source", ""))
    if "evidence" in document:
        return Basis(Evidence(document["evidence"]), source)
    if not source:
        return Basis(Evidence.INFERRED, "the scenario names no source in the vendor's documents")
    if "likely" in f"{source} {document.get('title', '')}".lower():
        return Basis(Evidence.INFERRED, source)
    return Basis(Evidence.DOCUMENTED, source)


def _duplicate_ids(scenarios: Sequence[Scenario]) -> Iterator[ScenarioError]:
    first: dict[str, Path] = {}
    for scenario in scenarios:
        if scenario.id in first:
            yield ScenarioError(scenario.file, [f"id {scenario.id!r} is already used by {first[scenario.id]}"])
        else:
            first[scenario.id] = scenario.file
