"""The money flow as Sankey nodes and bands: commissions by series → brokers → payments and credits → recipients → plan ¶2 categories.

Why a Sankey: the money view is a flow through five stages, and a Sankey is
the form readers of fund reports know for it: band widths are the amounts,
so where the money goes is seen before any number is read. The page draws
these bands with d3-sankey, the pack with its own reportlab drawing; both
take this one structure, so the page and the paper agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

import networkx as nx

__all__ = ["COLUMNS", "Sankey", "SankeyLink", "SankeyNode", "sankey"]

COLUMNS = ("series", "brokers", "payments and credits", "recipients", "plan ¶2 categories")
_COLUMN_OF = {"series": 0, "broker": 1, "benefit-kind": 2, "recipient": 3, "category": 4}
_KIND_LABEL = {"BrokeragePayment": "brokerage payments", "BrokerageCredit": "brokerage credits"}


class SankeyNode(TypedDict):
    """A stage's party or category: its column (index into COLUMNS) and the larger of what flows in and out."""

    id: str
    label: str
    kind: object
    column: int
    value: float
    severity: object
    cluster: object
    members: object


class SankeyLink(TypedDict):
    """A band from one node to the next column's: its amount and what it is (commission, payment…)."""

    source: str
    target: str
    value: float
    relation: object
    count: int


# "from" is a keyword, so the functional form
Sankey = TypedDict("Sankey", {"columns": list[str], "nodes": list[SankeyNode], "links": list[SankeyLink],
                              "from": object, "to": object})


def sankey(money: nx.MultiDiGraph) -> Sankey:
    """Nodes (id, label, column, value) and links (source, target, value, relation) of a money view."""
    links: list[SankeyLink] = []
    value_in: dict[str, Decimal] = {}
    value_out: dict[str, Decimal] = {}
    for u, v, a in sorted(money.edges(data=True), key=lambda e: (e[0], e[1], str(e[2].get("relation")))):
        amount = Decimal(a.get("amount", 0))
        if amount <= 0:
            continue
        links.append({"source": str(u), "target": str(v), "value": float(amount), "relation": a.get("relation"),
                      "count": int(a.get("count", 0))})
        value_out[u] = value_out.get(u, Decimal(0)) + amount
        value_in[v] = value_in.get(v, Decimal(0)) + amount
    used = set(value_in) | set(value_out)
    nodes: list[SankeyNode] = []
    for n in sorted(used):
        a = money.nodes[n]
        label = str(a.get("label", n))
        nodes.append({"id": str(n), "label": _KIND_LABEL.get(label, label), "kind": a.get("kind", "other"),
                      "column": _COLUMN_OF.get(str(a.get("kind")), 0),
                      "value": float(max(value_in.get(n, Decimal(0)), value_out.get(n, Decimal(0)))),
                      "severity": a.get("severity"), "cluster": a.get("cluster"),
                      "members": a.get("members", [])})
    return {"columns": list(COLUMNS), "nodes": nodes, "links": links,
            "from": money.graph.get("start"), "to": money.graph.get("end")}
