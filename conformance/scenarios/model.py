"""A scenario as loaded from its file: a documented behaviour as ordered steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_model.evidence import DOCUMENTED, Basis

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as people count steps in reports
    name: str
    request: Mapping[str, Any]  # as written, before variable substitution
    expect: Mapping[str, Any]
    capture: Mapping[str, str]  # variable name -> JSON pointer into the response body
    basis: Basis | None = None  # a step resting on other evidence than its scenario (None: the scenario's)

    @property
    def label(self) -> str:
        return f"step {self.number} ({self.name})" if self.name else f"step {self.number}"

    @property
    def method(self) -> str:
        return str(self.request["method"])


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    api: str
    file: Path
    steps: tuple[Step, ...]
    source: str = ""
    description: str = ""
    declares_writes: bool = False
    requires: tuple[str, ...] = ()
    restore: tuple[str, ...] = ()
    basis: Basis = DOCUMENTED  # what the scenario rests on

    def step_basis(self, step: Step) -> Basis:
        return step.basis if step.basis is not None else self.basis

    @property
    def writes(self) -> bool:
        """Whether running it may change state: declared, or any step uses a method that writes."""
        return self.declares_writes or any(step.method not in SAFE_METHODS for step in self.steps)
