"""A view as the JSON the /viz page draws: Cytoscape.js elements, the findings and the analysis.

Big views are aggregated, never drawn whole: trades are summed in the store
(the money-flow query), and matters that share a group (one meeting, one
action, as many matters as series) collapse into one node when a view has
more nodes than a reader can take in. The counts in the JSON are those of
the elements sent, so the page and its tests agree on what is drawn.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import networkx as nx

__all__ = ["COLLAPSE_ABOVE", "collapse_groups", "to_page_data"]

COLLAPSE_ABOVE = 120  # nodes; a view larger than this collapses its groups


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def collapse_groups(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Nodes with the same ``group`` become one node; their edges merge by (ends, relation), counted and summed."""
    merged_into: dict[str, str] = {}
    members: dict[str, list[str]] = defaultdict(list)
    for node, attrs in graph.nodes(data=True):
        if attrs.get("group"):
            merged_into[node] = "group:" + str(attrs["group"])
            members[merged_into[node]].append(node)
    if not members:
        return graph
    out = nx.MultiDiGraph(**graph.graph)
    for node, attrs in graph.nodes(data=True):
        if node not in merged_into:
            out.add_node(node, **attrs)
    for group, nodes in members.items():
        first = graph.nodes[nodes[0]]
        findings = [f for n in nodes for f in graph.nodes[n].get("findings", [])]
        severities = [graph.nodes[n]["severity"] for n in nodes if "severity" in graph.nodes[n]]
        attrs = {k: v for k, v in first.items() if k not in ("id", "table", "findings", "severity")}
        attrs.update(label=f"{group[len('group:'):]} ({len(nodes)})", members=sorted(nodes), count=len(nodes))
        if findings:
            attrs["findings"] = findings
            attrs["severity"] = min(severities, key=("violation", "warning", "info").index)
        out.add_node(group, **attrs)
    sums: dict[tuple[str, str, str], dict[str, object]] = {}
    for u, v, attrs in graph.edges(data=True):
        a, b = merged_into.get(u, u), merged_into.get(v, v)
        key = (a, b, str(attrs.get("relation", "")))
        edge = sums.setdefault(key, {"relation": key[2], "count": 0})
        edge["count"] = int(edge["count"]) + int(attrs.get("count", 1))  # type: ignore[call-overload]
        if "amount" in attrs:
            edge["amount"] = Decimal(edge.get("amount", 0)) + Decimal(attrs["amount"])  # type: ignore[arg-type]
    for (a, b, relation), attrs in sorted(sums.items()):
        out.add_edge(a, b, key=relation, **attrs)
    return out


def to_page_data(graph: nx.MultiDiGraph, analysis: dict[str, object] | None = None,
                 unplaced: list[dict[str, object]] | None = None) -> dict[str, object]:
    """The JSON of ``/viz/data``: Cytoscape elements plus what the side panel shows."""
    if graph.number_of_nodes() > COLLAPSE_ABOVE:
        graph = collapse_groups(graph)
    nodes = []
    for node, attrs in sorted(graph.nodes(data=True)):
        data = {k: _plain(v) for k, v in attrs.items() if k != "id"}
        data.update(id=node, entityId=attrs.get("id"), label=str(attrs.get("label", node)))
        nodes.append({"data": data, "classes": " ".join(
            c for c in (str(attrs.get("kind", "other")), str(attrs.get("severity", ""))) if c)})
    edges = []
    for index, (u, v, key, attrs) in enumerate(sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], str(e[2])))):
        data = {k: _plain(val) for k, val in attrs.items()}
        data.update(id=f"e{index}", source=u, target=v, relation=str(attrs.get("relation", key)))
        if "amount" in attrs:
            data["amountText"] = f"{Decimal(attrs['amount']):,.2f}"
        edges.append({"data": data, "classes": str(data["relation"]).replace(" ", "-")})
    g = graph.graph
    return {
        "view": g.get("view"), "title": g.get("title"), "asOf": g.get("as_of"),
        "from": g.get("start"), "to": g.get("end"),
        "counts": {"nodes": len(nodes), "edges": len(edges)},
        "elements": {"nodes": nodes, "edges": edges},
        "findings": g.get("findings"),
        "unplaced": unplaced or [],
        "analysis": analysis,
    }
