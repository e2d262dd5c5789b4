"""Gives the split a CPU of its own while the pool's workers start beside it.

Why: the split is serial, so every moment it waits for a CPU lengthens the
run. The workers are spawned before it (so that they are warm when it
ends), and on a machine of C CPUs the split and W starting workers would
otherwise share them all: with C = 2 and W = 2, three busy processes on two
CPUs, and the split gets two thirds of one. For as long as the split runs,
this process keeps the first CPU it may use and its child processes get the
others; then every one of them gets back all it had. Nothing else changes:
which CPUs a process runs on is a hint to the scheduler, not a limit on its
work, and with a single CPU there is nothing to do.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["own_cpu"]


def _pin(pid: int, cpus: set[int]) -> None:
    try:
        os.sched_setaffinity(pid, cpus)
    except OSError:  # a child that has just exited, or a platform that refuses: a hint, not a need
        pass


@contextmanager
def own_cpu() -> Iterator[None]:
    """Run the block on the first CPU this process may use, with its children on the others."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        yield
        return
    mine = {min(allowed)}
    children = [p.pid for p in multiprocessing.active_children() if p.pid is not None]
    for pid in children:
        _pin(pid, allowed - mine)
    _pin(0, mine)
    try:
        yield
    finally:
        _pin(0, allowed)
        for pid in children:
            _pin(pid, allowed)
