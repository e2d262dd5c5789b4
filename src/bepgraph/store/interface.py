"""The graph, wherever it lives: the interface every door and loader uses (:class:`Store`).

Besides reading and writing, it offers what the doors need so that none of
them asks which class it was given; the two classes are in
:mod:`.embedded` and :mod:`.remote`.
"""

from __future__ import annotations

import functools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import IO, Hashable

import pyoxigraph as ox

from ..errors import StoreError
from ..resources import query_dir
from .journal import JOURNAL, PENDING, STAGING, Commit
from .results import QueryResult, Term, solutions

__all__ = ["Forwarded", "Store"]


@functools.lru_cache(maxsize=1)
def _generation_query() -> str:
    """queries/internal/store-generation.rq, read once."""
    return (query_dir() / "internal" / "store-generation.rq").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Forwarded:
    """A remote server's answer to a request the endpoint handed on as it came: status, headers, body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


class Store(ABC):
    """The graph, wherever it lives. Readers query; only loaders replace graphs.

    Besides reading and writing, the interface offers what the doors need so
    that none of them asks which class it was given: :meth:`generation` (has
    the data changed?), the fork hooks the SPARQL endpoint's query processes
    use (:attr:`forkable`, :meth:`fork_lock`, :meth:`write_count`,
    :meth:`fork_reader`), an update with the Protocol's base IRI
    (:meth:`protocol_update`), and, for a store that is itself a SPARQL
    server, the requests handed on to it as they came (:attr:`forwards`,
    :meth:`forward_query`, :meth:`forward_update`, :meth:`forward_graph_store`).
    """

    location: str
    #: whether a forked process can read this store's data (it lives in this process)
    forkable: bool = False
    #: whether the endpoint hands queries, updates and Graph Store requests to this store's own server
    forwards: bool = False

    @property
    def copyable_by_fork(self) -> bool:
        """Whether a fork of this process may write its copy of the data without touching the served store."""
        return False

    @abstractmethod
    def query(
        self,
        text: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        rows: Sequence[Mapping[str, Term]] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query; the default graph is the union of the named graphs unless given.

        *rows* binds several VALUES rows (see :func:`bind_values`).
        """

    @abstractmethod
    def update(self, text: str) -> None:
        """Run a SPARQL Update (only the loaders and an endpoint opened for updates call this)."""

    @abstractmethod
    def replace_graph(self, graph: str, ntriples: IO[bytes] | bytes) -> None:
        """Replace the content of named graph *graph* by the N-Triples given."""

    @abstractmethod
    def append_graph(self, graph: str, ntriples: bytes) -> None:
        """Add N-Triples written by this package's readers to *graph* (a streamed load's chunk)."""

    @abstractmethod
    def drop_graph(self, graph: str) -> None: ...

    @abstractmethod
    def named_graphs(self) -> list[str]: ...

    @abstractmethod
    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        """The whole dataset (or one graph) serialized; a graph-only format gets the union."""

    def close(self) -> None:
        """Release the store; the embedded on-disk store flushes here."""

    def scratch_graph(self) -> str:
        """A new staging graph of its own (records a load adds to graph/meta at its commit)."""
        return STAGING + uuid.uuid4().hex

    def staging_graph(self, final: str) -> str:
        """Where a load writes a source before its commit: a graph no reader counts yet.

        A new graph may be written in place when the store can drop it again
        after a crash (:meth:`begin_load`); a graph being replaced is always
        written apart, so its old content stays whole until the commit.
        """
        return self.scratch_graph()

    def loading(self) -> AbstractContextManager[object]:
        """Held by a load around its own reads and writes: they see the graphs it has not yet committed.

        Only a store that other processes read while a load runs (a SPARQL
        server) needs it: its other readers are refused while a load's
        journal is open (see :class:`~bepgraph.store.remote.RemoteStore`).
        """
        return nullcontext()

    def begin_load(self, graphs: Sequence[str]) -> None:
        """Note *graphs* as written by a load that has not committed, so that a crash drops them."""
        if graphs:
            body = " ".join(f"<{JOURNAL}> <{PENDING}> <{ox.NamedNode(g).value}> ." for g in graphs)
            self.update(f"INSERT DATA {{ GRAPH <{JOURNAL}> {{ {body} }} }}")

    def commit(self, commit: Commit) -> None:
        """Apply *commit* in one update, which also clears the load's journal."""
        text = commit.update_text(pending=True)
        if text:
            self.update(text)

    def abort(self, graphs: Sequence[str]) -> None:
        """Drop what an uncommitted load wrote (its staging graphs and new graphs) and its journal."""
        for graph in [*graphs, JOURNAL]:
            self.drop_graph(graph)

    def recover(self) -> list[str]:
        """Drop what a load that never committed left behind (killed mid-way); returns those graphs."""
        with self.loading():
            if JOURNAL not in self.named_graphs():
                return []
            rows = solutions(self.query(f"SELECT ?g WHERE {{ GRAPH <{JOURNAL}> {{ ?j <{PENDING}> ?g }} }}"))
            graphs = sorted(row["g"].value for row in rows)
            self.abort(graphs)
            return graphs

    # --- has the data changed? ------------------------------------------------------------------

    def generation(self) -> Hashable:
        """Equal answers mean the same data: the one answer to "is a cached answer stale?".

        A store that counts no writes (a remote server) answers with the
        provenance of its loaded sources (graph/meta): every load changes it.
        """
        rows = solutions(self.query(_generation_query()))
        return ("provenance", tuple((r["graph"].value, r["sha"].value,
                                     "" if r["at"] is None else r["at"].value)
                                    for r in rows))

    def write_count(self) -> int | None:
        """Writes so far, counting every one (a fork's copy is stale once it changes); None when not counted."""
        return None

    def restored(self, before: int, after: int) -> None:
        """The writes from count *before* to *after* left the data as it was (a scratch graph written and
        removed): :meth:`generation` does not change for them."""

    # --- the fork hooks of the SPARQL endpoint's query processes -------------------------------

    def fork_lock(self) -> AbstractContextManager[object]:
        """Held while forking a process that reads the data, so no write is half done in its copy."""
        raise StoreError(f"the {self.location} store cannot be read by a forked process")

    def after_fork(self) -> None:
        """Run in a forked child first: lets go of what the parent's forking thread held."""

    def fork_reader(self) -> ox.Store:
        """In a forked query process: the pyoxigraph store it reads (an on-disk one reopened read-only)."""
        raise StoreError(f"the {self.location} store cannot be read by a forked process")

    def engine(self) -> ox.Store:
        """The pyoxigraph store of a private forked copy, to evaluate a query on as the endpoint does."""
        raise StoreError(f"the {self.location} store has no pyoxigraph engine in this process")

    # --- the SPARQL Protocol's update, in place --------------------------------------------------

    def protocol_update(self, text: str, base_iri: str | None) -> None:
        """Run an endpoint's update in place with its base IRI, raising pyoxigraph's own errors
        (SyntaxError, RuntimeError for a failed operation, OSError for a store or a LOAD source that
        cannot be read) so the endpoint can say whose fault it was."""
        raise StoreError(f"the SPARQL endpoint cannot update a {type(self).__name__}")

    # --- requests handed on to a store that is itself a SPARQL server ---------------------------

    def forward_query(self, text: str, default_graphs: Sequence[str], named_graphs: Sequence[str],
                      timeout_s: float) -> Forwarded:
        """The server's answer to a Protocol query, as it came (raises :class:`StoreUnreachable`)."""
        raise StoreError(f"the SPARQL endpoint cannot serve a {type(self).__name__}")

    def forward_update(self, text: str, using: Sequence[str], using_named: Sequence[str],
                       timeout_s: float) -> Forwarded:
        """The server's answer to a Protocol update, as it came (raises :class:`StoreUnreachable`)."""
        raise StoreError(f"the SPARQL endpoint cannot update a {type(self).__name__}")

    def forward_graph_store(self, method: str, params: Mapping[str, str], body: bytes | None,
                            headers: Mapping[str, str]) -> Forwarded:
        """The server's own Graph Store endpoint's answer to a request, as it came."""
        raise StoreError(f"the {self.location} store has no Graph Store endpoint to forward to")

    def count(self, graph: str | None = None) -> int:
        """Number of triples in *graph*, or quads in every named graph."""
        if graph is None:
            q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        else:
            q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ox.NamedNode(graph).value}> {{ ?s ?p ?o }} }}"
        rows = list(solutions(self.query(q)))
        return int(rows[0]["n"].value) if rows else 0

