"""WATCH/MULTI or a Lua compare-and-set for `RedisStore.update`: which is faster, measured side by side.

Rounds alternate between the two strategies on one real redis-server (so background load hits both
alike): single-process updates of one record, then two processes updating the same record at once
(contention: each lost race is a retry). Prints updates per second, median over the rounds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
import uuid
from pathlib import Path

import redis

from mock_server.state.redis_store import RedisStore, UpdateStrategy

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: bench runs only there
sys.path.insert(0, str(PROJECT_ROOT))
from tests.support.redis_server import redis_server  # noqa: E402

SEEDS = {"api": {"items": {"1": {"id": 1, "count": 0, "payload": {"tags": ["a", "b"], "name": "x" * 200}}}}}
STRATEGIES: tuple[UpdateStrategy, ...] = ("lua", "watch")


def _bump(record: dict) -> dict:
    return {**record, "count": record["count"] + 1}


def updates(url: str, prefix: str, strategy: UpdateStrategy, count: int) -> float:
    store = RedisStore(redis.Redis.from_url(url), SEEDS, prefix=prefix, update_strategy=strategy)
    started = time.perf_counter()
    for _ in range(count):
        store.update("tenant", "api", "items", 1, _bump)
    return time.perf_counter() - started


def _worker(args: tuple[str, str, UpdateStrategy, int]) -> float:
    return updates(*args)


def contended(url: str, strategy: UpdateStrategy, count: int) -> float:
    """Two processes, `count` updates each, on one record; returns updates per second overall."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    RedisStore(redis.Redis.from_url(url), SEEDS, prefix=prefix).get("tenant", "api", "items", 1)
    started = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        pool.map(_worker, [(url, prefix, strategy, count)] * 2)
    elapsed = time.perf_counter() - started
    final = RedisStore(redis.Redis.from_url(url), SEEDS, prefix=prefix).get("tenant", "api", "items", 1)
    assert final is not None and final["count"] == 2 * count, "an update was lost"
    return 2 * count / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates per round and process")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    single: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    double: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    with redis_server() as url:
        for _ in range(args.rounds):
            for strategy in STRATEGIES:
                elapsed = updates(url, f"bench-{uuid.uuid4().hex[:8]}:", strategy, args.updates)
                single[strategy].append(args.updates / elapsed)
                double[strategy].append(contended(url, strategy, args.updates))
    print(f"{'strategy':<10}{'1 process upd/s':>17}{'2 processes upd/s':>19}")
    for strategy in STRATEGIES:
        print(f"{strategy:<10}{statistics.median(single[strategy]):>17.0f}{statistics.median(double[strategy]):>19.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
