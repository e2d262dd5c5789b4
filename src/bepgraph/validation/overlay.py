"""Where the derived facts of a date live: beside the loaded facts, never among them.

The store users read holds only the loaded facts. Work that needs the
derived facts of a date (a validation run, GraphQL's status fields, the
board views of control and governance, an analyst's query naming a derived
graph) gets them here:

* **in-memory store** (``serve``, the CLI): the work runs in a forked child
  on its own copy-on-write copy of the store (:mod:`bepgraph.private_copy`),
  which gets ``graph/derived`` (and the per-date graphs an analyst's query
  names) written into it. Nothing is written to the parent's store, its
  write generation does not move, and dates are worked on side by side.
* **on-disk and remote stores** (no copy to fork): the derived facts are
  written to the store's ``graph/derived`` (or ``graph/derived/DATE``) for
  the duration of the work and removed in a ``finally``, one run at a time
  per store, whatever the graph held before put back. The N-Quads before
  and after are identical; a reader of the same store *during* the run may
  see the scratch graph (README, "Rules and findings").

Analysts name a date's derived facts as the graph
``https://w3id.org/bepgraph/graph/derived/YYYY-MM-DD`` (FROM, FROM NAMED,
``GRAPH <…>``, a ``VALUES`` row or the protocol's ``default-graph-uri`` /
``named-graph-uri``), or build that IRI from a date with
``IRI(CONCAT("https://w3id.org/bepgraph/graph/derived/", STR(?date)))``;
in that last case every ``xsd:date`` literal of the query (the bound
parameters) is a date asked for. :func:`derived_dates` reads which.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from typing import TypeVar

import pyoxigraph as ox

from ..errors import QueryError
from ..namespaces import XSD, graph_iri
from ..private_copy import can_fork, in_private_copy
from ..sparql import named_queries
from ..store import QueryResult, Store, Term, bind_values, triples
from .cache import answers
from .derive import DERIVED_GRAPH, derived_lines

__all__ = [
    "DERIVED_DAY_BASE", "derived_dates", "derived_graph_of", "query_with_derived",
    "with_derived", "with_derived_side_by_side",
]

T = TypeVar("T")
DERIVED_DAY_BASE = graph_iri("derived/")  # + YYYY-MM-DD
_DAY = r"(\d{4}-\d{2}-\d{2})"
_FULL_IRI = re.compile(r"<" + re.escape(DERIVED_DAY_BASE) + _DAY + r">")
_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<" + re.escape(DERIVED_DAY_BASE) + r">", re.IGNORECASE)
_DATE_LITERAL = re.compile(r'"' + _DAY + r'"\^\^(?:<' + re.escape(XSD + "date") + r'>|xsd:date)')


def derived_graph_of(day: date) -> str:
    """The IRI of the graph holding the facts derived as of *day*."""
    return DERIVED_DAY_BASE + day.isoformat()


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"<{DERIVED_DAY_BASE}{text}> names no date (YYYY-MM-DD)") from None


def derived_dates(query: str, graphs: Iterable[str] = ()) -> list[date]:
    """The dates whose derived graph *query* (and the dataset *graphs* sent with it) names."""
    found = {_day(m.group(1)) for m in _FULL_IRI.finditer(query)}
    for prefix in _PREFIX.finditer(query):
        local = re.compile(r"(?<![\w:])" + re.escape(prefix.group(1) or "") + ":" + _DAY + r"(?![\w-])")
        found |= {_day(m.group(1)) for m in local.finditer(query)}
    found |= {_day(g[len(DERIVED_DAY_BASE):]) for g in graphs if g.startswith(DERIVED_DAY_BASE)}
    if f'"{DERIVED_DAY_BASE}"' in query or f"'{DERIVED_DAY_BASE}'" in query:  # IRI(CONCAT(base, STR(?date)))
        found |= {_day(m.group(1)) for m in _DATE_LITERAL.finditer(query)}
    return sorted(found)


# --- the scratch-graph fallback -----------------------------------------------------------------

_LOCKS: "weakref.WeakKeyDictionary[Store, threading.Lock]" = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _lock_of(store: Store) -> threading.Lock:
    with _GUARD:
        return _LOCKS.setdefault(store, threading.Lock())


@contextmanager
def _scratch(store: Store, graphs: Mapping[str, bytes]) -> Iterator[None]:
    """*graphs* written into *store* for the block, then removed (earlier content put back)."""
    with _lock_of(store):
        before = store.write_count()
        present = set(store.named_graphs())
        kept = {g: store.dump(ox.RdfFormat.N_TRIPLES, g) for g in graphs if g in present}
        writes = 0
        try:
            for graph, data in graphs.items():
                writes += 1
                store.replace_graph(graph, data)
            yield
        finally:
            for graph in graphs:
                writes += 1
                if graph in kept:
                    store.replace_graph(graph, kept[graph])
                else:
                    store.drop_graph(graph)
            after = store.write_count()
            if before is not None and after == before + writes:  # nobody else wrote meanwhile
                store.restored(before, after)  # the data is as it was: caches keyed by generation() stay


# --- the doors' entry points --------------------------------------------------------------------

def derived_ntriples(store: Store, as_of: date) -> bytes:
    """``graph/derived`` as of *as_of* as N-Triples, derived once per date and load (the shared cache).

    Derived in a forked child where it can be: the derivation is Python,
    and in the server's own process it would hold the interpreter lock
    that every request being served needs.
    """
    def compute() -> bytes:
        named_queries()  # parsed here once, inherited parsed by every copy
        if can_fork(store):
            return in_private_copy(store, lambda copy: "".join(derived_lines(copy, as_of)[1]).encode(),
                                   f"the derivation as of {as_of}")
        return "".join(derived_lines(store, as_of)[1]).encode()

    return answers().get(store, ("derived", as_of), compute)


def with_derived(store: Store, as_of: date, work: Callable[[Store], T], what: str) -> T:
    """``work(s)`` where *s* reads the loaded facts of *store* and ``graph/derived`` as of *as_of*.

    *store* itself is left as it was (see the module docstring); the result
    must pickle (it crosses a pipe from a forked child).
    """
    data = derived_ntriples(store, as_of)
    if can_fork(store):
        return _in_copy_with(store, data, work, what)
    with _scratch(store, {DERIVED_GRAPH: data}):
        return work(store)


def _in_copy_with(store: Store, derived: bytes, work: Callable[[Store], T], what: str) -> T:
    """``work(copy)`` in a private copy of *store* whose ``graph/derived`` is *derived*."""
    return in_private_copy(store, work, what, prepare=lambda copy: copy.replace_graph(DERIVED_GRAPH, derived),
                           prepare_bytes=len(derived))


def with_derived_side_by_side(store: Store, as_of: date, work: Callable[[Store], T], what: str,
                              copies: int) -> list[T]:
    """``work(copy)`` in each of *copies* private copies of *store* holding ``graph/derived`` as of
    *as_of*, all at once (one thread waits on each); their results, in the order of the copies.

    A store that cannot be forked gets one run of *work*, as :func:`with_derived` makes it.
    """
    if copies <= 1 or not can_fork(store):
        return [with_derived(store, as_of, work, what)]
    data = derived_ntriples(store, as_of)
    with ThreadPoolExecutor(copies, thread_name_prefix="private-copy") as pool:
        futures = [pool.submit(_in_copy_with, store, data, work, what) for _ in range(copies)]
        return [f.result() for f in futures]


def day_graphs(store: Store, days: Sequence[date], cached: bool = False) -> dict[str, bytes]:
    """The per-date derived graphs for *days*, as N-Triples, from the loaded facts of *store*.

    *cached*: from (and into) the shared cache, for a caller in the process that owns *store*.
    """
    if cached:
        return {derived_graph_of(d): derived_ntriples(store, d) for d in days}
    return {derived_graph_of(d): "".join(derived_lines(store, d)[1]).encode() for d in days}


def _materialized(result: QueryResult) -> tuple[str, bytes]:
    """A query's answer as bytes that cross a pipe and parse back (see :func:`_parsed`)."""
    if isinstance(result, (ox.QueryBoolean, ox.QuerySolutions)):
        return "results", result.serialize(format=ox.QueryResultsFormat.JSON) or b""
    return "triples", ox.serialize(triples(result), format=ox.RdfFormat.N_TRIPLES) or b""


def _parsed(kind: str, data: bytes) -> QueryResult:
    if kind == "results":
        return ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    return iter([q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)])


def query_with_derived(store: Store, text: str, bindings: Mapping[str, Term] | None = None) -> QueryResult:
    """*text* answered over the loaded facts plus the derived graph of every date it names (module docstring).

    A query that names none is run as it is.
    """
    days = derived_dates(bind_values(text, bindings))
    if not days:
        return store.query(text, bindings)
    what = "the query over " + ", ".join(f"<{derived_graph_of(d)}>" for d in days)

    graphs = day_graphs(store, days, cached=True)

    def write(copy: Store) -> None:
        for graph, data in graphs.items():
            copy.replace_graph(graph, data)

    if can_fork(store):
        return _parsed(*in_private_copy(store, lambda copy: _materialized(copy.query(text, bindings)), what,
                                        prepare=write, prepare_bytes=sum(map(len, graphs.values()))))
    with _scratch(store, graphs):
        return _parsed(*_materialized(store.query(text, bindings)))
