"""The SPARQL endpoint's derived graphs: ``…/graph/derived/YYYY-MM-DD`` computed when a query names it.

Why a private copy per query, not the pre-forked query processes: those
only read (a write in a forked copy can wait forever on a lock a reading
thread of the server held at the fork, see :mod:`bepgraph.private_copy`),
and a graph written into one would be seen by its next query. A query that
names derived graphs is answered in a fork of its own that writes the
dates' derived graphs into its copy first (retried if that write is stuck),
then evaluates the query exactly as a query process does, under the same
deadline. The served store is never written, no query process is retired,
and the answer is the same whatever was asked before or at the same time.
The derived N-Triples of a date come from the process's answer cache, so
only the first query naming a date derives it.

How a query names a date's graph: see ``validation/overlay.py``
(:func:`~bepgraph.validation.overlay.derived_dates`). An on-disk store (read
by the query processes read-only) and a remote server cannot hold them: a
query naming one there is refused (501), never answered as if the graph
were empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ..errors import QueryError, StoreError
from ..private_copy import can_fork, in_private_copy
from ..store import Store
from ..validation.overlay import day_graphs, derived_dates

__all__ = ["DerivedGraphsRefused", "answer_with_derived_graphs", "named_derived_dates", "refuse_derived_graphs"]


class DerivedGraphsRefused(QueryError):
    """The query names derived graphs this store cannot compute for it; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def named_derived_dates(query: str, graphs: Sequence[str]) -> list[date]:
    """The dates whose derived graph the query names (400 for an IRI of the form that names no date)."""
    try:
        return derived_dates(query, graphs)
    except QueryError as exc:
        raise DerivedGraphsRefused(400, str(exc)) from None


def refuse_derived_graphs(query: str, graphs: Sequence[str], where: str) -> None:
    """Refuse (501) a query naming a derived graph on a store that cannot hold one (*where* names the store)."""
    if named_derived_dates(query, graphs):
        raise DerivedGraphsRefused(
            501, f"the derived graphs (…/graph/derived/DATE) are computed on demand over an in-memory store only, "
                 f"not over {where}; run the query with `bepgraph query` instead")


def answer_with_derived_graphs(store: Store, days: Sequence[date], evaluate: Callable[[Any], Any],
                               timeout_s: float) -> tuple[bool, Any]:
    """``evaluate(raw)`` on a private copy of *store* holding the derived graphs of *days*.

    *evaluate* gets the copy's pyoxigraph store and returns the endpoint's
    answer or raises its error (a QueryError with ``status`` and ``kind``):
    ``(True, answer)`` or ``(False, (status, detail, kind))``. Past
    *timeout_s* the copy is stopped: ``(False, (503, …, "QueryTimeout"))``.
    """
    if not can_fork(store):
        raise DerivedGraphsRefused(501, f"the derived graphs (…/graph/derived/DATE) are computed on demand over "
                                        f"an in-memory store only, not over {store.location}")
    graphs = day_graphs(store, days, cached=True)

    def write(copy: Store) -> None:
        for graph, data in graphs.items():
            copy.replace_graph(graph, data)

    def answer(copy: Store) -> tuple[bool, Any]:
        try:
            return True, evaluate(copy.engine())
        except QueryError as exc:  # the endpoint's own errors travel as plain values
            return False, (getattr(exc, "status", 400), str(exc), getattr(exc, "kind", "QueryError"))

    try:
        return in_private_copy(store, answer, "the query over the derived graphs", timeout_s=timeout_s,
                               prepare=write, prepare_bytes=sum(map(len, graphs.values())))
    except StoreError as exc:
        if "did not finish within" in str(exc):
            return False, (503, f"the query was stopped after {timeout_s:g} s (the query timeout); narrow it, "
                                "or raise BEPGRAPH_QUERY_TIMEOUT", "QueryTimeout")
        return False, (500, str(exc), "StoreError")
