"""The APIs the harness knows: one spec in `openapi/` with a folder of the same name in `fixtures/`.

Everything the harness needs about an API comes from those two places, so a fifth vendor needs no
change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class UnknownApi(Exception):
    pass


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, as in the spec: /api/v2/contract/{id}
    definition: Mapping[str, Any] = field(repr=False)
    path_item: Mapping[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)

    def matches(self, path: str) -> bool:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(pattern, path.split("?", 1)[0]) is not None


@dataclass(frozen=True)
class Api:
    name: str
    spec_path: Path
    fixtures_dir: Path

    @property
    def scenarios_dir(self) -> Path:
        return self.fixtures_dir / "scenarios"

    @property
    def default_target_file(self) -> Path:
        return self.fixtures_dir / "target.yaml"

    @cached_property
    def spec(self) -> dict[str, Any]:
        with self.spec_path.open(encoding="utf-8") as stream:
            return yaml.safe_load(stream)

    def operations(self) -> Iterator[Operation]:
        for path, item in self.spec.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    yield Operation(method.upper(), path, item[method], item)

    def operation_for(self, method: str, path: str) -> Operation | None:
        return next((op for op in self.operations() if op.method == method.upper() and op.matches(path)), None)

    def resolve(self, node: Any) -> Any:
        """`node` with a top-level `$ref` into this spec followed."""
        while isinstance(node, Mapping) and "$ref" in node:
            node = self._pointer(node["$ref"])
        return node

    def _pointer(self, reference: str) -> Any:
        if not reference.startswith("#/"):
            raise ValueError(f"{self.spec_path}: only local references are supported, got {reference!r}")
        node: Any = self.spec
        for part in reference[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    @property
    def auth_prefix(self) -> str:
        """The word before the token in `Authorization`: `x-auth-prefix` on the security scheme, else Bearer."""
        for scheme in self.spec.get("components", {}).get("securitySchemes", {}).values():
            if "x-auth-prefix" in scheme:
                return str(scheme["x-auth-prefix"])
        return "Bearer"

    @property
    def org_header(self) -> str | None:
        """A required header every operation takes besides credentials (Zoho's `orgId`), if there is one."""
        common: set[str] | None = None
        for operation in self.operations():
            names = {
                parameter["name"]
                for parameter in self.parameters(operation)
                if parameter.get("in") == "header" and parameter.get("required")
            }
            common = names if common is None else common & names
        candidates = sorted((common or set()) - {"Authorization"})
        return candidates[0] if len(candidates) == 1 else None

    def org_header_example(self) -> str | None:
        header = self.org_header
        for operation in self.operations():
            for parameter in self.parameters(operation):
                if parameter.get("name") == header and "example" in parameter:
                    return str(parameter["example"])
        return None

    def parameters(self, operation: Operation) -> list[Mapping[str, Any]]:
        declared = [*operation.path_item.get("parameters", []), *operation.definition.get("parameters", [])]
        return [self.resolve(parameter) for parameter in declared]


def discover(root: Path = PROJECT_ROOT) -> dict[str, Api]:
    """Every API with both `openapi/<name>.yaml` and `fixtures/<name>/`, by name."""
    return {
        spec.stem: Api(spec.stem, spec, root / "fixtures" / spec.stem)
        for spec in sorted((root / "openapi").glob("*.yaml"))
        if (root / "fixtures" / spec.stem).is_dir()
    }


def select(names: str, root: Path = PROJECT_ROOT) -> list[Api]:
    """The APIs named by `--api`: one name, a comma-separated list, or `all`."""
    available = discover(root)
    if names == "all":
        return list(available.values())
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown or not wanted:
        raise UnknownApi(f"unknown API {', '.join(unknown) or repr(names)}; available: {', '.join(available)}, all")
    return [available[name] for name in wanted]
