"""Jobs run side by side, in worker processes, each worker running its share one job after the other.

    with Workers(2) as workers:          # the processes start here
        results = workers.run(job, arguments, on_progress=print)

The harness is CPU-bound (generating cases, judging answers), so threads would share one core:
each worker is a process of its own (`spawn`: a fresh interpreter, nothing inherited but its jobs).
Which worker runs which job depends only on the jobs' order, never on timing (Schemathesis' choices
can depend on what the process ran before, so a job's results must not depend on how fast another
job went), and each job's result is returned at its index. Progress messages of every job reach
`on_progress`, one at a time. If this process is interrupted, or a job fails, the workers are stopped.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

T = TypeVar("T")
# A job: a picklable function of (its argument, a progress callback); it and its result travel by pickle.
Job = Callable[[Any, Callable[[str], None]], T]

STOP_TIMEOUT = 10.0  # seconds a worker has to exit before it is killed


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class JobFailed(Exception):
    """A job raised in a worker process: the message is its exception, as text."""


def shares(count: int, workers: int) -> list[list[int]]:
    """The job indexes each worker runs, dealt back and forth (0 1 1 0 0 1 …) so that early and late
    jobs mix: with jobs in no particular order of size, the workers' loads come out closer."""
    dealt: list[list[int]] = [[] for _ in range(min(workers, count))]
    for index in range(count):
        lap, position = divmod(index, len(dealt))
        dealt[position if lap % 2 == 0 else len(dealt) - 1 - position].append(index)
    return dealt


class Workers:
    """`count` worker processes, started on entering (their interpreters start while the caller gets the
    target ready) and stopped on leaving; `run` deals them jobs."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._started: list[tuple[BaseProcess, Connection]] = []
        self._finished = False

    def __enter__(self) -> Workers:
        context = multiprocessing.get_context("spawn")
        try:
            for _ in range(self.count):
                mine, theirs = context.Pipe()
                process = context.Process(target=_worker, args=(theirs,), daemon=True)
                process.start()
                theirs.close()
                self._started.append((process, mine))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for process, connection in self._started:
            _stop(process, connection, finished=self._finished)
        self._started = []

    def run(
        self, job: Job[T], arguments: Sequence[Any], *, on_progress: Callable[[str], None] = lambda message: None
    ) -> list[T]:
        """`job(argument, on_progress)` for each argument, the workers' shares side by side; the results in order.
        Each worker runs one share, then exits. Without workers, the jobs run here, one after the other."""
        lock = threading.Lock()

        def progress(message: str) -> None:
            with lock:
                on_progress(message)

        if not self._started:
            return [job(argument, progress) for argument in arguments]

        results: dict[int, T] = {}
        failures: list[BaseException] = []
        pumps = []
        for (_, connection), share in zip(self._started, shares(len(arguments), len(self._started)), strict=False):
            jobs = [(index, arguments[index]) for index in share]
            pump = threading.Thread(
                target=_pump, args=(connection, job, jobs, results, progress, failures), daemon=True
            )
            pump.start()
            pumps.append(pump)
        for pump in pumps:
            pump.join()
        if failures:
            raise failures[0]
        self._finished = True
        return [results[index] for index in range(len(arguments))]


def _pump(
    connection: Connection,
    job: Job[Any],
    jobs: list[tuple[int, Any]],
    results: dict[int, Any],
    progress: Callable[[str], None],
    failures: list[BaseException],
) -> None:
    """Send one worker its share, forward its messages and collect its results until the share is done
    (or the worker is gone). Sending waits until the worker reads, so it is done here, not by the caller."""
    try:
        connection.send((job, jobs))
        left = len(jobs)
        while left:
            kind, payload = connection.recv()
            if kind == "progress":
                progress(payload)
            elif kind == "failed":
                raise JobFailed(payload)
            else:
                index, result = payload
                results[index] = result
                left -= 1
    except (EOFError, OSError) as exc:
        failures.append(JobFailed(f"a worker process ended before its jobs did: {exc!r}"))
    except JobFailed as exc:
        failures.append(exc)


def _worker(connection: Connection) -> None:
    """A worker process: run each job of its share in order, sending its progress and then its result."""

    def progress(message: str) -> None:
        connection.send(("progress", message))

    try:
        job, jobs = connection.recv()
        for index, argument in jobs:
            try:
                result = job(argument, progress)
            except Exception as exc:  # sent as text: an exception need not pickle
                connection.send(("failed", f"{type(exc).__name__}: {exc}"))
                return
            connection.send(("result", (index, result)))
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the parent is gone, or is stopping this process
    finally:
        connection.close()


def _stop(process: BaseProcess, connection: Connection, *, finished: bool) -> None:
    """A worker whose share is done exits on its own; one still busy (this process was interrupted) is terminated."""
    connection.close()
    if finished:
        process.join(timeout=STOP_TIMEOUT)
    if process.is_alive():
        process.terminate()
        process.join(timeout=STOP_TIMEOUT)
    if process.is_alive():
        process.kill()
        process.join()
