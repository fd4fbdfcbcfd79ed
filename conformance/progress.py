"""The run's progress on a terminal: the stage, requests sent, budget left, and the wait for a Retry-After."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from conformance import budget


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
    """`on_progress` for a terminal: one live line, refreshed while requests wait."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BudgetColumn(), WaitColumn(),
            console=console, transient=True, refresh_per_second=4,
        )  # fmt: skip
        self.task = self.progress.add_task("starting", total=None)

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.progress.stop()

    def __call__(self, message: str) -> None:
        self.progress.update(self.task, description=message)
