"""Findings and derived legal status as of a date, computed once per date and per loaded data.

A validation run over a million trades takes seconds, so it is not
per-request work: the first request for an as-of date takes the run from
the process's one answer cache (``validation/cache.py``, shared with /viz,
the board pack and the CLI) and reads the derived statuses it needs with
named queries over a private copy of the store holding that date's derived
graph (``validation/overlay.py``). Nothing is written to the store; two
dates are computed side by side, the same date once.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..sparql import find_query
from ..store import Store
from ..validation.cache import answers
from ..validation.findings import Report
from ..validation.findings_source import VALIDATED, FindingsSource
from ..validation.overlay import with_derived
from ..terms import to_python

__all__ = ["AgreementInterval", "AsOfCache", "PlanInterval", "Snapshot", "TrusteeState"]

KEEP = 16  # as-of dates kept per generation of the data


@dataclass(frozen=True)
class PlanInterval:
    start: date
    until: date | None
    reason: str | None
    continuance_due: date | None


@dataclass(frozen=True)
class TrusteeState:
    on: date
    in_office: bool
    interested: bool
    rule12b1: bool
    reasons: tuple[str, ...]
    rests_on: tuple[str, ...]


@dataclass(frozen=True)
class AgreementInterval:
    start: date
    end: date | None
    reason: str | None
    rests_on: tuple[str, ...]


@dataclass
class Snapshot:
    """Everything as-of dependent that GraphQL serves for one date."""

    as_of: date
    report: Report | None  # None: only the derived statuses were asked for
    plan: dict[str, list[PlanInterval]] = field(default_factory=dict)
    trustees: dict[str, TrusteeState] = field(default_factory=dict)
    agreements: dict[str, list[AgreementInterval]] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # answers derived from it, kept with it (findings.py)


def _rows(store: Store, name: str) -> list[dict[str, Any]]:
    result = store.query(find_query(f"graphql/{name}").text)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [{n: (None if row[n] is None else to_python(row[n])) for n in names} for row in result]  # type: ignore[union-attr]


_STATUS_QUERIES = ("plan-in-effect", "trustee-status", "agreement-in-force")


def _status_rows(store: Store, as_of: date) -> dict[str, list[dict[str, Any]]]:
    """The derived statuses as of *as_of*, read in a private copy holding that date's graph/derived."""
    def read(copy: Store) -> dict[str, list[dict[str, Any]]]:
        return {name: _rows(copy, name) for name in _STATUS_QUERIES}

    for name in _STATUS_QUERIES:
        find_query(f"graphql/{name}")  # parsed here, inherited parsed by the copy
    return with_derived(store, as_of, read, f"the derived status as of {as_of}")


def read_snapshot(store: Store, as_of: date, findings: bool, source: FindingsSource = VALIDATED) -> Snapshot:
    """The status derived as of *as_of* (and the rules' findings if *findings*), from the shared cache;
    the findings from the process's one *source* (with findings files, a date no file covers is refused)."""
    report = source.report(store, as_of) if findings else None
    cache = answers()
    status = cache.get(store, ("status-rows", as_of), lambda: _status_rows(store, as_of))
    snap = Snapshot(as_of=as_of, report=report)
    for r in status["plan-in-effect"]:
        snap.plan.setdefault(r["series"], []).append(PlanInterval(r["from"], r["until"], r["reason"], r["due"]))
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in status["trustee-status"]:
        grouped[r["trustee"]].append(r)
    for trustee, rows in grouped.items():
        first = rows[0]
        snap.trustees[trustee] = TrusteeState(
            on=first["on"], in_office=bool(first["inOffice"]), interested=bool(first["interested"]),
            rule12b1=bool(first["rule12b1"]),
            reasons=tuple(sorted({r["reason"] for r in rows if r["reason"]})),
            rests_on=tuple(sorted({r["restsOn"] for r in rows if r["restsOn"]})))
    spans: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    for r in status["agreement-in-force"]:
        spans[(r["agreement"], r["start"])].append(r)
    for (agreement, start), rows in sorted(spans.items()):
        snap.agreements.setdefault(agreement, []).append(AgreementInterval(
            start, rows[0]["end"], rows[0]["reason"],
            tuple(sorted({r["restsOn"] for r in rows if r["restsOn"]}))))
    return snap


class AsOfCache:
    """Snapshots per (generation of the loaded facts, as-of date), shared by every request of one app.

    The runs and statuses under them come from the process's one cache; a
    snapshot adds the per-date indexes GraphQL builds over them (``memo``).
    """

    def __init__(self, source: FindingsSource = VALIDATED) -> None:
        self.source = source  # the process's findings: validated, or read from files (``serve --findings-file``)
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[tuple[Any, date, bool], Snapshot] = OrderedDict()

    def cached(self, store: Store, as_of: date, findings: bool = False) -> Snapshot | None:
        """The snapshot for *as_of* if it is already known for the loaded data, without computing anything."""
        gen = store.generation()
        with self._lock:
            known = self._snapshots.get((gen, as_of, True))
            if known is None and not findings:
                known = self._snapshots.get((gen, as_of, False))
            return known

    def _get(self, store: Store, as_of: date, findings: bool) -> Snapshot:
        gen = store.generation()
        snap = read_snapshot(store, as_of, findings, self.source)
        with self._lock:
            key = (gen, as_of, findings)
            known = self._snapshots.get(key)
            if known is None:
                self._snapshots[key] = known = snap
                while len(self._snapshots) > KEEP:
                    self._snapshots.popitem(last=False)
            self._snapshots.move_to_end(key)
            return known

    async def get(self, store: Store, as_of: date, findings: bool = False) -> Snapshot:
        """The snapshot for *as_of* (with findings if asked): served from the cache on the event loop,
        or computed in a worker thread so the loop keeps serving."""
        if findings and self.source is not VALIDATED:  # files: refused once the store holds other facts
            await asyncio.to_thread(self.source.vouch, store)
        known = self.cached(store, as_of, findings)
        return known if known is not None else await asyncio.to_thread(self._get, store, as_of, findings)
