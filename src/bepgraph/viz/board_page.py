"""What the /viz page draws for one view: the view's graph shaped for a reader, with its matrix or Sankey.

Why apart from :mod:`bepgraph.viz.marks`: that module finds the findings
and marks them on a view; this one decides what a trustee sees on a 1400×900 screen:
the 38 series aggregated by sub-adviser unless expanded, brokers drawn after
the agreements they are party to, the governance view as a matrix and the
money view as a Sankey. The pack draws the same structures on paper.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from datetime import date

import networkx as nx

from ..errors import ParameterError
from ..store import Store
from ..validation.findings import Report
from .marks import mark_findings, unplaced
from .matrix import governance_matrix
from .page_data import group_isolated, group_series, to_page_data
from .review import TRUST_WIDE, heat_map
from .sankey import sankey
from .analysis import analyse
from .views import Period, build_view

__all__ = ["BUILT", "ViewCache", "board_data", "sub_advisers_of_series"]

GROUPED_VIEWS = ("structure", "money")
KEEP = 32  # views kept: four views for eight sets of dates


class ViewCache:
    """Built views per (loaded data, view, dates); thread-safe; each caller gets its own copy to mark.

    Why: a view is a pure function of the loaded data and its dates (the
    derived status included, derived for the as-of date), and at a million
    trades the money view's sums cost seconds; the page asks for the same
    views again as the reader clicks. The loaded data is told by graph/meta's
    digests, so a reload or an update makes every entry miss.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: OrderedDict[tuple[object, ...], nx.MultiDiGraph] = OrderedDict()
        self.built = 0  # views built, not found: for the tests

    def get(self, store: Store, name: str, as_of: date, period: Period,
            generation: Hashable | None = None) -> nx.MultiDiGraph:
        # the store itself too: two stores can hold the same digests (one process, two apps in the tests)
        key = (id(store), generation if generation is not None else store.generation(), name, as_of, period)
        with self._lock:
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return copy.deepcopy(found)  # marked, grouped and trimmed by the caller: never the kept one
        graph = build_view(store, name, as_of, period)
        with self._lock:
            self.built += 1
            self._views[key] = copy.deepcopy(graph)
            while len(self._views) > KEEP:
                self._views.popitem(last=False)
        return graph


BUILT = ViewCache()  # the process's one: /viz and the board pack build a view once per loaded data and dates


def sub_advisers_of_series(structure: nx.MultiDiGraph) -> dict[str, tuple[str, str]]:
    """Series node -> (sub-adviser id, label), from a structure view's ``subAdvises`` edges."""
    out: dict[str, tuple[str, str]] = {}
    for sub, series, a in sorted(structure.edges(data=True), key=lambda e: (e[1], e[0])):
        if a.get("relation") == "subAdvises" and series not in out:
            attrs = structure.nodes[sub]
            out[series] = (str(attrs.get("id", sub)), str(attrs.get("label", sub)))
    return out


