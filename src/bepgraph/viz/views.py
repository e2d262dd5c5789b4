"""The four board views: each a CONSTRUCT in ``queries/viz/`` turned into a networkx graph.

Why CONSTRUCT and not SELECT: a view *is* a small graph, and the query file
says which nodes and edges it holds, so an analyst can paste it anywhere and
get the same picture's data. The conversion here is generic (see
:func:`to_networkx`); nothing about a view lives in Python except its name,
its query and the dates it takes.

Views (b) and (d) read the legal status derived for the as-of date
(``graph/derived``, docs/derived-graph.md), which lives beside the loaded
facts, never in the store users read: their query runs where that date's
derived graph is (``validation/overlay.with_derived``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import networkx as nx
import pyoxigraph as ox

from ..errors import ParameterError, StoreError
from ..namespaces import DCTERMS, RDFS, XSD, split_entity_iri
from ..sparql import find_query
from ..store import QueryResult, Store

__all__ = [
    "VIEWS",
    "VIZ",
    "Period",
    "View",
    "build_view",
    "to_networkx",
]

VIZ = "https://w3id.org/bepgraph/viz#"
_RDFS_LABEL = RDFS + "label"
_IDENTIFIER = DCTERMS + "identifier"
_EDGE_KEYS = {VIZ + "source", VIZ + "target"}


@dataclass(frozen=True)
class View:
    """A board view: its name in the page and the pack, its title, its query, whether it reads graph/derived."""

    name: str
    title: str
    query: str
    derived: bool = False


VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View("structure", "Structure: the Trust, its series, advisers, Distributor, brokers and agreements",
             "viz/structure-construct"),
        View("control", "Control and affiliation", "viz/control-construct", derived=True),
        View("money", "Money flow of directed brokerage", "viz/money-flow-construct"),
        View("governance", "Governance: trustees, independence and votes", "viz/governance-construct",
             derived=True),
    )
}


@dataclass(frozen=True)
class Period:
    """The days a view or the pack looks at: both ends included."""

    start: date
    end: date

    @classmethod
    def ending(cls, as_of: date, start: date | None = None, end: date | None = None) -> "Period":
        """The period the user asked for; by default the year that ends on the as-of date."""
        end = end or as_of
        start = start or _year_before(end)
        if start > end:
            raise ParameterError(f"the period starts ({start}) after it ends ({end})")
        return cls(start, end)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28) + timedelta(days=1)




def _literal(day: date) -> ox.Literal:
    return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))


def build_view(store: Store, name: str, as_of: date, period: Period | None = None) -> nx.MultiDiGraph:
    """View *name* as of *as_of* (money flow and governance over *period*), as a networkx graph.

    The graph's attributes say what it shows (``view``, ``title``, ``as_of``,
    ``start``, ``end``); see :func:`to_networkx` for node and edge attributes.
    """
    view = VIEWS.get(name)
    if view is None:
        raise ParameterError(f"unknown view '{name}' (views: {', '.join(VIEWS)})")
    period = period or Period.ending(as_of)
    query = find_query(view.query)
    bindings = {"asOf": _literal(as_of), "from": _literal(period.start), "to": _literal(period.end)}
    used = {p.name for p in query.parameters}
    bound = {k: v for k, v in bindings.items() if k in used}

    def read(source: Store) -> nx.MultiDiGraph:
        return to_networkx(constructed(source.query(query.text, bound)))

    if view.derived:
        from ..validation.overlay import with_derived

        graph = with_derived(store, as_of, read, f"the {view.name} view as of {as_of}")
    else:
        graph = read(store)
    graph.graph.update(view=view.name, title=view.title, as_of=as_of.isoformat(),
                       start=period.start.isoformat(), end=period.end.isoformat())
    return graph


def _value(term: ox.Literal) -> object:
    kind = term.datatype.value if term.datatype else ""
    if kind == XSD + "decimal":
        return Decimal(term.value)
    if kind == XSD + "integer":
        return int(term.value)
    if kind == XSD + "boolean":
        return term.value in ("true", "1")
    return term.value


def _key(predicate: str) -> str:
    if predicate == _RDFS_LABEL:
        return "label"
    if predicate == _IDENTIFIER:
        return "id"
    return predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


_MANY = {"reason", "restsOn"}


def _add(attrs: dict[str, object], key: str, value: object) -> None:
    if key in _MANY:
        bag = attrs.setdefault(key, [])
        assert isinstance(bag, list)  # only _add writes these keys, always as a list
        if value not in bag:
            bag.append(value)
    elif key not in attrs or str(value) < str(attrs[key]):
        attrs[key] = value  # one value per key, chosen the same way every run


def constructed(result: QueryResult) -> Iterable[ox.Triple]:
    """The triples of a CONSTRUCT query's *result* (a store that answered otherwise broke the protocol)."""
    if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
        raise StoreError("the store answered a CONSTRUCT query with solutions, not triples")
    return result


