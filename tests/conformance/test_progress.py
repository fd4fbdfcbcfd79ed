"""Progress while a run runs: stage n of N on a terminal (rich, with ETA), one numbered line per stage in a log."""

from __future__ import annotations

import io

from rich.console import Console

from conformance.reporting.progress import RunProgress, stages
from conformance.results import Suite

MESSAGES = ["scenarios elevate: a", "scenarios elevate: b", "fuzz elevate: examples", "fuzz elevate: stateful"]


def test_stages_follow_the_order_suites_run_in() -> None:
    assert stages(["elevate", "revnue"], [Suite.FUZZ, Suite.SCENARIOS]) == [
        "scenarios elevate", "fuzz elevate", "scenarios revnue", "fuzz revnue",
    ]  # fmt: skip


def test_a_log_gets_one_numbered_line_per_stage() -> None:
    output = io.StringIO()
    console = Console(file=output, force_terminal=False, width=120)
    with RunProgress(console, stages(["elevate"], [Suite.SCENARIOS, Suite.FUZZ])) as progress:
        for message in MESSAGES:
            progress(message)
    assert output.getvalue().splitlines() == ["[1/2] scenarios elevate", "[2/2] fuzz elevate"]


def test_a_terminal_gets_a_bar_of_stages_done() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with RunProgress(console, stages(["elevate"], [Suite.SCENARIOS, Suite.FUZZ])) as progress:
        for message in MESSAGES:
            progress(message)
        assert progress.bar is not None
        (task,) = progress.bar.tasks
        assert (task.completed, task.total, task.description) == (1, 2, "fuzz elevate: stateful")


def test_apis_judged_side_by_side_interleave_without_repeating_a_stage() -> None:
    output = io.StringIO()
    console = Console(file=output, force_terminal=False, width=120)
    planned = stages(["elevate", "revnue"], [Suite.SCENARIOS, Suite.FUZZ])
    interleaved = [
        "scenarios elevate: a", "scenarios revnue: a", "scenarios elevate: b", "fuzz revnue: examples",
        "fuzz elevate: examples", "fuzz revnue: coverage", "finished elevate", "fuzz revnue: stateful",
    ]  # fmt: skip
    with RunProgress(console, planned) as progress:
        for message in interleaved:
            progress(message)
        assert progress.done == {"scenarios elevate", "scenarios revnue", "fuzz elevate"}
    assert output.getvalue().splitlines() == [
        "[1/4] scenarios elevate", "[2/4] scenarios revnue", "[3/4] fuzz revnue", "[4/4] fuzz elevate",
    ]  # fmt: skip
