"""Every inference in the specs is marked `x-likely` with its source, and `contract-mock inferences` lists them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.cli import main
from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.inferences import Inference, load_inferences, spec_inferences, unsourced

SPECS = sorted(DEFAULT_SPEC_DIR.glob("*.yaml"))


def prose_only(node: Any, where: str = "") -> list[str]:
    """Nodes whose description calls something likely without marking it (the `info` overview aside)."""
    found = []
    if isinstance(node, dict):
        marked = node.get("x-likely") is True or bool(node.get("x-likely-rules"))
        if not marked and where != "/info" and re.search(r"\blikely\b", str(node.get("description", ""))):
            found.append(where)
        for key, child in node.items():
            if key not in ("example", "examples"):
                found += prose_only(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += prose_only(child, f"{where}/{index}")
    return found


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_inference_names_the_sentence_it_rests_on(path: Path) -> None:
    found = load_inferences(DEFAULT_SPEC_DIR, [path.stem])
    assert found, "a spec without inferences is unlikely: check the markers"
    assert unsourced(found) == []


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_no_inference_is_marked_only_in_prose(path: Path) -> None:
    assert prose_only(yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_markers_and_rules_are_found_where_they_are_written() -> None:
    document = {
        "paths": {
            "/a/{id}": {
                "get": {
                    "description": "Reads.",
                    "x-likely-rules": [{"rule": "Ids are  small.", "source": "seed: 'id'"}, "bare rule"],
                }
            }
        },
        "components": {
            "schemas": {
                "A": {"x-likely": True, "x-likely-source": "vendors.md: 'A'", "description": "An\n A."},
                "B": {"x-likely": True, "description": "B.", "example": {"x-likely": True}},
            }
        },
    }
    assert spec_inferences("x", document) == [
        Inference("x", "/paths/~1a~1{id}/get/x-likely-rules/0", "Ids are small.", "seed: 'id'"),
        Inference("x", "/paths/~1a~1{id}/get/x-likely-rules/1", "bare rule", ""),
        Inference("x", "/components/schemas/A", "An A.", "vendors.md: 'A'"),
        Inference("x", "/components/schemas/B", "B.", ""),
    ]


def test_the_command_prints_one_api_s_inferences(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    api = SPECS[0].stem
    assert main(["inferences", "--api", api]) == 0
    printed = capsys.readouterr().out
    expected = load_inferences(DEFAULT_SPEC_DIR, [api])
    assert f"{len(expected)} inferences to confirm" in printed
    assert all(inference.where in printed for inference in expected)
    other = {path.stem for path in SPECS} - {api}
    assert not any(f"│ {name} " in printed for name in other)


def test_the_command_lists_every_api_by_default(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert main(["inferences"]) == 0
    printed = capsys.readouterr().out
    assert f"{len(load_inferences(DEFAULT_SPEC_DIR))} inferences to confirm" in printed
    assert all(f"│ {path.stem} " in printed for path in SPECS)


def test_the_command_refuses_an_unknown_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inferences", "--api", "no-such-api"]) == 2
    assert "unknown API no-such-api" in capsys.readouterr().err
