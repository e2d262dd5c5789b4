"""One view as the page draws it: the view, its findings and the analysis, for one set of dates.

Shared by the /viz door and the board pack, so the page and the paper show
the same thing. Findings are the expensive part (a whole validation run),
so they are kept per as-of date and per loaded data (the provenance of every
graph: a reload or update changes it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

import networkx as nx

from ..sparql import find_query
from ..store import Store
from ..validation.findings import Finding, Report
from .analysis import Analysis, analyse
from .marks import findings_as_of, mark_findings
from .page_data import to_page_data
from .views import Period, build_view

__all__ = ["FindingsCache", "page_data", "unplaced"]

KEEP = 8  # as-of dates kept


class FindingsCache:
    """Validation reports per (loaded data, as-of date); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: OrderedDict[tuple[object, date], Report] = OrderedDict()

    @staticmethod
    def _generation(store: Store) -> tuple[str, ...]:
        triples = store.query(find_query("viz/generation-construct").text)
        return tuple(sorted(f"{t.subject} {t.predicate} {t.object}" for t in triples))  # type: ignore[union-attr]

    def get(self, store: Store, as_of: date) -> Report:
        key = (self._generation(store), as_of)
        with self._lock:
            if key not in self._reports:
                self._reports[key] = findings_as_of(store, as_of)
                while len(self._reports) > KEEP:
                    self._reports.popitem(last=False)
            self._reports.move_to_end(key)
            return self._reports[key]


def unplaced(graph: nx.MultiDiGraph, report: Report) -> list[dict[str, object]]:
    """The findings no node of *graph* carries (on the plan, on trades of series not drawn…)."""
    placed = {(f["rule"], f["focus"], f["message"]) for _, d in graph.nodes(data=True) for f in d.get("findings", [])}
    return [f.as_dict() for f in sorted(report.findings, key=Finding.sort_key)
            if (f.rule, f"{f.focus.table}/{f.focus.id}", f.message) not in placed]


def analysis_for(store: Store, as_of: date, period: Period) -> Analysis:
    return analyse(build_view(store, "money", as_of, period), build_view(store, "control", as_of, period))


def page_data(store: Store, view: str, as_of: date, period: Period, report: Report | None,
              with_analysis: bool = True) -> dict[str, object]:
    """The JSON of /viz/data for *view*; *report* None leaves the nodes unmarked."""
    graph = build_view(store, view, as_of, period)
    left: list[dict[str, object]] = []
    if report is not None:
        mark_findings(graph, report)
        left = unplaced(graph, report)
    analysis = analysis_for(store, as_of, period).as_dict() if with_analysis else None
    return to_page_data(graph, analysis, left)
