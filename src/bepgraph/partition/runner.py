"""A partitioned validation run: split the bundles, validate each partition on an engine, merge.

Why this is the same answer as ``validate`` on the whole bundle: see
``split.py`` (what each partition holds) and ``merge.py`` (how findings
come together); tests/test_partitioned.py compares the two byte for byte.

Bad input is refused as the unpartitioned load refuses it: when the split
or a partition meets a problem, each bundle is read again by the bundle
reader alone (no store), and its own error is raised; only a problem the
reader does not see on one bundle (a conflict between two bundles) is
reported from the partition, its lines and folders put back to the
bundles'.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import tempfile
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..errors import BundleError, Problem
from ..known_ids import UnknownId, nearest
from ..resources import filing_path
from ..sources.bundle import read_bundle
from ..sources.filing import Filing, read_filing
from ..sources.tables import TABLE_ORDER
from ..validation.run import Validation, _selected_shapes
from .cores import own_cpu
from .engines import Engine, LocalPool
from .merge import merge_outcomes
from .split import LINES_DIR, Split, split_bundles
from .work import PartitionOutcome, PartitionTask

__all__ = ["TRADES_EACH", "PartitionedRun", "bundle_digest", "validate_partitioned"]

# Trades per partition (by series) the split aims at: a store of about 1.5 GB, so that two workers,
# their forked validations and the split's maps stay far below a 24 GiB machine's memory.
TRADES_EACH = 300_000
MIN_PARTITIONS = 4


@dataclass
class PartitionedRun:
    """The merged validation and what it was made from (the provenance a saved run keeps)."""

    validation: Validation
    mode: str
    bundles: list[tuple[str, str]]  # (folder, sha256 of its files, as the loader records it)
    plan: tuple[str, str]  # (filing, sha256)
    partitions: list[dict[str, object]] = field(default_factory=list)  # key, rows, carried, worker
    engine: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # split, validate, merge (wall clock)
    rules: tuple[str, ...] | None = None  # the run's scope: None = every rule, every series
    series: tuple[str, ...] | None = None


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def bundle_digest(folder: Path) -> str:
    """The bundle's sha256 as the loader records it in graph/meta (one digest over its tables' files)."""
    h = hashlib.sha256()
    for name in sorted(f"{t}.csv" for t in TABLE_ORDER if (folder / f"{t}.csv").is_file()):
        h.update(f"{name}:{_file_sha256(folder / name)}\n".encode())
    return h.hexdigest()


def _reader_check(filing: Filing, folder: Path) -> None:
    """Raise the bundle reader's own error for *folder*, if it has one (nothing is kept)."""
    read_bundle(folder, filing.ids, sink=lambda chunk: None).close()


def _known_series(filing: Filing, bundles: Sequence[Path]) -> set[str]:
    known = set(filing.ids["series"])
    for folder in bundles:
        path = folder / "series.csv"
        if path.is_file():
            with path.open(newline="", encoding="utf-8-sig") as fh:
                known |= {(row.get("id") or "").strip() for row in csv.DictReader(fh)}
    return known


