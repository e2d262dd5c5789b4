"""An engine that runs a partitioned validation's tasks here, one after the other: the split and the
merge tested without a pool (the pool and the Dask cluster are tested in test_partitioned.py)."""

from __future__ import annotations

from collections.abc import Sequence

from bepgraph.partition.work import PartitionOutcome, PartitionTask, run_tasks

__all__ = ["InProcess"]


class InProcess:
    def run(self, tasks: Sequence[PartitionTask]) -> list[PartitionOutcome]:
        return run_tasks(tasks)

    def describe(self) -> str:
        return "in process"

    def slots(self) -> int:
        return 2

    def prepare(self) -> None:
        pass

    def close(self) -> None:
        pass
