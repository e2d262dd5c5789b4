"""Where the partitions run: a local process pool, or the workers of a Dask distributed cluster.

Why Dask and not a scheduler of our own: the partitions are independent
tasks of very unequal size (a series' share of the blotter), so what is
needed is what Dask distributed already does well: queue them, hand each
to the next free worker, restart a worker that dies, report its error.
Dask is pure Python (a ``pip install`` on every machine, workers started
with ``dask worker tcp://…``); Ray would bring its own object store,
raylet and dashboard processes for no gain here (the tasks exchange only
file paths and findings). The local pool is ``concurrent.futures`` with
spawned processes: each worker starts clean, with none of the caller's
memory.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..errors import BepgraphError, ParameterError, StoreError
from .work import PartitionOutcome, PartitionTask, validate_partition, warm_worker

__all__ = ["DaskCluster", "Engine", "LocalPool", "default_workers", "engine_for"]

class Engine(Protocol):
    """Runs every task and returns the outcomes, in the tasks' order."""

    def run(self, tasks: Sequence[PartitionTask]) -> list[PartitionOutcome]: ...

    def describe(self) -> str: ...

    def slots(self) -> int:
        """How many tasks run at once (the split makes at least twice as many partitions)."""
        ...

    def prepare(self) -> None:
        """Get the workers going before the tasks are known (while the split runs)."""
        ...

    def close(self) -> None:
        """Let go of what :meth:`prepare` started."""
        ...

def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

class LocalPool:
    """A pool of *workers* spawned processes on this machine (one task per process at a time)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        if self.workers < 1:
            raise ParameterError(f"--workers {self.workers}: at least one worker is needed")
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> str:
        return f"local process pool of {self.workers}"

    def slots(self) -> int:
        return self.workers

    def prepare(self) -> None:
        """Spawn the workers now: each imports the package and parses the shapes and queries while
        the caller splits the bundles (on the core the split leaves idle), not after it."""
        if self._pool is None:
            self._pool = self._executor(self.workers)
            for _ in range(self.workers):  # the pool spawns a worker per task submitted while none is idle
                self._pool.submit(os.getpid)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @staticmethod
    def _executor(workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=warm_worker)

    def run(self, tasks: Sequence[PartitionTask]) -> list[PartitionOutcome]:
        # the largest partitions first, so a big one does not start last and run alone
        order = sorted(range(len(tasks)), key=lambda i: -_size(tasks[i]))
        pool = self._pool or self._executor(min(self.workers, len(tasks)) or 1)
        try:
            futures = {i: pool.submit(validate_partition, tasks[i]) for i in order}
            return [futures[i].result() for i in range(len(tasks))]
        except BrokenProcessPool as exc:  # a worker killed (out of memory, a signal): say which run, no traceback
            raise StoreError(f"a worker of the {self.describe()} died while validating a partition ({exc}); "
                             "no findings given: try fewer --workers") from None
        finally:
            if pool is not self._pool:
                pool.shutdown(wait=True, cancel_futures=True)

class DaskCluster:
    """The workers of the Dask distributed scheduler at *address* (``tcp://host:port``).

    The partitions' folders must be readable by every worker at the same
    path (one machine, or a shared file system).
    """

    def __init__(self, address: str) -> None:
        self.address = address

    def describe(self) -> str:
        return f"Dask scheduler {self.address}"

    def _client(self) -> Any:
        from distributed import Client

        try:
            return Client(self.address, timeout="10s")  # type: ignore[no-untyped-call]  # distributed ships no annotations here
        except OSError as exc:
            raise ParameterError(f"--scheduler {self.address}: no Dask scheduler answers there ({exc})") from None

    def prepare(self) -> None:
        """Nothing to start: the cluster's workers are running already."""

    def close(self) -> None:
        """Nothing to stop: the cluster belongs to whoever started it."""

    def slots(self) -> int:
        with self._client() as client:
            return max(1, sum(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values()))

    def run(self, tasks: Sequence[PartitionTask]) -> list[PartitionOutcome]:
        with self._client() as client:
            order = sorted(range(len(tasks)), key=lambda i: -_size(tasks[i]))
            futures = {i: client.submit(validate_partition, tasks[i], key=f"bepgraph-partition-{tasks[i].key}-{i}",
                                        pure=False, priority=len(order) - rank)
                       for rank, i in enumerate(order)}
            try:
                results: list[PartitionOutcome] = client.gather([futures[i] for i in range(len(tasks))])
            except BepgraphError:
                raise
            except Exception as exc:  # noqa: BLE001 - a killed worker, a lost connection: one clear error
                raise StoreError(f"a partition failed on the {self.describe()} ({exc.__class__.__name__}: {exc}); "
                                 "no findings given") from None
            return results

def _size(task: PartitionTask) -> int:
    """The bytes of a partition's blotter files: the order to start them in."""
    total = 0
    for bundle in task.bundles:
        for name in ("transactions.csv", "benefits.csv", "expenditures.csv"):
            try:
                total += os.path.getsize(os.path.join(bundle, name))
            except OSError:
                pass
    return total

def engine_for(workers: int | None, scheduler: str | None) -> Engine:
    """The engine the user named: a Dask scheduler's address, else a local pool."""
    return DaskCluster(scheduler) if scheduler else LocalPool(workers)
