"""The APIs the harness knows: one bundled spec with a fixtures folder of the same name (`vendor_facts.resources`).

Everything the harness needs about an API comes from those two places, so a fifth vendor needs no
change here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from openapi_model import ApiSpec, Operation
from vendor_facts import resources

__all__ = ["Api", "Operation", "UnknownApi", "discover", "select"]


class UnknownApi(Exception):
    pass


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
    def model(self) -> ApiSpec:
        """The spec, read once, with every `$ref` resolved."""
        return ApiSpec.load(self.spec_path)

    @property
    def spec(self) -> dict[str, Any]:
        """The spec as written (`$ref`s unresolved)."""
        return self.model.raw

    def operations(self) -> Iterator[Operation]:
        return iter(self.model.operations)

    def record_read(self) -> Operation | None:
        """The read of one record (a GET with a path parameter), not a list of them."""
        return next((op for op in self.model.operations if op.method == "GET" and op.path_parameters), None)

    def operation_for(self, method: str, path: str) -> Operation | None:
        return self.model.operation_for(method, path)

    @property
    def auth_prefix(self) -> str:
        """The word before the token in `Authorization`: `x-auth-prefix` on the security scheme, else Bearer."""
        return self.model.auth_prefix

    @property
    def org_header(self) -> str | None:
        """A required header every operation takes besides credentials (Zoho's `orgId`), if there is one."""
        return self.model.org_header

    def org_header_example(self) -> str | None:
        return self.model.org_header_example()


def discover() -> dict[str, Api]:
    """Every bundled API (a spec with a fixtures folder of the same name), by name."""
    return {name: Api(name, resources.spec_path(name), resources.fixture_dir(name)) for name in resources.api_names()}


def select(names: str) -> list[Api]:
    """The APIs named by `--api`: one name, a comma-separated list, or `all`."""
    available = discover()
    if names == "all":
        return list(available.values())
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown or not wanted:
        raise UnknownApi(f"unknown API {', '.join(unknown) or repr(names)}; available: {', '.join(available)}, all")
    return [available[name] for name in wanted]
