"""What a statement of a spec rests on: the vendor's documents, our inference, or HTTP itself.

One reading of the spec's marks, shared by the mock, the harness and the rule matrix:

- `x-likely: true` on any node (operation, response, parameter, schema, member): everything the node
  states is inferred; `x-likely-source` says from what.
- `x-likely-keywords: [minimum, maximum]` on a schema: only those keywords are inferred (the .NET
  decimal range of an amount whose type the vendor documents).
- Anything else is documented: the seeds and vendors.md's statements.
- `http` is general HTTP hygiene (RFC 9110), which no vendor document states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Evidence(StrEnum):
    DOCUMENTED = "documented"
    INFERRED = "inferred"
    HTTP = "http"


@dataclass(frozen=True)
class Basis:
    """The class of what a check rests on, and where that comes from."""

    evidence: Evidence
    source: str = ""

    @property
    def documented(self) -> bool:
        return self.evidence == Evidence.DOCUMENTED


DOCUMENTED = Basis(Evidence.DOCUMENTED)
RFC_9110 = Basis(Evidence.HTTP, "RFC 9110 (general HTTP semantics, not the vendor's documents)")


def node_basis(node: Any, keyword: str | None = None) -> Basis | None:
    """The inferred basis a node states for itself (or for one of its keywords), if any."""
    if not isinstance(node, Mapping):
        return None
    source = str(node.get("x-likely-source", ""))
    if node.get("x-likely") is True:
        return Basis(Evidence.INFERRED, source or "marked x-likely in the spec")
    if keyword is not None and keyword in node.get("x-likely-keywords", ()):
        return Basis(Evidence.INFERRED, source or f"{keyword}: marked x-likely in the spec")
    return None


def weakest(bases: Iterable[Basis | None]) -> Basis:
    """Inferred as soon as one link of the chain is; otherwise documented."""
    found = [basis for basis in bases if basis is not None]
    for evidence in (Evidence.INFERRED, Evidence.HTTP):
        for basis in found:
            if basis.evidence == evidence:
                return basis
    return DOCUMENTED


def path_basis(root: Any, path: Sequence[str | int], keyword: str | None = None) -> Basis:
    """The basis of the node reached from `root` by `path` (a JSON Schema `schema_path`), through every node
    on the way: a keyword under an inferred object is inferred."""
    chain: list[Basis | None] = []
    node = root
    for part in path:
        chain.append(node_basis(node))
        if _has(node, part):
            node = node[part]
        else:
            break
    chain.append(node_basis(node, keyword))
    return weakest(chain)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def operation_basis(definition: Mapping[str, Any]) -> Basis | None:
    return node_basis(definition)


def response_basis(definition: Mapping[str, Any], status: int | str) -> Basis:
    """A response of an operation: inferred when the operation, the response or its schema says so,
    or when the spec declares no response for the status (nothing documents it)."""
    responses: Mapping[str, Any] = definition.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[:1]}XX") or responses.get("default")
    if response is None:
        return Basis(Evidence.INFERRED, f"the spec declares no {status} response for this operation")
    content: Mapping[str, Any] = response.get("content", {})
    schemas = [media.get("schema") for media in content.values() if isinstance(media, Mapping)]
    return weakest([operation_basis(definition), node_basis(response), *(node_basis(s) for s in schemas)])


def statuses_basis(definition: Mapping[str, Any], status: int) -> Basis:
    """Whether the statuses declared for a status class are documented: one inferred response of the class
    (a 200 where the vendor shows no answer) makes the list an inference."""
    responses: Mapping[str, Any] = definition.get("responses", {})
    family = str(status)[:1]
    same_class = [response for code, response in responses.items() if str(code)[:1] == family]
    return weakest([operation_basis(definition), *(node_basis(response) for response in same_class)])


def status_basis(definition: Mapping[str, Any], status: int | str) -> Basis:
    """Whether the spec documents answering `status`: the operation's and that response's own marks, not its
    body's (a documented 401 whose message is the framework's default is still a documented 401)."""
    responses: Mapping[str, Any] = definition.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[:1]}XX") or responses.get("default")
    if response is None:
        return Basis(Evidence.INFERRED, f"the spec declares no {status} response for this operation")
    return weakest([operation_basis(definition), node_basis(response)])