def _brokers_after_agreements(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A broker's ``partyTo`` edge turned to run agreement -> broker, so a layered layout puts brokers last."""
    out = graph.copy()
    for u, v, k, a in list(graph.edges(keys=True, data=True)):
        if a.get("relation") == "partyTo" and graph.nodes[u].get("kind") == "broker":
            out.remove_edge(u, v, key=k)
            out.add_edge(v, u, key=k, **{**a, "relation": "party"})
    return out


def _without_implied_series(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The Trust's edge to each group of series dropped where a sub-adviser's edge already reaches it."""
    out = graph.copy()
    for u, v, k, a in list(graph.edges(keys=True, data=True)):
        if a.get("relation") == "hasSeries" and any(graph.edges[w, v, j].get("relation") == "subAdvises"
                                                   for w, _, j in graph.in_edges(v, keys=True)):
            out.remove_edge(u, v, key=k)
    return out


def affiliations_that_matter(control: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The derived affiliations a reader needs: those of a broker or a trustee, one edge per pair.

    Affiliation is derived both ways and along every chain of control, so the
    view holds dozens of red edges between the adviser, the Distributor and
    their parents that the control edges already show. A board asks which
    broker is affiliated and which trustee is interested: those edges stay,
    drawn once per pair (``mutual`` when derived both ways).
    """
    out = control.copy()
    kinds = {n: control.nodes[n].get("kind") for n in control}
    seen: dict[frozenset[str], tuple[str, str, str]] = {}
    for u, v, k, a in list(control.edges(keys=True, data=True)):
        if a.get("relation") != "affiliated":
            continue
        pair = frozenset((u, v))
        if not ({kinds[u], kinds[v]} & {"broker", "trustee"}) or pair in seen:
            if pair in seen:
                kept = out.edges[seen[pair]]
                kept["mutual"] = True
                kept["restsOn"] = sorted(set(kept.get("restsOn", [])) | set(a.get("restsOn", [])))
            out.remove_edge(u, v, key=k)
            continue
        seen[pair] = (u, v, k)
    return out


def board_data(store: Store, view: str, as_of: date, period: Period, report: Report | None,
               expand: Iterable[str] = (), with_analysis: bool = True,
               views: ViewCache | None = None) -> dict[str, object]:
    """The JSON of ``/viz/data``: elements, clusters, the matrix (governance) or the Sankey (money).

    With *views*, the views are taken from that cache (the door's), else built.
    """
    generation = store.generation() if views is not None else None

    def build(name: str) -> nx.MultiDiGraph:
        return views.get(store, name, as_of, period, generation) if views is not None else \
            build_view(store, name, as_of, period)

    graph = raw = build(view)
    left: list[dict[str, object]] = []
    if report is not None:
        mark_findings(graph, report)
        left = unplaced(graph, report)
    clusters: list[dict[str, object]] = []
    expanded = frozenset(expand)
    matrix = governance_matrix(graph).as_dict() if view == "governance" else None
    raw_structure = graph if view == "structure" else build("structure")
    if view in GROUPED_VIEWS:
        sub_of = sub_advisers_of_series(raw_structure)
        known = {sub for sub, _ in sub_of.values()} | {"all"}
        unknown = sorted(expanded - known)
        if unknown:
            raise ParameterError(f"parameter expand: '{unknown[0]}' is not a sub-adviser of this view "
                                 f"(one of: {', '.join(sorted(known))})")
        if "all" in expanded:
            expanded = frozenset(known)
        graph, clusters = group_series(graph, sub_of, expanded, named=view == "money")
    if view == "structure":
        graph = _brokers_after_agreements(_without_implied_series(graph))
        graph = group_isolated(graph, "with no agreement in force")
    if view == "control":
        graph = group_isolated(affiliations_that_matter(graph), "with no relationship in force")
    analysis = None
    if with_analysis:  # from the views already built where it can: the money view is the costly one
        money = raw if view == "money" else build("money")
        control = raw if view == "control" else build("control")
        analysis = analyse(money, control).as_dict()
    data = to_page_data(graph, analysis, left)
    data["clusters"] = [c for c in clusters if c["id"] in {n["data"].get("cluster") for n in data["elements"]["nodes"]}]  # type: ignore[index]
    data["matrix"] = matrix
    data["sankey"] = sankey(graph) if view == "money" else None
    data["status"] = status_table(report, series_labels(raw_structure)) if report is not None else None
    return data


def series_labels(structure: nx.MultiDiGraph) -> dict[str, str]:
    """Series id -> label, from a structure view before grouping."""
    return {str(a["id"]): str(a.get("label", a["id"])) for _, a in structure.nodes(data=True)
            if a.get("kind") == "series" and a.get("id")}


def status_table(report: Report, labels: dict[str, str]) -> dict[str, object]:
    """The series × rule-family heat map of the findings, rows with a finding only (the page's side panel)."""
    rows, columns, cells = heat_map(report, labels)
    shown = [r for r in rows if any(cells.get((r, c)) for c in columns)]
    return {"columns": columns, "without": len([r for r in rows if r not in shown and r != TRUST_WIDE]),
            "rows": [{"label": r, "cells": [dict(cells.get((r, c), {})) for c in columns]} for r in shown]}
