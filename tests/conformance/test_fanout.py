"""Jobs side by side in worker processes: results in order, shares dealt by order, progress forwarded,
a failing job reported and no worker left behind."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable

import pytest

from conformance.fanout import JobFailed, Workers, shares


def where(argument: int, progress: Callable[[str], None]) -> tuple[int, int]:
    progress(f"job {argument}")
    return argument * 10, os.getpid()


def fails_on_two(argument: int, progress: Callable[[str], None]) -> int:
    if argument == 2:
        raise ValueError("two is refused")
    return argument


def test_shares_are_dealt_back_and_forth_by_order() -> None:
    assert shares(4, 2) == [[0, 3], [1, 2]]
    assert shares(5, 3) == [[0], [1, 4], [2, 3]]
    assert shares(2, 4) == [[0], [1]]


def test_results_come_back_in_order_from_other_processes_by_share() -> None:
    messages: list[str] = []
    with Workers(2) as workers:
        results = workers.run(where, [0, 1, 2, 3], on_progress=messages.append)
    assert [value for value, _ in results] == [0, 10, 20, 30]
    pids = [pid for _, pid in results]
    assert os.getpid() not in pids
    assert pids[0] == pids[3] != pids[1] == pids[2]
    assert sorted(messages) == ["job 0", "job 1", "job 2", "job 3"]
    assert multiprocessing.active_children() == []


def test_a_failing_job_is_reported_and_every_worker_stopped() -> None:
    with pytest.raises(JobFailed, match="ValueError: two is refused"), Workers(2) as workers:
        workers.run(fails_on_two, [0, 1, 2, 3])
    assert multiprocessing.active_children() == []


def test_without_workers_the_jobs_run_here_in_order() -> None:
    with Workers(0) as workers:
        results = workers.run(where, [0, 1])
    assert results == [(0, os.getpid()), (10, os.getpid())]
