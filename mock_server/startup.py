"""Start-up of a serving process (`contract-mock serve`, each `--workers` worker): the collector paused.

Importing the mock and building its app create some 300 000 objects that live as long as the process
(modules, classes, specs, validators). Python's cyclic garbage collector, running while they are
created, scans them again and again (about a sixth of the CPU of a cold start, bench/README.md), and
its first full collection afterwards would scan them all once more (~40 ms, during the first
requests). So the collector is off while the app is built, and what was built is then frozen
(`gc.freeze()`: left out of every later collection). The cost: the few thousand objects of cyclic
garbage start-up leaves are kept (about 2 MiB).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside; on leaving, every object made so far is frozen and the
    collector is on again (unless it was off before)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
