"""Findings and derived legal status as of a date, computed once per date and per loaded data.

A validation run over a million trades takes seconds, so it is not
per-request work: the first request for an as-of date runs the rules
engine (:func:`bepgraph.validation.run.validate_graph`, which also writes
the derived graph), reads the derived statuses it needs with named
queries, and keeps the result until the sources in the store change (their
provenance in graph/meta, read with one small query per request that asks
for an as-of answer). Runs are serialized: the derived graph holds one
as-of date at a time.
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
from ..validation.derive import DERIVED_LOCK
from ..validation.findings import Report
from .fields import to_python

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


def _validate(store: Store, as_of: date) -> Report:
    """The function boundary to the rules engine (issue 3): findings, and the derived graph written."""
    from ..validation.run import validate_graph

    return validate_graph(store, as_of)


def _derive(store: Store, as_of: date) -> None:  # called holding DERIVED_LOCK
    """Only the derived graph (a tenth of a validation's time): enough for the status fields."""
    from ..validation.derive import derive

    derive(store, as_of)


def _rows(store: Store, name: str) -> list[dict[str, Any]]:
    result = store.query(find_query(f"graphql/{name}").text)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [{n: (None if row[n] is None else to_python(row[n])) for n in names} for row in result]  # type: ignore[union-attr]


def read_snapshot(store: Store, as_of: date, findings: bool) -> Snapshot:
    """Derive the status as of *as_of* (and run the rules if *findings*), then read what was derived."""
    if findings:
        snap = Snapshot(as_of=as_of, report=_validate(store, as_of))
    else:
        _derive(store, as_of)
        snap = Snapshot(as_of=as_of, report=None)
    for r in _rows(store, "plan-in-effect"):
        snap.plan.setdefault(r["series"], []).append(PlanInterval(r["from"], r["until"], r["reason"], r["due"]))
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in _rows(store, "trustee-status"):
        grouped[r["trustee"]].append(r)
    for trustee, rows in grouped.items():
        first = rows[0]
        snap.trustees[trustee] = TrusteeState(
            on=first["on"], in_office=bool(first["inOffice"]), interested=bool(first["interested"]),
            rule12b1=bool(first["rule12b1"]),
            reasons=tuple(sorted({r["reason"] for r in rows if r["reason"]})),
            rests_on=tuple(sorted({r["restsOn"] for r in rows if r["restsOn"]})))
    spans: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    for r in _rows(store, "agreement-in-force"):
        spans[(r["agreement"], r["start"])].append(r)
    for (agreement, start), rows in sorted(spans.items()):
        snap.agreements.setdefault(agreement, []).append(AgreementInterval(
            start, rows[0]["end"], rows[0]["reason"],
            tuple(sorted({r["restsOn"] for r in rows if r["restsOn"]}))))
    return snap


Generation = tuple[tuple[str, str, str], ...]


def generation(store: Store) -> Generation:
    """What identifies the loaded sources: each source graph's sha256 and load time."""
    return tuple((r["graph"], r["sha"], str(r["at"])) for r in _rows(store, "store-generation"))


class AsOfCache:
    """Snapshots per (generation, as-of date), shared by every request of one app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[tuple[Any, date], Snapshot] = OrderedDict()
        self._sources: tuple[int, object, Generation] | None = None  # (store id, its write count, generation)

    def generation(self, store: Store) -> Generation:
        """The sources' provenance, read again only when the store was written since the last read.

        An embedded store counts its writes (``store.generation``); while the
        count stands, nothing can have replaced a source, so the provenance
        query is skipped: one query less per request. Stores that do not count
        (a remote server) are asked every time.
        """
        stamp = getattr(store, "generation", None)
        known = self._sources
        if stamp is not None and known is not None and known[0] == id(store) and known[1] == stamp:
            return known[2]
        found = generation(store)
        if stamp is not None:
            self._sources = (id(store), stamp, found)
        return found

    def cached(self, store: Store, as_of: date, findings: bool = False) -> Snapshot | None:
        """The snapshot for *as_of* if it is already known for the loaded data, without computing anything."""
        known = self._snapshots.get((self.generation(store), as_of))
        return None if known is None or (findings and known.report is None) else known

    def _get(self, store: Store, as_of: date, findings: bool) -> Snapshot:
        with self._lock:
            key = (self.generation(store), as_of)
            known = self._snapshots.get(key)
            if known is None or (findings and known.report is None):
                with DERIVED_LOCK:  # the one graph/derived, shared with the board views and validation runs
                    self._snapshots[key] = read_snapshot(store, as_of, findings)
                while len(self._snapshots) > KEEP:
                    self._snapshots.popitem(last=False)
            self._snapshots.move_to_end(key)
            return self._snapshots[key]

    async def get(self, store: Store, as_of: date, findings: bool = False) -> Snapshot:
        """The snapshot for *as_of* (with findings if asked): served from the cache on the event loop,
        or computed in a worker thread so the loop keeps serving."""
        known = self.cached(store, as_of, findings)
        return known if known is not None else await asyncio.to_thread(self._get, store, as_of, findings)
