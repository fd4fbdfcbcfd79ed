"""Progress of a run while it runs: stages (one suite on one API) done of all, the current step, ETA,
the requests sent against the budget and the wait for a Retry-After.

On a terminal, a rich progress bar; in a log (CI), one line per stage with its number.
"""

from __future__ import annotations

import time

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from conformance import budget
from conformance.results import Suite

# The order `run_api` runs the suites of an API in.
SUITE_ORDER = (Suite.SCENARIOS, Suite.BOUNDARIES, Suite.CONCURRENCY, Suite.FUZZ)


def stages(apis: list[str], includes: list[Suite]) -> list[str]:
    """Every stage of a run, as its progress messages name them (`fuzz elevate`)."""
    return [f"{suite.value} {api}" for api in apis for suite in SUITE_ORDER if suite in includes]


def finished(api: str) -> str:
    """The message that says an API's last stage is over."""
    return f"finished {api}"


class BudgetColumn(ProgressColumn):
    """Requests sent against the active budget: a bar when there is a limit, a count otherwise."""

    def render(self, task: Task) -> RenderableType:
        metered = budget.active()
        if metered is None:
            return Text("")
        if metered.limit is None:
            return Text(f"{metered.sent} requests sent", style="cyan")
        row = Table.grid(padding=(0, 1))
        row.add_row(
            ProgressBar(total=metered.limit, completed=metered.sent, width=24),
            Text(f"{metered.sent} sent, {metered.left} left of {metered.limit}", style="cyan"),
        )
        return row


class WaitColumn(ProgressColumn):
    """While the target asked to wait (429 Retry-After): how long until the run goes on."""

    def render(self, task: Task) -> RenderableType:
        metered = budget.active()
        if metered is None or metered.waiting_until is None:
            throttled = f"  {metered.throttled} × 429" if metered is not None and metered.throttled else ""
            return Text(throttled, style="yellow")
        left = max(metered.waiting_until - time.monotonic(), 0.0)
        return Text(f"  waiting on Retry-After: goes on in {left:.0f}s ({metered.throttled} × 429)", style="yellow")


class RunProgress:
    """An `on_progress` callback: advances a stage when a message names a new one.

    APIs judged side by side interleave their messages: each API has its own current stage, and a
    stage is done once its API has moved on to the next one, or is `finished`.
    """

    def __init__(self, console: Console, planned: list[str]) -> None:
        self.console = console
        self.planned = planned
        self.done: set[str] = set()
        self.current: dict[str, str] = {}  # API -> the stage it is in
        self.bar: Progress | None = None
        if console.is_terminal:
            self.bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("stages · ETA"), TimeRemainingColumn(), BudgetColumn(), WaitColumn(),
                console=console, transient=True, refresh_per_second=4,
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
        api = stage.split(" ", 1)[-1]
        if stage == finished(api) and api in self.current:
            self.done.add(self.current.pop(api))
        elif stage in self.planned and stage != self.current.get(api):
            if api in self.current:
                self.done.add(self.current[api])
            self.current[api] = stage
            if self.bar is None:
                started = len(self.done) + len(self.current)
                self.console.print(f"[{started}/{len(self.planned)}] {stage}", style="dim")
        if self.bar is not None:
            self.bar.update(self.task, description=message, completed=len(self.done))
