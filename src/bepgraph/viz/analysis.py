"""What the trustees ask of the pictures, answered with networkx.

- how concentrated directed commissions are by broker (shares, and the
  Herfindahl-Hirschman index on the 0-10,000 scale regulators use);
- which chain of relationships makes a broker an affiliated person of the
  Distributor, the adviser or a sub-adviser (the derived affiliation's rows,
  else the shortest path through the relationships in force);
- which series send the largest share of their directed commissions to
  affiliated brokers.

Inputs are the views of :mod:`bepgraph.viz.views`: the money flow and the
control graph for the same dates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import networkx as nx

__all__ = ["AffiliationPath", "BrokerShare", "Concentration", "Exposure", "Analysis",
           "affiliated_brokers", "affiliation_paths", "analyse", "concentration", "exposure", "parties_that_matter"]

_PRINCIPALS = {"distributor", "adviser", "sub-adviser"}


@dataclass(frozen=True)
class BrokerShare:
    broker: str
    label: str
    commission: Decimal
    trades: int
    share: float  # of all directed commissions in the period, 0-1


@dataclass(frozen=True)
class Concentration:
    total: Decimal
    hhi: float  # sum of squared percentage shares: 10,000 = one broker takes everything
    brokers: tuple[BrokerShare, ...]


@dataclass(frozen=True)
class AffiliationPath:
    broker: str
    label: str
    principal: str
    principal_label: str
    path: tuple[str, ...]  # labels, broker first
    relations: tuple[str, ...]  # one per step
    rests_on: tuple[str, ...] = ()  # relationship ids, when the derivation names them


@dataclass(frozen=True)
class Exposure:
    series: str
    label: str
    directed: Decimal
    affiliated: Decimal

    @property
    def share(self) -> float:
        return float(self.affiliated / self.directed) if self.directed else 0.0


@dataclass
class Analysis:
    concentration: Concentration
    paths: list[AffiliationPath] = field(default_factory=list)
    exposure: list[Exposure] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        c = self.concentration
        return {
            "concentration": {
                "total": float(c.total), "hhi": round(c.hhi, 1),
                "brokers": [{"broker": b.broker, "label": b.label, "commission": float(b.commission),
                             "trades": b.trades, "share": round(b.share, 4)} for b in c.brokers],
            },
            "affiliationPaths": [{"broker": p.broker, "label": p.label, "principal": p.principal,
                                  "principalLabel": p.principal_label, "path": list(p.path),
                                  "relations": list(p.relations), "restsOn": list(p.rests_on)}
                                 for p in self.paths],
            "exposure": [{"series": e.series, "label": e.label, "directed": float(e.directed),
                          "affiliated": float(e.affiliated), "share": round(e.share, 4)}
                         for e in self.exposure],
        }


def _label(graph: nx.MultiDiGraph, node: str) -> str:
    return str(graph.nodes[node].get("label", node))


def concentration(money: nx.MultiDiGraph) -> Concentration:
    """Directed commissions by executing broker over the money view's period."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    trades: dict[str, int] = defaultdict(int)
    for _, broker, attrs in money.edges(data=True):
        if attrs.get("relation") == "commission":
            totals[broker] += Decimal(attrs.get("amount", 0))
            trades[broker] += int(attrs.get("count", 0))
    total = sum(totals.values(), Decimal(0))
    shares = [
        BrokerShare(b, _label(money, b), amount, trades[b], float(amount / total) if total else 0.0)
        for b, amount in totals.items()
    ]
    shares.sort(key=lambda s: (-s.commission, s.broker))
    return Concentration(total, sum((s.share * 100) ** 2 for s in shares), tuple(shares))


def _relationship_graph(control: nx.MultiDiGraph) -> nx.Graph:
    """The relationships in force, undirected: affiliation runs both ways along control."""
    undirected = nx.Graph()
    for a, b, attrs in control.edges(data=True):
        if attrs.get("relation") != "affiliated":
            undirected.add_edge(a, b, relation=attrs.get("relation"))
    return undirected


def affiliated_brokers(control: nx.MultiDiGraph) -> set[str]:
    """Brokers the derivation found affiliated with the Distributor, the adviser or a sub-adviser."""
    found = set()
    for a, b, attrs in control.edges(data=True):
        if attrs.get("relation") != "affiliated":
            continue
        kinds = {control.nodes[a].get("kind"), control.nodes[b].get("kind")}
        if "broker" in kinds and kinds & _PRINCIPALS:
            found.add(a if control.nodes[a].get("kind") == "broker" else b)
    return found


