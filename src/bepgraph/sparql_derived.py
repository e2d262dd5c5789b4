"""The SPARQL endpoint's derived graphs: ``…/graph/derived/YYYY-MM-DD`` computed when a query names it.

Why in the query process: each query process holds its own copy-on-write
copy of the in-memory store (:mod:`bepgraph.query_workers`), so the derived
facts of the dates a query names are written into that copy for that one
query and removed after it, before the process answers anything else. The
served store is never written, no query process is retired, and the answer
is the same whatever was asked before or at the same time. A process keeps
the N-Triples of the dates it derived (the loaded facts cannot change under
it: it is retired at the first write), so asking again costs a load only.

How a query names a date's graph: see ``validation/overlay.py``
(:func:`~bepgraph.validation.overlay.derived_dates`). An on-disk store (read
by the query processes read-only) and a remote server cannot hold them: a
query naming one there is refused, never answered as if the graph were empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import pyoxigraph as ox

from .errors import QueryError
from .store import Store
from .validation.overlay import day_graphs, derived_dates, derived_graph_of

__all__ = ["DerivedGraphsRefused", "DerivedGraphs", "refuse_derived_graphs"]


class DerivedGraphsRefused(QueryError):
    """The query names derived graphs this store cannot compute for it; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _named(query: str, graphs: Sequence[str]) -> list[date]:
    try:
        return derived_dates(query, graphs)
    except QueryError as exc:
        raise DerivedGraphsRefused(400, str(exc)) from None


def refuse_derived_graphs(query: str, graphs: Sequence[str], where: str) -> None:
    """Refuse (501) a query naming a derived graph on a store that cannot hold one (*where* names the store)."""
    if _named(query, graphs):
        raise DerivedGraphsRefused(
            501, f"the derived graphs (…/graph/derived/DATE) are computed on demand over an in-memory store only, "
                 f"not over {where}; run the query with `bepgraph query` instead")


class DerivedGraphs:
    """One query process's derived graphs: written into its own copy for a query, removed after it."""

    def __init__(self, store: Store, target: ox.Store, writable: bool) -> None:
        self.store, self.target, self.writable = store, target, writable
        self._known: dict[str, bytes] = {}

    @contextmanager
    def named_by(self, query: str, graphs: Sequence[str]) -> Iterator[None]:
        days = _named(query, graphs)
        if not days:
            yield
            return
        if not self.writable:
            refuse_derived_graphs(query, graphs, "an on-disk store")
        missing = [d for d in days if d.isoformat() not in self._known]
        for graph, data in day_graphs(self.store, missing).items():
            self._known[graph.rsplit("/", 1)[-1]] = data
        nodes = [ox.NamedNode(derived_graph_of(d)) for d in days]
        try:
            for node, day in zip(nodes, days):
                self.target.load(input=self._known[day.isoformat()], format=ox.RdfFormat.N_TRIPLES,
                                 to_graph=node, lenient=True)
            yield
        finally:
            for node in nodes:  # the next query of this process sees the loaded facts only
                if self.target.contains_named_graph(node):
                    self.target.remove_graph(node)

