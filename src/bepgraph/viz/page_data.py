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

__all__ = ["COLLAPSE_ABOVE", "collapse_groups", "group_isolated", "group_series", "to_page_data"]

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
    for group, unordered in sorted(members.items()):
        nodes = sorted(unordered)  # the order the store returned them in is no order: every store must agree
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


def group_series(graph: nx.MultiDiGraph, sub_adviser_of: dict[str, tuple[str, str]],
                 expanded: frozenset[str] = frozenset(), named: bool = False) -> tuple[nx.MultiDiGraph, list[dict[str, object]]]:
    """The series of each sub-adviser drawn as one node, except the sub-advisers in *expanded*.

    *sub_adviser_of* maps a series node to its sub-adviser (id, label). The
    group node carries ``cluster`` (the sub-adviser's id, what the page sends
    back to expand it) and ``members``; *named* puts the sub-adviser's name in
    its label (where the sub-adviser is not drawn beside it). Returns the graph
    and the clusters found, expanded or not.
    """
    series = [n for n, a in graph.nodes(data=True) if a.get("kind") == "series" and n in sub_adviser_of]
    members: dict[str, list[str]] = defaultdict(list)
    for n in series:
        members[sub_adviser_of[n][0]].append(n)
    names = {sub: label for sub, label in sub_adviser_of.values()}
    clusters = [{"id": sub, "label": names[sub], "series": len(nodes), "expanded": sub in expanded}
                for sub, nodes in sorted(members.items(), key=lambda kv: names[kv[0]])]
    out = graph.copy()
    for sub, nodes in members.items():
        if sub in expanded:
            for n in nodes:
                out.nodes[n]["cluster"] = sub
            continue
        for n in nodes:
            out.nodes[n]["group"] = f"series of {sub}"
            out.nodes[n]["cluster"] = sub
    collapsed = collapse_groups(out)
    for sub, nodes in members.items():
        group = f"group:series of {sub}"
        if group in collapsed:
            word = "series"
            collapsed.nodes[group]["label"] = (f"{names[sub]}: {len(nodes)} {word}" if named
                                               else f"{len(nodes)} {word}")
            collapsed.nodes[group]["kind"] = "series"
            collapsed.nodes[group]["collapsed"] = True
            collapsed.nodes[group].pop("group", None)
    return collapsed, clusters


_PLURAL = {"series": "series", "sub-adviser": "sub-advisers", "broker": "broker-dealers", "trustee": "trustees",
           "organization": "other organizations", "agreement": "agreements"}


def group_isolated(graph: nx.MultiDiGraph, why: str) -> nx.MultiDiGraph:
    """Nodes no edge of the view touches, one node per kind ("13 broker-dealers *why*"), members listed.

    A layered layout stacks unconnected nodes in one column taller than the
    screen; grouped, they take one box and the details panel lists them.
    """
    alone: dict[str, list[str]] = defaultdict(list)
    for node, attrs in graph.nodes(data=True):
        if graph.degree(node) == 0 and not attrs.get("group"):
            alone[str(attrs.get("kind", "other"))].append(node)
    out = graph.copy()
    for kind, nodes in sorted(alone.items()):
        if len(nodes) < 2:
            continue
        labels = sorted(str(graph.nodes[n].get("label", n)) for n in nodes)
        out.remove_nodes_from(nodes)
        out.add_node(f"isolated:{kind}", kind=kind, label=f"{len(nodes)} {_PLURAL.get(kind, kind)} {why}",
                     members=sorted(nodes), memberLabels=labels, count=len(nodes), isolated=True)
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
