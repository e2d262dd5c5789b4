"""Validates one partition in its own embedded store: the task every worker runs.

What crosses back to the caller is plain data (findings, the SHACL
results they came from, and a problem list when the partition's sub-bundles
were refused), so it pickles through a process pool or a Dask cluster
alike; an exception of ours whose constructor takes other arguments than
its message would not.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import BundleError, Problem
from ..loading import load_all
from ..store import EmbeddedStore
from ..validation.catalogue import rule_catalogue
from ..validation.engine import ShapeResult
from ..validation.findings import Finding
from ..validation.derive import DERIVED_GRAPH, derived_lines
from ..validation.run import _judge, _warm
from .split import BLOTTER, CARRIED_FILE

__all__ = ["AGGREGATES", "PartitionOutcome", "PartitionTask", "validate_partition", "warm_worker"]

# Rules whose finding on a governance entity aggregates the blotter: each partition sees part of
# it, and the merge keeps the finding with the least key (rule -> the bindings of its key, in order).
# BEP-4.2 names the first directed activity of the series, MIN(CONCAT(date, " ", IRI)) in its shape.
AGGREGATES: dict[str, tuple[str, ...]] = {"BEP-4.2": ("firstActivity", "evidence")}


@dataclass(frozen=True)
class PartitionTask:
    """What a worker needs: the partition's sub-bundles, the filing, the date and the run's selection."""

    key: str
    folder: str
    bundles: tuple[str, ...]
    plan: str | None
    as_of: date
    rules: tuple[str, ...] | None = None
    series: tuple[str, ...] | None = None


@dataclass
class PartitionOutcome:
    """A partition's findings it owns (with their results), or the problems its load met."""

    key: str
    pairs: list[tuple[ShapeResult, Finding, tuple[str, ...] | None]] = field(default_factory=list)
    problems: list[Problem] | None = None
    worker: int = 0  # the process id that ran it
    seconds: float = 0.0  # the worker's own wall time for it (the bench reads how evenly the workers were loaded)


def _carried(folder: Path) -> set[str]:
    path = folder / CARRIED_FILE
    return set(path.read_text(encoding="utf-8").split()) if path.is_file() else set()


def _aggregate_key(result: ShapeResult, rule: str) -> tuple[str, ...] | None:
    names = AGGREGATES.get(rule)
    if names is None:
        return None
    return tuple(result.bindings.get(n, "") for n in names)


def validate_partition(task: PartitionTask) -> PartitionOutcome:
    """Load the partition into a fresh in-memory store, validate it, keep the findings it may speak for.

    A finding on a blotter row the partition only carries is dropped (the
    row's own partition has everything its rules read); every other finding
    is kept, with the key that ranks an aggregate's findings at the merge.
    """
    started = time.perf_counter()
    store = EmbeddedStore()
    try:
        try:
            load_all(store, [Path(b) for b in task.bundles], Path(task.plan) if task.plan else None)
        except BundleError as exc:
            return PartitionOutcome(task.key, problems=list(exc.problems), worker=os.getpid(),
                                    seconds=time.perf_counter() - started)
        # the store is this task's alone and thrown away after: the derived graph is written into it,
        # with no private copy (a fork's prepare can time out on a machine busy with other work)
        store.replace_graph(DERIVED_GRAPH, "".join(derived_lines(store, task.as_of)[1]).encode())
        validation = _judge(store, task.as_of, task.rules, task.series, None)
    finally:
        store.close()
        del store
        gc.collect()
    carried = _carried(Path(task.folder))
    shape_of = {r.id: r.shape for r in rule_catalogue().values()}
    findings = {(shape_of[f.rule], f.focus.iri, f.message): f for f in validation.report.findings}
    pairs: list[tuple[ShapeResult, Finding, tuple[str, ...] | None]] = []
    for result in validation.results:
        finding = findings[(result.shape, result.focus, result.message)]  # run._judge made one of each result
        if finding.focus.table in BLOTTER and f"{finding.focus.table}/{finding.focus.id}" in carried:
            continue
        pairs.append((result, finding, _aggregate_key(result, finding.rule)))
    return PartitionOutcome(task.key, pairs=pairs, worker=os.getpid(), seconds=time.perf_counter() - started)


def warm_worker() -> None:
    """A pool worker's start: parse the shapes, the rule catalogue and the queries once, before its first task."""
    _warm()


def run_tasks(tasks: Sequence[PartitionTask]) -> list[PartitionOutcome]:
    """The tasks one after the other in this process (tests, and a pool of one)."""
    return [validate_partition(t) for t in tasks]
