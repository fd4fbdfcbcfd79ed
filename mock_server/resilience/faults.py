"""Faults on demand: which fault, if any, a request to an operation gets.

A fault matches by API, method, path template and/or operationId (none given: every operation) and
is one of `FAULT_KINDS`. It fires with a `probability` and/or for the first `count` matching requests;
the n-th matching request draws from `random.Random(f"{seed}:{id}:{n}")`, so a run that sends the
same requests sees the same faults. Faults are kept in the store — per tenant, or `"*"` for every
tenant — so workers sharing a store share them. Ids (`f1`, `f2`…) come from one counter for every
scope, so an id names one fault; the listing for every tenant (`"*"`) shows every scope's faults, and
clearing it clears them all.

What a fault does to stored state: only `latency` lets the request through (after the delay), so
a delayed write is applied after the delay. Every other fault answers *instead of* the operation:
a write hit by a status, 429, reset, empty reply, cut-short or malformed body is not applied.

The same schema serves `POST /__admin/faults` and `contract-mock serve --faults FILE.yaml`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

from mock_server.engine.auth import fingerprint
from mock_server.engine.routes import Route, RouteTable
from mock_server.state.store import Store
from openapi_model import load_yaml

FAULTS_VALUE = "faults"
SCOPES_VALUE = "fault-scopes"  # the tenants with faults of their own, kept under SERVER_WIDE
SERVER_WIDE = "*"
MAX_DELAY_MS = 120_000
FAULT_KINDS = ("latency", "status", "throttle", "reset", "empty", "truncated", "malformed")

_DELAY = {"type": "number", "minimum": 0, "maximum": MAX_DELAY_MS}
FAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["fault"],
    "properties": {
        "fault": {"enum": list(FAULT_KINDS)},
        "api": {"type": "string"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "operationId": {"type": "string"},
        "latencyMs": {
            "oneOf": [
                _DELAY,
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["uniform"],
                    "properties": {"uniform": {"type": "array", "items": _DELAY, "minItems": 2, "maxItems": 2}},
                },
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["lognormal"],
                    "properties": {
                        "lognormal": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["median", "sigma"],
                            "properties": {
                                "median": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DELAY_MS},
                                "sigma": {"type": "number", "minimum": 0, "maximum": 10},
                            },
                        }
                    },
                },
            ]
        },
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "retryAfter": {"type": "integer", "minimum": 0, "maximum": 86_400},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "count": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer"},
        "token": {"type": "string", "minLength": 1},  # the tenant, by its token (the file's way to name one)
        "tenant": {"type": "string", "minLength": 1},  # the tenant, by its fingerprint
    },
    "allOf": [
        {"if": {"properties": {"fault": {"const": "latency"}}}, "then": {"required": ["latencyMs"]}},
        {"if": {"properties": {"fault": {"const": "status"}}}, "then": {"required": ["status"]}},
    ],
}
_VALIDATOR = Draft7Validator(FAULT_SCHEMA)
_FILE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["faults"],
                "properties": {"faults": {"type": "array"}}}  # fmt: skip


class FaultError(ValueError):
    """Faults that cannot be installed; `problems` names each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Firing:
    """A fault that fires for this request."""

    fault: dict[str, Any]
    scope: str
    latency_ms: float

    @property
    def kind(self) -> str:
        return str(self.fault["fault"])

    def journal(self) -> dict[str, Any]:
        entry = {"id": self.fault.get("id"), "kind": self.kind, "scope": self.scope}
        if self.latency_ms:
            entry["latencyMs"] = round(self.latency_ms, 3)
        if "status" in self.fault:
            entry["status"] = self.fault["status"]
        return entry