def _node_name(term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
    if isinstance(term, ox.Triple):  # RDF-star: no view's CONSTRUCT makes one
        raise ValueError(f"a view's graph has a quoted triple as a node: {term}")
    return term.value if isinstance(term, ox.NamedNode) else "_:" + term.value


def to_networkx(triples: Iterable[ox.Triple]) -> nx.MultiDiGraph:
    """A CONSTRUCT result as a directed multigraph.

    - a subject with ``viz:source`` and ``viz:target`` is an edge; its other
      properties are the edge's attributes (``relation``, ``amount``…);
    - any other triple whose object is an IRI and predicate is in ``viz:``
      is an edge named for the predicate (``relation``);
    - literal properties are node attributes (``label``, ``id``, ``kind``, ``layer``…);
    - every node gets ``kind`` (``other`` when the view says none), ``label``
      and, for entities of the bundle, ``table`` and ``id``.
    """
    nodes: dict[str, dict[str, object]] = {}
    edges: dict[str, dict[str, object]] = {}
    plain: set[tuple[str, str, str]] = set()
    for t in triples:
        s, p, o = _node_name(t.subject), t.predicate.value, t.object
        if isinstance(o, ox.Literal):
            _add(nodes.setdefault(s, {}), _key(p), _value(o))
        elif p.startswith(VIZ):
            target = _node_name(o)
            attrs = nodes.setdefault(s, {})
            if p in _EDGE_KEYS or _key(p) == "restsOn":
                _add(attrs, _key(p), target)
            else:
                plain.add((s, target, _key(p)))
    for name, attrs in list(nodes.items()):
        if "source" in attrs and "target" in attrs:
            edges[name] = nodes.pop(name)
    graph = nx.MultiDiGraph()
    for name, attrs in sorted(nodes.items()):  # by name, not by the order a store sent the triples
        if "kind" in attrs:
            graph.add_node(name, **attrs)
    ends = [(a["source"], a["target"]) for a in edges.values()] + [(s, o) for s, o, _ in plain]
    for end in sorted({str(n) for pair in ends for n in pair}):
        if end not in graph:
            graph.add_node(end, kind="other", **nodes.get(end, {}))
    # in the order of what each edge says, not of its blank node's label, which each store names its own
    # way: the same facts draw the same figure on every store (a mutual affiliation keeps the first)
    for name, attrs in sorted(edges.items(), key=lambda e: (repr(sorted(e[1].items())), e[0])):
        source, target = str(attrs.pop("source")), str(attrs.pop("target"))
        graph.add_edge(source, target, key=name, **attrs)
    for subject, target, relation in sorted(plain):
        graph.add_edge(subject, target, key=relation, relation=relation)
    for name, attrs in graph.nodes(data=True):
        found = split_entity_iri(name)
        if found:
            attrs.setdefault("table", found[0])
            attrs["id"] = found[1]
        attrs.setdefault("label", attrs.get("id") or _local(name))
    return graph


def _local(name: str) -> str:
    return name.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def iter_views() -> Iterator[View]:
    return iter(VIEWS.values())
