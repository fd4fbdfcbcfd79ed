from __future__ import annotations

from pathlib import Path

import pytest

from conformance.apis import discover
from conformance.scenarios.loader import ScenarioError, load_directory, load_file

VALID = """\
id: demo.patch-keeps
title: PATCH keeps untouched fields
writes: true
restore: ["/contracts/${contract_id}"]
steps:
  - name: read
    request:
      method: GET
      path: /contracts/${contract_id}
    expect:
      status: 200
    capture:
      before: ""
  - name: patch
    request:
      method: PATCH
      path: /contracts/${contract_id}
      json: {name: New}
    expect:
      status: [200, 204]
      body:
        name: New
        number: ${before.number}
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as excinfo:
        load_file(path, "demo")
    return excinfo.value.problems


def test_valid_scenario_loads(tmp_path: Path) -> None:
    scenario = load_file(write(tmp_path, VALID), "demo")

    assert scenario.id == "demo.patch-keeps"
    assert [step.label for step in scenario.steps] == ["step 1 (read)", "step 2 (patch)"]
    assert scenario.writes and scenario.restore == ("/contracts/${contract_id}",)


def test_unknown_key_is_named_with_line_and_step(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("json: {name: New}", "jsn: {name: New}"))

    assert problems_of(path) == [
        "line 18: step 2 (patch) › request: Additional properties are not allowed ('jsn' was unexpected)"
    ]


def test_every_schema_problem_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("method: GET", "method: get").replace("status: 200", "status: ok")

    problems = problems_of(write(tmp_path, text))

    assert problems == [
        "line 8: step 1 (read) › request › method: 'get' is not one of "
        "['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']",
        "line 11: step 1 (read) › expect › status: 'ok' is not of type 'integer', 'array'",
    ]


def test_missing_required_keys(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, "id: demo.x\nsteps: []\n"))

    assert problems == ["line 1: 'title' is a required property", "line 2: steps: [] should be non-empty"]


def test_yaml_syntax_error_gives_the_position_and_the_usual_cause(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("json: {name: New}", "json: {name: ${before.name}}"))

    (problem,) = problems_of(path)
    assert problem.startswith("line 18, column ")
    assert "quote values that contain ${...}" in problem


def test_semantic_problems(tmp_path: Path) -> None:
    text = VALID.replace("json: {name: New}", "json: {name: New}\n      form: {name: New}").replace(
        "name: New\n        number", "name: $anything\n        number"
    )
    raw_body_step = "\n  - request: {method: GET, path: /x, body: raw}\n    expect: {status: 200}"
    text = text.replace('before: ""', 'before: ""' + raw_body_step)

    problems = problems_of(write(tmp_path, text))

    assert "step 2 › request: a raw `body` needs a `content_type`" in problems
    assert "step 3 (patch) › request: use only one of json, form" in problems
    unknown = "step 3 (patch) › expect › body /name: unknown matcher '$anything'"
    assert any(problem.startswith(unknown) for problem in problems)


def test_capture_used_before_it_is_made(tmp_path: Path) -> None:
    first_read = "path: /contracts/${contract_id}\n    expect:\n      status: 200"
    text = VALID.replace(first_read, first_read.replace("${contract_id}", "${later}"), 1)
    text += "    capture:\n      later: /id\n"

    assert "step 1 (read): uses ${later} before the step that captures it" in problems_of(write(tmp_path, text))


def test_directory_reports_bad_files_and_duplicate_ids_but_keeps_the_rest(tmp_path: Path) -> None:
    write(tmp_path, VALID, "a.yaml")
    write(tmp_path, VALID, "b.yaml")
    write(tmp_path, VALID.replace("demo.patch-keeps", "demo.other"), "c.yml")
    write(tmp_path, "id: [", "d.yaml")

    loaded = load_directory(tmp_path, "demo")

    assert [scenario.file.name for scenario in loaded.scenarios] == ["a.yaml", "c.yml"]
    assert [(error.file.name, error.problems[0][:28]) for error in loaded.errors] == [
        ("d.yaml", "line 1, column 6: not valid "),
        ("b.yaml", "id 'demo.patch-keeps' is alr"),
    ]


@pytest.mark.parametrize("api", sorted(discover()))
def test_the_projects_scenario_files_are_valid(api: str) -> None:
    loaded = load_directory(discover()[api].scenarios_dir, api)

    assert loaded.errors == []
    assert loaded.scenarios