def validate_partitioned(bundles: Sequence[Path], as_of: date, mode: str, engine: Engine | None = None,
                         plan: Path | None = None, rules: Sequence[str] | None = None,
                         series: Sequence[str] | None = None, work_dir: Path | None = None) -> PartitionedRun:
    """The findings of *bundles* as of *as_of*, validated partition by partition (see the module docstring).

    The partitions are written under *work_dir* (a temporary folder, removed
    afterwards); a Dask cluster's workers must see it at the same path.
    """
    _selected_shapes(rules)  # an unknown rule: refused before any work
    filing = read_filing(plan or filing_path())
    folders = [Path(b) for b in bundles]
    if len({f.resolve().name for f in folders}) < len(folders):
        from ..errors import ParameterError

        raise ParameterError("two bundles share a folder name, and so a graph: rename one folder")
    for folder in folders:
        if not folder.is_dir():
            _reader_check(filing, folder)
    if series:
        known = _known_series(filing, folders)
        for s in series:
            if s not in known:
                raise UnknownId("series", s, nearest(s, known))
    engine = engine or LocalPool()
    root = Path(tempfile.mkdtemp(prefix="bepgraph-partitions-", dir=work_dir))
    # what runs beside the serial split: the workers' start (spawn, imports, shapes parsed) and the
    # bundles' sha256 for the provenance (hashlib hashes without the GIL, on the core the split leaves)
    engine.prepare()
    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bepgraph-digest")
    digests = beside.submit(lambda: [bundle_digest(f) for f in folders])
    try:
        started = time.perf_counter()
        # the partitions do not depend on the number of workers up to two (so one and two workers do
        # the same work), and are at least twice the slots beyond, so no worker idles at the end
        with own_cpu():  # the workers started above keep to the other CPUs meanwhile
            split = split_bundles(folders, mode, root, lambda folder: _reader_check(filing, folder),
                                  at_least=max(MIN_PARTITIONS, 2 * engine.slots()), trades_each=TRADES_EACH)
        seconds = {"split": time.perf_counter() - started}
        started = time.perf_counter()
        tasks = [PartitionTask(p.key, str(p.folder), tuple(str(b) for b in p.bundles), str(filing.source), as_of,
                               tuple(rules) if rules else None, tuple(series) if series else None)
                 for p in split.partitions]
        outcomes = engine.run(tasks)
        seconds["validate"] = time.perf_counter() - started
        started = time.perf_counter()
        refused = [o for o in outcomes if o.problems is not None]
        if refused:
            for folder in folders:
                _reader_check(filing, folder)
            raise BundleError(_translated(split, refused))
        validation = merge_outcomes(as_of, outcomes)
        seconds["merge"] = time.perf_counter() - started
        return PartitionedRun(
            validation, mode,
            bundles=[(str(f.resolve()), sha) for f, sha in zip(folders, digests.result())],
            plan=(str(filing.source.resolve()), _file_sha256(filing.source)),
            partitions=[{"key": p.key, "members": p.members, "rows": dict(p.rows), "carried": p.carried,
                         "worker": o.worker, "seconds": round(o.seconds, 3)}
                        for p, o in zip(split.partitions, outcomes)],
            engine=engine.describe(), seconds=seconds, rules=tuple(rules) if rules else None,
            series=tuple(series) if series else None)
    finally:
        beside.shutdown(wait=False, cancel_futures=True)
        engine.close()
        shutil.rmtree(root, ignore_errors=True)


def _line_map(split: Split, key: str, file: str, reason: str) -> dict[int, int] | None:
    """Partition line -> bundle line for *file* of partition *key*, when it is clear which bundle's file it is.

    Several bundles may have the file in the partition; a conflict names
    the *other* bundle (``in 'name'``), so that one is not the row's.
    """
    part = next(p for p in split.partitions if p.key == key)
    found = [b for b in split.bundles if (part.folder / LINES_DIR / b.name / f"{file}.bin").is_file()]
    if len(found) > 1:
        found = [b for b in found if f"'{b.name}'" not in reason and str(b) not in reason]
    if len(found) != 1:
        return None
    return _pairs(part.folder / LINES_DIR / found[0].name / f"{file}.bin")


@lru_cache(maxsize=8)
def _pairs(path: Path) -> dict[int, int]:
    pairs = array("i")
    with path.open("rb") as fh:
        pairs.frombytes(fh.read())
    return dict(zip(pairs[0::2], pairs[1::2]))


def _translated(split: Split, refused: Sequence[PartitionOutcome]) -> list[Problem]:
    """The partitions' problems with the bundles' folders and lines (a line not known for sure becomes 0)."""
    problems: set[Problem] = set()
    for outcome in refused:
        part = next(p for p in split.partitions if p.key == outcome.key)
        for problem in outcome.problems or []:
            reason = problem.reason
            for sub, original in zip(part.bundles, split.bundles):
                reason = reason.replace(str(sub.resolve()), str(original.resolve())).replace(str(sub), str(original))
            line = problem.line
            if line > 1:
                known = _line_map(split, outcome.key, problem.file, reason)
                line = known.get(line, 0) if known is not None else 0
                reason = re.sub(r"\(first on line \d+\)", "(first on an earlier line)", reason)
            problems.add(Problem(problem.file, line, problem.column, reason))
    _pairs.cache_clear()  # the maps of a run's partitions (gone with them) are not kept
    return sorted(problems)
