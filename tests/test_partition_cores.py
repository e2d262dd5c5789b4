"""While the split runs it keeps one CPU and the pool's workers the others; afterwards every process has all back.

Why it matters: a process or a worker left on fewer CPUs than it may use
would validate the partitions on part of the machine, silently slower.
"""

from __future__ import annotations

import multiprocessing
import os
from contextlib import nullcontext
from multiprocessing.synchronize import Event

import pytest

from bepgraph.partition.cores import own_cpu


def _wait(stop: Event) -> None:
    stop.wait(60)


def _cpus(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


@pytest.mark.parametrize("fails", [False, True])
def test_the_split_keeps_one_cpu_and_every_process_gets_all_back(fails: bool) -> None:
    allowed = _cpus(0)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    worker = context.Process(target=_wait, args=(stop,))
    worker.start()
    assert worker.pid is not None
    try:
        inside: tuple[set[int], set[int]] = (set(), set())
        with pytest.raises(RuntimeError) if fails else nullcontext():
            with own_cpu():
                inside = _cpus(0), _cpus(worker.pid)
                if fails:
                    raise RuntimeError("the split failed")
        after = _cpus(0), _cpus(worker.pid)
    finally:
        stop.set()
        worker.join(30)
    first = {min(allowed)}
    assert inside == ((first, allowed - first) if len(allowed) > 1 else (allowed, allowed))
    assert after == (allowed, allowed)
    assert worker.exitcode == 0

