"""What the specs infer rather than take from the vendors' documents: the list a partner must confirm.

An inference is marked in a spec in one of two ways, each with the sentence it rests on:
- a node (schema, property, parameter, response, operation…) with `x-likely: true` and
  `x-likely-source: "<seed sentence or vendors.md line>"`; its `description` says what is inferred;
- an entry of an operation's `x-likely-rules`: `{rule: "…", source: "…"}`, for rules that only the
  mock's behaviour shows (cross-field checks, derived values).
The specs are read unresolved, so that each inference is listed once, where it is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_model import load_yaml

LIKELY = "x-likely"
SOURCE = "x-likely-source"
RULES = "x-likely-rules"


@dataclass(frozen=True)
class Inference:
    api: str
    where: str  # a JSON Pointer into the spec
    claim: str
    source: str  # "" when the spec does not give one (a spec error, see `unsourced`)


def spec_inferences(api: str, document: Any) -> list[Inference]:
    return list(_walk(api, document, ""))


def load_inferences(spec_dir: Path, apis: list[str] | None = None) -> list[Inference]:
    """Every inference of every spec in `spec_dir` (or only those of `apis`), in a stable order."""
    found: list[Inference] = []
    for path in sorted(spec_dir.glob("*.yaml")):
        if apis and path.stem not in apis:
            continue
        with path.open(encoding="utf-8") as handle:
            found += spec_inferences(path.stem, load_yaml(handle))
    return found


def unsourced(inferences: list[Inference]) -> list[Inference]:
    return [inference for inference in inferences if not inference.source]


def _walk(api: str, node: Any, where: str) -> Iterator[Inference]:
    if isinstance(node, dict):
        if node.get(LIKELY) is True:
            yield Inference(api, where or "/", _claim(node), str(node.get(SOURCE, "")).strip())
        for index, rule in enumerate(node.get(RULES) or []):
            claim, source = (rule.get("rule", ""), rule.get("source", "")) if isinstance(rule, dict) else (rule, "")
            yield Inference(api, f"{where}/{RULES}/{index}", _one_line(str(claim)), str(source).strip())
        for key, child in node.items():
            if key not in (RULES, "example", "examples"):
                yield from _walk(api, child, f"{where}/{_escape(str(key))}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _walk(api, child, f"{where}/{index}")


def _claim(node: dict[str, Any]) -> str:
    text = str(node.get("description") or node.get("summary") or "")
    return _one_line(text) or "(no description)"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