def affiliation_paths(control: nx.MultiDiGraph) -> list[AffiliationPath]:
    """For each affiliated broker and principal: the chain of relationships between them."""
    rel = _relationship_graph(control)
    paths: list[AffiliationPath] = []
    seen: set[tuple[str, str]] = set()
    for a, b, attrs in sorted(control.edges(data=True), key=lambda e: (e[0], e[1])):
        if attrs.get("relation") != "affiliated":
            continue
        ka, kb = control.nodes[a].get("kind"), control.nodes[b].get("kind")
        if ka == "broker" and kb in _PRINCIPALS:
            broker, principal = a, b
        elif kb == "broker" and ka in _PRINCIPALS:
            broker, principal = b, a
        else:
            continue
        if (broker, principal) in seen:
            continue
        seen.add((broker, principal))
        try:
            steps = nx.shortest_path(rel, broker, principal)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            steps = [broker, principal]
        relations = tuple(str(rel.edges[u, v]["relation"]) if rel.has_edge(u, v) else "affiliated"
                          for u, v in zip(steps, steps[1:]))
        rests = tuple(sorted(str(r).rsplit("/", 1)[-1] for r in attrs.get("restsOn", [])))
        paths.append(AffiliationPath(broker, _label(control, broker), principal, _label(control, principal),
                                     tuple(_label(control, n) for n in steps), relations, rests))
    return paths


def exposure(money: nx.MultiDiGraph, affiliated: set[str]) -> list[Exposure]:
    """Series by the share of their directed commissions that went to affiliated brokers, most exposed first."""
    directed: dict[str, Decimal] = defaultdict(Decimal)
    to_affiliated: dict[str, Decimal] = defaultdict(Decimal)
    for series, broker, attrs in money.edges(data=True):
        if attrs.get("relation") != "commission":
            continue
        amount = Decimal(attrs.get("amount", 0))
        directed[series] += amount
        if broker in affiliated:
            to_affiliated[series] += amount
    rows = [Exposure(s, _label(money, s), directed[s], to_affiliated[s]) for s in directed]
    rows.sort(key=lambda e: (-e.share, -e.affiliated, e.series))
    return rows


def analyse(money: nx.MultiDiGraph, control: nx.MultiDiGraph) -> Analysis:
    """The three analyses, from the money view and the control view of the same dates."""
    return Analysis(concentration(money), affiliation_paths(control), exposure(money, affiliated_brokers(control)))


def parties_that_matter(control: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The control view cut down to the chains that make a broker affiliated or a trustee interested.

    For each affiliated broker and principal, and each interested trustee and
    principal it is linked to, the shortest chain of relationships in force;
    the relationship edges among those parties, and one affiliation edge per
    broker and principal. Everything else in the view explains nothing a
    board is asked about.
    """
    rel = _relationship_graph(control)
    keep: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    kinds = {n: control.nodes[n].get("kind") for n in control}
    for a, b, attrs in control.edges(data=True):
        if attrs.get("relation") != "affiliated":
            continue
        if kinds[a] == "broker" and kinds[b] in _PRINCIPALS:
            pairs.add((a, b))
        elif kinds[b] == "broker" and kinds[a] in _PRINCIPALS:
            pairs.add((b, a))
    starts = [(broker, [p]) for broker, p in sorted(pairs)]
    principals = sorted(n for n, k in kinds.items() if k in _PRINCIPALS | {"trust"})
    starts += [(n, principals) for n, a in control.nodes(data=True) if a.get("kind") == "trustee" and a.get("interested") is True]
    for start, ends in starts:
        keep.add(start)
        for end in ends:
            try:
                keep.update(nx.shortest_path(rel, start, end))
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
    out = nx.MultiDiGraph(**control.graph)
    for n in sorted(keep):
        out.add_node(n, **control.nodes[n])
    for a, b, k, attrs in control.edges(keys=True, data=True):
        if a in keep and b in keep and (attrs.get("relation") != "affiliated" or (a, b) in pairs):
            out.add_edge(a, b, key=k, **attrs)
    return out
