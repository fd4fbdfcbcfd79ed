"""Every inference in the specs is marked `x-likely` with its source, and `contract-mock inferences` lists them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.cli import main
from mock_server.config import DEFAULT_SPEC_DIR
from mock_server.inferences import Inference, load_inferences, readable_location, spec_inferences, unsourced

SPECS = sorted(DEFAULT_SPEC_DIR.glob("*.yaml"))


def prose_only(node: Any, where: str = "") -> list[str]:
    """Nodes whose description calls something likely without marking it (the `info` overview aside)."""
    found = []
    if isinstance(node, dict):
        marked = _marked(node)
        if not marked and where != "/info" and re.search(r"\blikely\b", str(node.get("description", ""))):
            found.append(where)
        for key, child in node.items():
            if key not in ("example", "examples"):
                found += prose_only(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += prose_only(child, f"{where}/{index}")
    return found


def _marked(node: dict[str, Any]) -> bool:
    """Marked itself, in some keywords, in its rules, or (a response) in the schema of its body."""
    if node.get("x-likely") is True or node.get("x-likely-rules") or node.get("x-likely-keywords"):
        return True
    content = node.get("content") if isinstance(node.get("content"), dict) else {}
    return any(
        isinstance(media, dict) and media.get("schema", {}).get("x-likely") is True for media in content.values()
    )


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


def test_the_command_prints_one_api_s_inferences(capsys: pytest.CaptureFixture[str]) -> None:
    api = SPECS[0].stem
    assert main(["inferences", "--api", api, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = load_inferences(DEFAULT_SPEC_DIR, [api])
    assert [(row["api"], row["where"], row["chose"]) for row in rows] == [(i.api, i.where, i.claim) for i in expected]


def test_the_command_lists_every_api_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inferences"]) == 0
    printed = capsys.readouterr().out
    assert f"{len(load_inferences(DEFAULT_SPEC_DIR))} inferences to confirm" in printed
    assert all(f". {path.stem}: " in printed for path in SPECS)


@pytest.mark.parametrize("output_format", ["text", "markdown"])
def test_text_and_markdown_fit_80_columns_and_never_break_a_location(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    assert main(["inferences", "--format", output_format]) == 0
    printed = capsys.readouterr().out
    assert max(len(line) for line in printed.splitlines()) <= 80
    flat = " ".join(printed.split())
    assert all(" ".join(i.location.split()) in flat for i in load_inferences(DEFAULT_SPEC_DIR))


def test_csv_has_one_row_per_inference_with_the_checklist_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inferences", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(load_inferences(DEFAULT_SPEC_DIR))
    assert list(rows[0]) == ["api", "where", "location", "chose", "why", "source"]
    assert all(row["source"] for row in rows)


# The inferences that decide what a valid request or a client-visible shape is (issue 21).
DECISIVE = [
    ("elevate", "/paths/~1customer-contracts/get/x-likely-rules/0"),  # the list envelope
    ("revnue", "/paths/~1api~1v2~1contract~1/get/x-likely-rules/0"),  # the list as a bare array
    ("abillity", "/components/schemas/ContractCreate"),  # create's four required members
    ("abillity", "/paths/~1api~1contract/post/responses/200"),  # create answers 200
    ("elevate", "/components/schemas/CustomerContractCreate"),  # unknown members on create
    ("elevate", "/paths/~1customer-contracts~1{customer_contract_id}/delete/x-likely-rules/0"),  # 409 when linked
]


@pytest.mark.parametrize(("api", "where"), DECISIVE)
def test_inferences_that_decide_valid_requests_or_shapes_give_a_one_line_rationale(api: str, where: str) -> None:
    found = {(i.api, i.where): i for i in load_inferences(DEFAULT_SPEC_DIR)}
    assert (api, where) in found, sorted(w for a, w in found if a == api)
    assert found[(api, where)].rationale and "\n" not in found[(api, where)].rationale


def test_locations_read_as_operations_and_components() -> None:
    assert readable_location("/paths/~1a~1{id}/get/x-likely-rules/0") == "GET /a/{id} › rule 1"
    assert readable_location("/components/schemas/A/properties/b") == "schema A › b"


def test_the_command_refuses_an_unknown_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inferences", "--api", "no-such-api"]) == 2
    assert "unknown API no-such-api" in capsys.readouterr().err
