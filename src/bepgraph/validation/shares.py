"""A run's constraints shared among private copies of the store that judge side by side.

Why: a whole run judges its constraints one after the other, and both what
it spends (SPARQL evaluation, and the copy-on-write of the pages a fresh
copy's first reads touch) are one core's work; on a machine with two cores
the other sat idle while the board waited. Each copy claims the next
constraint from a counter in memory the copies share (forked from the
parent that made it), so the copies end within about one constraint of each
other however the constraints' costs are spread, and a copy that also
judges earlier dates (``many_dates.py``) judges the constraints it claimed.

The parts are put together in the engine's order (``run.put_together``):
a result's finding depends on that result alone, so the run is the one a
single copy judging every constraint makes, and tests/test_shares.py
compares them finding by finding.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["MAX_COPIES", "Claims", "copies_for_a_run", "copies_wanted"]

T = TypeVar("T")
MAX_COPIES = 2  # each copy pays its own copy-on-write of the pages it reads (up to the store's size)


class Claims(Generic[T]):
    """Hands each item of a sequence to exactly one of the processes forked after it was made."""

    def __init__(self) -> None:
        self._next = multiprocessing.get_context("fork").Value("q", 0)  # shared memory with its own lock
        self.taken: list[T] = []  # the items this process was handed

    def claimed(self, items: Sequence[T]) -> Iterator[T]:
        """The items this process wins, one at a time (each is taken only when the last one is done)."""
        while True:
            with self._next.get_lock():
                i = self._next.value
                self._next.value = i + 1
            if i >= len(items):
                return
            self.taken.append(items[i])
            yield items[i]


def copies_wanted() -> int:
    """How many copies judge side by side: one per core this process may run on, at most :data:`MAX_COPIES`,
    and only as many as the memory available holds: a copy may come to copy every page of this process
    (its reads write to the pages they touch), so each copy past the first needs this process's size free
    beside the first one's."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = max(1, min(MAX_COPIES, len(usable)))
    if cores == 1:
        return 1
    size, available = _kib("/proc/self/status", "VmRSS:"), _kib("/proc/meminfo", "MemAvailable:")
    if size is None or available is None:
        return 1  # not known: the one copy a run always had
    return max(1, min(cores, available // max(size, 1)))


def _kib(path: str, field: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@contextmanager
def copies_for_a_run() -> Iterator[int]:
    """How many copies a run may use while it lasts: :func:`copies_wanted` while no other run of this
    process judges side by side, else one (runs in flight together already keep the cores busy, and every
    copy costs the memory its reads touch, so N runs at once hold at most N + 1 copies)."""
    wanted = copies_wanted()
    if wanted > 1 and _SIDE_BY_SIDE.acquire(blocking=False):
        try:
            yield wanted
        finally:
            _SIDE_BY_SIDE.release()
    else:
        yield 1


_SIDE_BY_SIDE = threading.Lock()