class Faults:
    def __init__(self, store: Store, routes: RouteTable) -> None:
        self.store = store
        self.routes = routes

    # -- installing -----------------------------------------------------------------------------

    def validated(self, faults: Iterable[Any]) -> list[dict[str, Any]]:
        problems: list[str] = []
        accepted = []
        for index, fault in enumerate(faults):
            found = [f"faults[{index}]{_where(e.absolute_path)}: {e.message}" for e in _VALIDATOR.iter_errors(fault)]
            if not found:
                found = [f"faults[{index}]: {problem}" for problem in self._route_problems(fault)]
            problems += found
            accepted.append(fault)
        if problems:
            raise FaultError(problems)
        return accepted

    def _route_problems(self, fault: dict[str, Any]) -> Iterator[str]:
        matched = [route for route in self.routes.routes if _matches(fault, route)]
        if not matched:
            yield f"matches no operation of the served APIs ({_filters(fault)})"
        elif fault["fault"] == "status":
            undeclared = [route for route in matched if fault["status"] not in route.statuses]
            for route in undeclared:
                declared = ", ".join(str(s) for s in route.statuses if s >= 400)
                yield f"status {fault['status']} is not declared for {route}; declared: {declared}"

    def install(self, scope: str, faults: Iterable[Any]) -> list[dict[str, Any]]:
        installed = []
        for fault in self.validated(faults):
            stored = {k: v for k, v in fault.items() if k not in ("token", "tenant")}
            stored["id"] = f"f{self.store.add(SERVER_WIDE, 'fault-ids', 1)}"
            installed.append(stored)
        self.store.set_value(scope, FAULTS_VALUE, self.listed(scope) + installed)
        self._remember(scope)
        return installed

    def scopes(self, scope: str) -> list[str]:
        """The scopes a request about `scope` sees: every scope for `*`, else the tenant's and `*`."""
        if scope != SERVER_WIDE:
            return [scope, SERVER_WIDE]
        tenants = self.store.get_value(SERVER_WIDE, SCOPES_VALUE)
        return [SERVER_WIDE, *(tenants if isinstance(tenants, list) else [])]

    def _remember(self, scope: str) -> None:
        known = self.scopes(SERVER_WIDE)
        if scope not in known:
            self.store.set_value(SERVER_WIDE, SCOPES_VALUE, [*known[1:], scope])

    def listed(self, scope: str) -> list[dict[str, Any]]:
        value = self.store.get_value(scope, FAULTS_VALUE)
        return list(value) if isinstance(value, list) else []

    def report(self, scope: str) -> list[dict[str, Any]]:
        """The faults that apply in `scope` (see `scopes`), each with its scope and how often it matched and fired."""
        return [
            {
                **fault,
                "scope": listed_in,
                "matched": self.store.add(listed_in, f"fault:{fault['id']}:seen", 0),
                "fired": self.store.add(listed_in, f"fault:{fault['id']}:fired", 0),
            }
            for listed_in in self.scopes(scope)
            for fault in self.listed(listed_in)
        ]

    def remove(self, scope: str, fault_id: str | None = None) -> int:
        """Remove one fault (by id) or all: of the tenant `scope`, or of every scope for `*`."""
        removed = 0
        owned = self.scopes(scope) if scope == SERVER_WIDE else [scope]
        for listed_in in owned:
            faults = self.listed(listed_in)
            kept = [f for f in faults if fault_id is not None and f.get("id") != fault_id]
            removed += len(faults) - len(kept)
            if len(kept) != len(faults):
                self.store.set_value(listed_in, FAULTS_VALUE, kept or None)
        if scope == SERVER_WIDE and fault_id is None:
            self.store.set_value(SERVER_WIDE, SCOPES_VALUE, None)
        return removed

    def install_file(self, path: Path) -> None:
        """`--faults FILE.yaml`: `{"faults": [...]}`, each fault for every tenant unless it names one."""
        try:
            document = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise FaultError([f"{path}: cannot read: {exc}"]) from None
        found = [
            f"{path}{_where(e.absolute_path)}: {e.message}" for e in Draft7Validator(_FILE_SCHEMA).iter_errors(document)
        ]
        if found:
            raise FaultError(found)
        try:
            faults = self.validated(document["faults"])
        except FaultError as exc:
            raise FaultError([f"{path}: {problem}" for problem in exc.problems]) from None
        # Ids from the file's order, and each scope's list replaced: workers sharing a store that
        # each load the file install the same faults once.
        by_scope: dict[str, list[dict[str, Any]]] = {}
        for index, fault in enumerate(faults, start=1):
            stored = {k: v for k, v in fault.items() if k not in ("token", "tenant")}
            by_scope.setdefault(scope_of(fault), []).append({**stored, "id": f"file-{index}"})
        for scope, listed in by_scope.items():
            self.store.set_value(scope, FAULTS_VALUE, listed)
            self._remember(scope)

    # -- firing ---------------------------------------------------------------------------------

    def firing(self, tenant: str | None, route: Route) -> Firing | None:
        for scope in ([tenant] if tenant else []) + [SERVER_WIDE]:
            for fault in self.listed(scope):
                if _matches(fault, route) and (firing := self._fires(scope, fault)) is not None:
                    return firing
        return None

    def _fires(self, scope: str, fault: dict[str, Any]) -> Firing | None:
        seen = self.store.add(scope, f"fault:{fault['id']}:seen", 1)
        draw = random.Random(f"{fault.get('seed', 0)}:{fault['id']}:{seen}")
        if "probability" in fault and draw.random() >= fault["probability"]:
            return None
        if "count" in fault and self.store.add(scope, f"fault:{fault['id']}:fired", 1) > fault["count"]:
            return None
        if "count" not in fault:
            self.store.add(scope, f"fault:{fault['id']}:fired", 1)
        return Firing(fault, scope, latency_ms(fault.get("latencyMs"), draw))


def scope_of(fault: dict[str, Any]) -> str:
    if fault.get("token"):
        return fingerprint(str(fault["token"]))
    return str(fault.get("tenant") or SERVER_WIDE)


def latency_ms(spec: Any, draw: random.Random) -> float:
    if spec is None:
        return 0.0
    if isinstance(spec, (int, float)):
        return float(spec)
    if "uniform" in spec:
        low, high = sorted(spec["uniform"])
        return draw.uniform(low, high)
    lognormal = spec["lognormal"]
    return min(float(MAX_DELAY_MS), draw.lognormvariate(math.log(lognormal["median"]), lognormal["sigma"]))


def _matches(fault: dict[str, Any], route: Route) -> bool:
    return (
        fault.get("api", route.vendor.name) == route.vendor.name
        and str(fault.get("method", route.method)).upper() == route.method
        and fault.get("path", route.template) == route.template
        and fault.get("operationId", route.operation_id) == route.operation_id
    )


def _filters(fault: dict[str, Any]) -> str:
    given = {k: fault[k] for k in ("api", "method", "path", "operationId") if k in fault}
    return ", ".join(f"{k}={v}" for k, v in given.items()) or "no filter"


def _where(path: Iterable[Any]) -> str:
    return "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in path)
