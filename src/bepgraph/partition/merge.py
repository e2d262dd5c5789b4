"""Merges the partitions' findings into the run the whole bundle would have given.

Three kinds of finding come back: a blotter row's, from its own partition
only (``work.py`` dropped the carried rows'); a governance entity's that
every partition states alike (the same rule, focus and message: kept once,
their series and evidence pooled as ``run._merge`` pools one run's); and an
aggregate's (``work.AGGREGATES``), whose message depends on the blotter
rows a partition holds: the one with the least key is the whole bundle's,
because every row is owned by some partition and a carried row is a true
row of the bundle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..errors import StoreError
from ..validation.engine import ShapeResult
from ..validation.findings import Finding, Report
from ..validation.run import Validation, _merge
from .split import BLOTTER
from .work import PartitionOutcome

__all__ = ["merge_outcomes"]


def merge_outcomes(as_of: date, outcomes: Iterable[PartitionOutcome]) -> Validation:
    """One validation from the partitions' outcomes (none of which may carry problems)."""
    plain: list[tuple[ShapeResult, Finding]] = []
    least: dict[tuple[str, str, tuple[str, ...]], tuple[tuple[str, ...], list[tuple[ShapeResult, Finding]]]] = {}
    owner: dict[str, str] = {}
    for outcome in outcomes:
        for result, finding, key in outcome.pairs:
            if finding.focus.table in BLOTTER:
                # a row is judged by its own partition only: two partitions judging one is a fault of the split
                if owner.setdefault(finding.focus.iri, outcome.key) != outcome.key:
                    raise StoreError(f"internal fault: {finding.focus.table} {finding.focus.id} was judged in two "
                                     f"partitions ({owner[finding.focus.iri]}, {outcome.key}); no findings given")
            if key is None:
                plain.append((result, finding))
                continue
            group = (finding.rule, finding.focus.iri, finding.series)
            best = least.get(group)
            if best is None or key < best[0]:
                least[group] = (key, [(result, finding)])
            elif key == best[0]:
                best[1].append((result, finding))
    for _, pairs in least.values():
        plain.extend(pairs)
    results: dict[tuple[object, ...], ShapeResult] = {}
    for result, _ in plain:
        results.setdefault(_identity(result), result)
    report = Report(as_of, _merge(f for _, f in plain))
    return Validation(report, sorted(results.values(), key=_identity))


def _identity(result: ShapeResult) -> tuple[object, ...]:
    """What makes two partitions' results the same result (and orders them, for a stable report)."""
    return (result.shape, result.focus, result.message, result.component, result.path or "", result.value or "",
            tuple(sorted(result.bindings.items())))
