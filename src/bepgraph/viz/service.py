"""One view as the page draws it: the view, its findings and the analysis, for one set of dates.

Shared by the /viz door and the board pack, so the page and the paper show
the same thing. Findings are the expensive part (a whole validation run);
they, the views and the page data built from them are kept in the
process's one answer cache (``validation/cache.py``), per loaded data and
per dates asked, so a page asked again is served without a query.
"""

from __future__ import annotations

from datetime import date

import networkx as nx

from ..store import Store
from ..validation.cache import answers
from ..validation.findings import Finding, Report
from .analysis import Analysis, analyse
from .marks import findings_as_of, mark_findings
from .page_data import to_page_data
from .views import Period, build_view

__all__ = ["cached_page_data", "page_data", "unplaced", "view_of"]


def view_of(store: Store, name: str, as_of: date, period: Period) -> nx.MultiDiGraph:
    """View *name* from the shared cache, as a copy the caller may mark."""
    graph = answers().get(store, ("view", name, as_of, period.start, period.end),
                          lambda: build_view(store, name, as_of, period))
    return graph.copy()


def unplaced(graph: nx.MultiDiGraph, report: Report) -> list[dict[str, object]]:
    """The findings no node of *graph* carries (on the plan, on trades of series not drawn…)."""
    placed = {(f["rule"], f["focus"], f["message"]) for _, d in graph.nodes(data=True) for f in d.get("findings", [])}
    return [f.as_dict() for f in sorted(report.findings, key=Finding.sort_key)
            if (f.rule, f"{f.focus.table}/{f.focus.id}", f.message) not in placed]


def analysis_for(store: Store, as_of: date, period: Period) -> Analysis:
    return answers().get(store, ("analysis", as_of, period.start, period.end),
                         lambda: analyse(view_of(store, "money", as_of, period),
                                         view_of(store, "control", as_of, period)))


def page_data(store: Store, view: str, as_of: date, period: Period, report: Report | None,
              with_analysis: bool = True) -> dict[str, object]:
    """The JSON of /viz/data for *view*; *report* None leaves the nodes unmarked."""
    graph = view_of(store, view, as_of, period)
    left: list[dict[str, object]] = []
    if report is not None:
        mark_findings(graph, report)
        left = unplaced(graph, report)
    analysis = analysis_for(store, as_of, period).as_dict() if with_analysis else None
    return to_page_data(graph, analysis, left)


def cached_page_data(store: Store, view: str, as_of: date, period: Period, findings: bool = True,
                     with_analysis: bool = True) -> dict[str, object]:
    """:func:`page_data` with the findings of the date (if *findings*), built once per loaded data and dates.

    The dict is shared by every request that asks the same: callers serialize it, never change it.
    """
    def build() -> dict[str, object]:
        report = findings_as_of(store, as_of) if findings else None
        return page_data(store, view, as_of, period, report, with_analysis)

    return answers().get(store, ("page", view, as_of, period.start, period.end, findings, with_analysis), build)
