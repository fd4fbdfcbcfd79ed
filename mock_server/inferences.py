"""What the specs infer rather than take from the vendors' documents: the list a partner must confirm.

An inference is marked in a spec in one of two ways, each with the sentence it rests on:
- a node (schema, property, parameter, response, operation…) with `x-likely: true` and
  `x-likely-source: "<seed sentence or vendors.md line>"`; its `description` says what is inferred,
  and `x-likely-rationale` (optional) says in one line why this choice;
- a node with `x-likely-keywords: [minimum, maximum]` (and `x-likely-source`): only those keywords
  of the node are inferred, the rest of it is documented;
- an entry of an operation's `x-likely-rules`: `{rule: "…", source: "…", rationale: "…"}`, for
  rules that only the mock's behaviour shows (cross-field checks, derived values).
The specs are read unresolved, so that each inference is listed once, where it is written.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_model import load_yaml

LIKELY = "x-likely"
SOURCE = "x-likely-source"
RATIONALE = "x-likely-rationale"
RULES = "x-likely-rules"
KEYWORDS = "x-likely-keywords"
FORMATS = ("text", "markdown", "csv", "json")
WIDTH = 80
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Inference:
    api: str
    where: str  # a JSON Pointer into the spec
    claim: str
    source: str  # "" when the spec does not give one (a spec error, see `unsourced`)
    rationale: str = ""  # one line: why this choice (for the ones that decide valid requests or shapes)

    @property
    def location(self) -> str:
        """`where` for a reader: `PATCH /contract/{id} › rule 1`, `schema ContractCreate`."""
        return readable_location(self.where)


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
        rationale = _one_line(str(node.get(RATIONALE) or ""))
        if node.get(LIKELY) is True:
            yield Inference(api, where or "/", _claim(node), str(node.get(SOURCE, "")).strip(), rationale)
        elif node.get(KEYWORDS):
            keywords = ", ".join(f"`{keyword}`" for keyword in node[KEYWORDS])
            claim = f"{keywords} (only): {_claim(node)}"
            yield Inference(api, where or "/", claim, str(node.get(SOURCE, "")).strip(), rationale)
        for index, rule in enumerate(node.get(RULES) or []):
            if isinstance(rule, dict):
                claim, source = rule.get("rule", ""), rule.get("source", "")
                rationale = _one_line(str(rule.get("rationale") or ""))
            else:
                claim, source, rationale = rule, "", ""
            yield Inference(api, f"{where}/{RULES}/{index}", _one_line(str(claim)), str(source).strip(), rationale)
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


def _unescape(key: str) -> str:
    return key.replace("~1", "/").replace("~0", "~")


# --- where, for a reader -------------------------------------------------------------------------

_COMPONENT_KINDS = {
    "schemas": "schema",
    "responses": "response",
    "parameters": "parameter",
    "requestBodies": "request body",
    "headers": "header",
    "securitySchemes": "security scheme",
}


def readable_location(pointer: str) -> str:
    parts = [_unescape(part) for part in pointer.strip("/").split("/")] if pointer.strip("/") else []
    if not parts:
        return "the whole API"
    head: list[str] = []
    rest = parts
    if parts[0] == "paths" and len(parts) >= 2:
        if len(parts) >= 3 and parts[2] in HTTP_METHODS:
            head, rest = [f"{parts[2].upper()} {parts[1]}"], parts[3:]
        else:
            head, rest = [f"path {parts[1]}"], parts[2:]
    elif parts[0] == "components" and len(parts) >= 3:
        head, rest = [f"{_COMPONENT_KINDS.get(parts[1], parts[1])} {parts[2]}"], parts[3:]
    words: list[str] = []
    index = 0
    while index < len(rest):
        part = rest[index]
        following = rest[index + 1] if index + 1 < len(rest) else None
        if part == RULES and following is not None:
            words.append(f"rule {int(following) + 1}")
            index += 2
            continue
        if part in ("properties", "content", "schema", "items") and following is not None:
            words.append(following if part in ("properties", "content") else part)
            index += 2 if part in ("properties", "content") else 1
            continue
        words.append(part)
        index += 1
    return " › ".join(head + words)


# --- output --------------------------------------------------------------------------------------


def render(inferences: list[Inference], output_format: str) -> str:
    """The inferences as a checklist a partner can hand to the vendor, readable at 80 columns."""
    match output_format:
        case "json":
            return json.dumps([_row(i) for i in inferences], indent=2, ensure_ascii=False) + "\n"
        case "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(_row(inferences[0]) if inferences else _FIELDS))
            writer.writeheader()
            writer.writerows(_row(i) for i in inferences)
            return buffer.getvalue()
        case "markdown":
            return _markdown(inferences)
        case "text":
            return _text(inferences)
    raise ValueError(f"unknown format {output_format!r}; one of {', '.join(FORMATS)}")


_FIELDS = ("api", "where", "location", "chose", "why", "source")


def _row(inference: Inference) -> dict[str, str]:
    return {
        "api": inference.api,
        "where": inference.where,
        "location": inference.location,
        "chose": inference.claim,
        "why": inference.rationale,
        "source": inference.source,
    }


def _wrapped(label: str, text: str, indent: str) -> list[str]:
    lead = f"{indent}{label}"
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=lead,
        subsequent_indent=" " * len(lead),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [lead.rstrip()]


def _text(inferences: list[Inference]) -> str:
    lines = [f"{len(inferences)} inferences to confirm with the vendors", ""]
    for number, inference in enumerate(inferences, 1):
        lines += _wrapped(f"{number}. {inference.api}: ", inference.location, "")
        lines += _wrapped("chose:  ", inference.claim, "   ")
        if inference.rationale:
            lines += _wrapped("why:    ", inference.rationale, "   ")
        lines += _wrapped("source: ", inference.source or "(none: a spec error)", "   ")
        lines.append("")
    return "\n".join(lines)


def _markdown(inferences: list[Inference]) -> str:
    lines = [f"# {len(inferences)} inferences to confirm with the vendors", ""]
    for api in dict.fromkeys(i.api for i in inferences):
        lines += [f"## {api}", ""]
        for inference in (i for i in inferences if i.api == api):
            lines += _wrapped("- [ ] ", f"**{inference.location}**", "")
            lines += _wrapped("- Chose: ", inference.claim, "  ")
            if inference.rationale:
                lines += _wrapped("- Why: ", inference.rationale, "  ")
            lines += _wrapped("- Source: ", inference.source or "(none)", "  ")
        lines.append("")
    return "\n".join(lines)
