"""The findings as of a date, marked on the nodes of a view they concern.

Why a module of its own: the findings come from the rules engine
(``validation.run.validate_graph``, findings.md), the views from the store;
this is the one place that joins them, so a change of either contract is
met here only.
"""

from __future__ import annotations

from datetime import date

import networkx as nx

from ..namespaces import entity_iri
from ..store import Store
from ..validation.findings import Finding, Report
from ..validation.findings_source import VALIDATED

__all__ = ["SEVERITY_ORDER", "findings_as_of", "mark_findings", "unplaced"]

SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}


def findings_as_of(store: Store, as_of: date) -> Report:
    """Every rule judged as of *as_of*: the run of the process's one cache (validated once per date and load).
    A door asks its process's findings source instead (validation/findings_source.py)."""
    return VALIDATED.report(store, as_of)


def _targets(graph: nx.MultiDiGraph, finding: Finding) -> list[str]:
    """The focus node if the view draws it, else the series the finding names (a trade is drawn as its series)."""
    if finding.focus.iri in graph:
        return [finding.focus.iri]
    return [iri for s in finding.series if (iri := entity_iri("series", s)) in graph]


def mark_findings(graph: nx.MultiDiGraph, report: Report) -> int:
    """Attach to each node the findings that concern it (``findings``, worst ``severity``); returns how many were placed."""
    placed = 0
    for finding in sorted(report.findings, key=Finding.sort_key):
        targets = _targets(graph, finding)
        placed += bool(targets)
        for node in targets:
            attrs = graph.nodes[node]
            attrs.setdefault("findings", []).append({
                "rule": finding.rule, "severity": finding.severity, "message": finding.message,
                "citation": list(finding.citation), "focus": f"{finding.focus.table}/{finding.focus.id}",
            })
            worst = attrs.get("severity")
            if worst is None or SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[str(worst)]:
                attrs["severity"] = finding.severity
    graph.graph["findings"] = {"as_of": report.as_of.isoformat(), "total": len(report.findings),
                               "placed": placed, "counts": report.counts}
    return placed


def unplaced(graph: nx.MultiDiGraph, report: Report) -> list[dict[str, object]]:
    """The findings no node of *graph* carries (on the plan, on trades of series not drawn…)."""
    placed = {(f["rule"], f["focus"], f["message"]) for _, d in graph.nodes(data=True) for f in d.get("findings", [])}
    return [f.as_dict() for f in sorted(report.findings, key=Finding.sort_key)
            if (f.rule, f"{f.focus.table}/{f.focus.id}", f.message) not in placed]

