"""Progress of a run while it runs: stages (one suite on one API) done of all, the current step, ETA.

On a terminal, a rich progress bar; in a log (CI), one line per stage with its number.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

from conformance.results import Suite

# The order `run_api` runs the suites of an API in.
SUITE_ORDER = (Suite.SCENARIOS, Suite.BOUNDARIES, Suite.CONCURRENCY, Suite.FUZZ)


def stages(apis: list[str], includes: list[Suite]) -> list[str]:
    """Every stage of a run, as its progress messages name them (`fuzz elevate`)."""
    return [f"{suite.value} {api}" for api in apis for suite in SUITE_ORDER if suite in includes]


class RunProgress:
    """An `on_progress` callback: advances a stage when a message names a new one."""

    def __init__(self, console: Console, planned: list[str]) -> None:
        self.console = console
        self.planned = planned
        self.done: set[str] = set()
        self.current = ""
        self.bar: Progress | None = None
        if console.is_terminal:
            self.bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("stages · ETA"), TimeRemainingColumn(), console=console, transient=True,
            )  # fmt: skip
            self.task = self.bar.add_task("starting", total=len(planned))

    def __enter__(self) -> RunProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, message: str) -> None:
        stage = message.split(":", 1)[0]
        if stage in self.planned and stage != self.current:
            if self.current:
                self.done.add(self.current)
            self.current = stage
            if self.bar is None:
                self.console.print(f"[{len(self.done) + 1}/{len(self.planned)}] {stage}", style="dim")
        if self.bar is not None:
            self.bar.update(self.task, description=message, completed=len(self.done))
