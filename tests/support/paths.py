"""The checkout the tests run in (a subprocess started here can import `tests.*`)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
