"""The board views as vector figures drawn by Graphviz ``dot`` (layered, top to bottom or left to right).

Why Graphviz for paper: ``dot`` ranks the nodes in layers and routes the
edges without crossings where it can, and its SVG stays vector in the PDF.
Large views are collapsed first (:func:`~bepgraph.viz.page_data.collapse_groups`),
so a page shows one node per meeting and action, not one per series.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import graphviz
import networkx as nx

from ..errors import BepgraphError
from .page_data import collapse_groups

__all__ = ["FILL", "FONT_PT", "figure", "render_svg"]

FONT_PT = 10.0  # the smallest text Graphviz is asked for (edge labels); the pack never shrinks a figure below 8 pt

FILL = {
    "trust": "#c6d4f0", "adviser": "#c8ddfb", "sub-adviser": "#dcecfd", "distributor": "#e2d4f7",
    "series": "#d3f0da", "agreement": "#f7e6b5", "broker": "#f8d0d2", "trustee": "#e3e6e9",
    "organization": "#e3e6e9", "matter": "#fde0c8", "meeting": "#eadcfd", "category": "#cdebd4",
    "benefit-kind": "#f3e3b3", "recipient": "#e2d4f7", "other": "#f0f0f0",
}
BORDER = {"violation": "#cf222e", "warning": "#bf8700", "info": "#0969da"}


def _short(text: str, width: int = 28) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines[:3])


def _coverage_as_counts(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """On paper an agreement says how many series it covers; an edge to each would fill the page."""
    out = graph.copy()
    covered = [(u, v, k) for u, v, k, a in graph.edges(keys=True, data=True) if a.get("relation") == "coveredBy"]
    counts: dict[str, int] = defaultdict(int)
    for _, agreement, _ in covered:
        counts[agreement] += 1
    out.remove_edges_from(covered)
    for agreement, n in counts.items():
        label = out.nodes[agreement].get("label", agreement)
        out.nodes[agreement]["label"] = f"{label} ({n} series)"
    return out


def figure(graph: nx.MultiDiGraph, rankdir: str = "LR") -> graphviz.Digraph:
    """A Graphviz digraph of a view: nodes filled by kind, ringed by the worst finding, one rank per layer."""
    if graph.graph.get("view") == "governance":
        graph = collapse_groups(graph)
    if graph.graph.get("view") == "structure":
        graph = _coverage_as_counts(graph)
    ids = {node: f"n{i}" for i, node in enumerate(sorted(graph.nodes))}
    view = graph.graph.get("view")
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                       "fontsize": "10", "nodesep": "0.12", "ranksep": "0.5",
                                       "splines": "true", "concentrate": "false"},
                           node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box",
                                      "style": "rounded,filled", "margin": "0.08,0.04", "height": "0.3"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "10", "color": "#8c959f",
                                      "arrowsize": "0.5"})
    layers: dict[object, list[str]] = defaultdict(list)
    for node, attrs in sorted(graph.nodes(data=True)):
        kind = str(attrs.get("kind", "other"))
        severity = attrs.get("severity")
        dot.node(ids[node], _short(str(attrs.get("label", node)), 22), fillcolor=FILL.get(kind, FILL["other"]),
                 color=BORDER.get(str(severity), "#57606a"), penwidth="2.5" if severity else "0.6",
                 shape="octagon" if attrs.get("interested") is True else "box")
        if "layer" in attrs and view != "structure":
            layers[attrs["layer"]].append(ids[node])
    for layer, members in sorted(layers.items(), key=lambda kv: str(kv[0])):
        with dot.subgraph(name=f"layer{layer}") as rank:
            rank.attr(rank="same")
            for member in members:
                rank.node(member)
    widest = max((Decimal(a.get("amount", 0)) for *_, a in graph.edges(data=True)), default=Decimal(0))
    for u, v, attrs in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1], str(e[2].get("relation")))):
        relation = str(attrs.get("relation", ""))
        label = f"{Decimal(attrs['amount']):,.0f}" if "amount" in attrs else relation.replace("_", " ")
        if attrs.get("count", 1) != 1 and "amount" not in attrs:
            label += f" ×{attrs['count']}"
        width = 0.5 + 4 * float(Decimal(attrs["amount"]) / widest) if "amount" in attrs and widest else 0.7
        style = "dashed" if relation == "affiliated" else "solid"
        color = "#cf222e" if relation in ("affiliated", "against", "abstain", "absent") else "#8c959f"
        quiet = view == "structure" or (view == "money" and relation == "commission")
        dot.edge(ids[u], ids[v], label="" if quiet else label,
                 penwidth=f"{width:.2f}", style=style, color=color)
    return dot


def render_svg(graph: nx.MultiDiGraph, rankdir: str = "LR") -> bytes:
    """The figure as SVG; Graphviz's ``dot`` program must be installed (Debian: graphviz)."""
    try:
        svg = figure(graph, rankdir).pipe(format="svg")
    except graphviz.ExecutableNotFound as exc:
        raise BepgraphError("Graphviz's `dot` was not found: install Graphviz (apt-get install graphviz)") from exc
    if not isinstance(svg, bytes):  # graphviz is untyped; pipe() without an encoding gives bytes
        raise BepgraphError(f"Graphviz gave {type(svg).__name__}, not the SVG's bytes")
    return svg
