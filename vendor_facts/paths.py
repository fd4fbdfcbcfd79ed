"""Where the bundled specs and fixtures live: the one definition of the project root."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC_DIR = PROJECT_ROOT / "openapi"
DEFAULT_FIXTURES_DIR = PROJECT_ROOT / "fixtures"
