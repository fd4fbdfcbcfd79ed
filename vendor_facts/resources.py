"""Where the bundled vendor data lives: `openapi/<api>.yaml` and `fixtures/<api>/` inside this package.

Found through `importlib.resources`, so an installed wheel finds its data wherever pip put it; nothing
here is a path relative to a checkout. Every reader of the specs and fixtures asks this module.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["api_names", "fixture_dir", "fixtures_dir", "spec_dir", "spec_path", "spec_text"]

PACKAGE = "vendor_facts"


@cache
def _package_dir() -> Path:
    """The package's folder on disk (extracted once, for the process, if the package is zipped)."""
    traversable = files(PACKAGE)
    if isinstance(traversable, Path):
        return traversable
    stack = ExitStack()
    atexit.register(stack.close)
    return stack.enter_context(as_file(traversable))


def spec_dir() -> Path:
    """The folder of the bundled OpenAPI specs, one `<api>.yaml` per API."""
    return _package_dir() / "openapi"


def fixtures_dir() -> Path:
    """The folder of the bundled fixtures, one `<api>/` folder per API (seed, auth, target file, scenarios)."""
    return _package_dir() / "fixtures"


def spec_path(api: str) -> Path:
    return spec_dir() / f"{api}.yaml"


def spec_text(api: str) -> str:
    return spec_path(api).read_text(encoding="utf-8")


def fixture_dir(api: str) -> Path:
    return fixtures_dir() / api


def api_names() -> list[str]:
    """Every bundled API: a spec with a fixtures folder of the same name."""
    return sorted(path.stem for path in spec_dir().glob("*.yaml") if fixture_dir(path.stem).is_dir())
