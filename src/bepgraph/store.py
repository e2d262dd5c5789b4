"""The one module that knows which RDF store holds the graph.

Two backends behind one interface:

* :class:`EmbeddedStore` — Oxigraph (pyoxigraph) in this process, in memory
  or on disk. Chosen over rdflib's memory store by the load benchmark
  (``bench/``, README "Measurements"): it loads faster in less memory and
  answers the analyst queries where rdflib's store does not finish.
* :class:`RemoteStore` — any SPARQL 1.1 server speaking the Protocol and the
  Graph Store Protocol (tested against a live Oxigraph server). The server
  must treat its default graph as the union of the named graphs
  (``oxigraph serve --union-default-graph``).

Values are bound into queries as ``VALUES`` rows of terms serialized by
Oxigraph (N-Triples syntax, escaped), placed at the head of the ``WHERE``
group, the same way for both backends: user text never becomes query text.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Hashable, Union

import pyoxigraph as ox

from .errors import BepgraphError, QueryError, StoreError, StoreUnreachable
from .namespaces import BEP, DCTERMS, PROV, RDF, XSD, graph_iri
from .remote import RESULTS_JSON, RemoteClient, Reply, TruncatedAnswer, endpoints, user_graph
from .resources import query_dir
from .settings import RemoteSettings
from .sparql_lexer import tokens

__all__ = [
    "Commit",
    "EmbeddedStore",
    "Forwarded",
    "QueryResult",
    "RemoteStore",
    "Store",
    "Term",
    "bind_values",
    "open_store",
    "solutions",
    "triples",
]

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal]
QueryResult = Union[ox.QuerySolutions, ox.QueryBoolean, ox.QueryTriples, Iterator[ox.Triple]]


def solutions(result: QueryResult) -> ox.QuerySolutions:
    """A SELECT's rows as such, for a caller that reads them by variable (any other answer is refused)."""
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError(f"the query answered {type(result).__name__}, not a SELECT's rows")
    return result


def triples(result: QueryResult) -> Iterator[ox.Triple]:
    """A CONSTRUCT's or DESCRIBE's triples as such (a SELECT's rows or an ASK's boolean are refused)."""
    if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
        raise QueryError(f"the query answered {type(result).__name__}, not triples")
    return iter(result)

META = graph_iri("meta")
JOURNAL = graph_iri("journal")  # the graphs a load in progress has written, dropped if it never commits
STAGING = graph_iri("staging/")
_PENDING = BEP + "pendingGraph"
_COMMITTED = BEP + "committed"
_MOVES_TO = BEP + "movesTo"  # in the journal of a committed load: staging graph -> the graph it becomes
_ADDS_TO = BEP + "addsTo"  # likewise, for a staging graph of records added to graph/meta

_TOKEN = tokens(
    r"""(?P<where>(?<![\w:?$])WHERE\s*\{)""",
    r"""(?P<construct>(?<![\w:?$])CONSTRUCT\b)|(?P<brace>\{)""",
    flags=re.IGNORECASE,
)


def bind_values(
    query: str,
    bindings: Mapping[str, Term] | None,
    rows: Sequence[Mapping[str, Term]] | None = None,
) -> str:
    """*query* with a ``VALUES`` block of *bindings* opening its WHERE group.

    *rows* (optional) binds several rows over the same variables, each
    joined with *bindings*: a batch of IRIs for one variable, as DataLoaders
    send them. Terms are written by Oxigraph's own serializer, so a value
    can never close its literal or IRI and add query text.
    """
    if not bindings and rows is None:
        return query
    fixed = dict(bindings or {})
    batch = list(rows) if rows is not None else [{}]
    names = list(fixed) + [n for n in (batch[0] if batch else {}) if n not in fixed]
    if any(set(row) != set(names) - set(fixed) for row in batch):
        raise QueryError("every bound row must bind the same variables")
    construct = False  # a CONSTRUCT's first group is its template; WHERE is then mandatory
    for match in _TOKEN.finditer(query):
        construct = construct or bool(match.group("construct"))
        # SELECT and ASK may open their group without the optional keyword WHERE: `ASK { … }`
        if match.group("where") or (match.group("brace") and not construct):
            lines = " ".join(
                "(" + " ".join(str(_check_term(n, {**fixed, **row}[n])) for n in names) + ")"
                for row in batch
            )
            heads = " ".join(f"?{_check_name(n)}" for n in names)
            at = match.end()
            return f"{query[:at]} VALUES ({heads}) {{ {lines} }}{query[at:]}"
    raise QueryError("the query has no WHERE clause to bind parameters into")


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise QueryError(f"'{name}' is not a SPARQL variable name")
    return name


def _check_term(name: str, term: object) -> Term:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise QueryError(f"'{name}' is not a SPARQL variable name")
    if not isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        raise QueryError(f"the value bound to ?{name} is not an RDF term")
    return term


def provenance_quads(graph: str, source: str, sha256: str, extra: Mapping[str, str] | None = None) -> list[ox.Quad]:
    """The graph/meta record of a source graph: its file, sha256 and load time."""
    g, meta = ox.NamedNode(graph), ox.NamedNode(META)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    quads = [
        ox.Quad(g, ox.NamedNode(_PROV_TYPE), ox.NamedNode(PROV + "Entity"), meta),
        ox.Quad(g, ox.NamedNode(DCTERMS + "source"), ox.Literal(source), meta),
        ox.Quad(g, ox.NamedNode(BEP + "sha256"), ox.Literal(sha256), meta),
        ox.Quad(g, ox.NamedNode(PROV + "generatedAtTime"),
                ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime")), meta),
    ]
    path = Path(source)
    if path.is_absolute():
        quads.append(ox.Quad(g, ox.NamedNode(PROV + "wasDerivedFrom"), ox.NamedNode(path.as_uri()), meta))
    for key, value in (extra or {}).items():
        quads.append(ox.Quad(g, ox.NamedNode(BEP + key), ox.Literal(value), meta))
    return quads


_PROV_TYPE = RDF + "type"


@dataclass
class Commit:
    """A load's changes to the store, made visible together or not at all.

    New sources were already written to their staging graphs (see
    :meth:`Store.staging_graph`); the commit moves each into place, removes
    the graph/meta records of the sources it replaces (*forget*), and
    deletes and inserts the quads given (records, facts changing owner).
    """

    moves: dict[str, str] = field(default_factory=dict)  # staging graph -> final graph
    adds: dict[str, str] = field(default_factory=dict)  # staging graph -> graph it is added to (graph/meta)
    forget: list[str] = field(default_factory=list)
    deletes: list[ox.Quad] = field(default_factory=list)
    inserts: list[ox.Quad] = field(default_factory=list)

    def update_text(self, pending: bool, moves: bool = True) -> str:
        """The commit as one SPARQL 1.1 Update request (one transaction on stores that have them).

        Without *moves*, the staging graphs are left for the caller to move
        (and the journal is kept): the on-disk store moves them itself.
        """
        ops = [f"DELETE WHERE {{ GRAPH <{META}> {{ <{ox.NamedNode(g).value}> ?p ?o }} }}" for g in self.forget]
        if self.deletes:
            ops.append("DELETE DATA { " + " ".join(f"{_quad_text(q)}" for q in self.deletes) + " }")
        if self.inserts:
            ops.append("INSERT DATA { " + " ".join(f"{_quad_text(q)}" for q in self.inserts) + " }")
        for staging, final in self.moves.items() if moves else ():
            if staging != final:  # a staging graph a source filled with nothing new does not exist
                ops += [f"DROP SILENT GRAPH <{ox.NamedNode(final).value}>",
                        f"MOVE SILENT <{ox.NamedNode(staging).value}> TO <{ox.NamedNode(final).value}>"]
        for staging, target in self.adds.items() if moves else ():
            ops += [f"ADD SILENT <{ox.NamedNode(staging).value}> TO <{ox.NamedNode(target).value}>",
                    f"DROP SILENT GRAPH <{ox.NamedNode(staging).value}>"]
        if pending:
            ops.append(f"DROP SILENT GRAPH <{JOURNAL}>")
        return " ;\n".join(ops) if ops else ""


def _quad_text(quad: ox.Quad) -> str:
    return f"GRAPH {quad.graph_name} {{ {quad.subject} {quad.predicate} {quad.object} }}"


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

    def begin_load(self, graphs: Sequence[str]) -> None:
        """Note *graphs* as written by a load that has not committed, so that a crash drops them."""
        if graphs:
            body = " ".join(f"<{JOURNAL}> <{_PENDING}> <{ox.NamedNode(g).value}> ." for g in graphs)
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
        if JOURNAL not in self.named_graphs():
            return []
        rows = self.query(f"SELECT ?g WHERE {{ GRAPH <{JOURNAL}> {{ ?j <{_PENDING}> ?g }} }}")
        graphs = sorted(row["g"].value for row in rows)  # type: ignore[union-attr]
        self.abort(graphs)
        return graphs

    # --- has the data changed? ------------------------------------------------------------------

    def generation(self) -> Hashable:
        """Equal answers mean the same data: the one answer to "is a cached answer stale?".

        A store that counts no writes (a remote server) answers with the
        provenance of its loaded sources (graph/meta): every load changes it.
        """
        rows = self.query(_generation_query())
        return ("provenance", tuple((r["graph"].value, r["sha"].value,
                                     "" if r["at"] is None else r["at"].value)
                                    for r in rows))  # type: ignore[union-attr]

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
        rows = list(self.query(q))  # type: ignore[arg-type]
        return int(rows[0]["n"].value) if rows else 0


class EmbeddedStore(Store):
    """Oxigraph in this process: in memory (``path=None``) or on disk."""

    forkable = True

    @property
    def copyable_by_fork(self) -> bool:
        """In memory only: an on-disk store's RocksDB threads do not survive a fork."""
        return self.location == "memory" and hasattr(os, "fork")

    def __init__(self, path: Path | None = None) -> None:
        try:
            self._store = ox.Store(str(path)) if path else ox.Store()
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        self.location = str(path) if path else "memory"
        self._write_lock = threading.Lock()
        self._generation = 0
        self._aliases: dict[int, int] = {}  # write count -> the count whose data it holds again
        self._aliases_lock = threading.Lock()
        if path is not None:
            self.recover()  # a load killed mid-way left graphs no commit made visible

    def staging_graph(self, final: str) -> str:
        # a new graph is written where it will stay: the journal drops it if the load dies,
        # and Oxigraph's bulk load does not have to be copied into place afterwards
        if not self._store.contains_named_graph(ox.NamedNode(final)):
            return final
        return super().staging_graph(final)

    def begin_load(self, graphs: Sequence[str]) -> None:
        if self.location != "memory":  # a store in memory does not outlive the process
            super().begin_load(graphs)

    def commit(self, commit: Commit) -> None:
        if self.location == "memory":  # one update, moves included: fast in memory, and nothing outlives a crash
            text = commit.update_text(pending=False)
            if text:
                self.update(text)
            return
        # On disk, a MOVE inside an update is one RocksDB transaction holding every quad moved
        # (minutes for a large bundle), so the commit point is an update that records the moves
        # in the journal with the graph/meta changes; the moves are then rolled forward, again
        # by recover() if the process dies before they are done.
        moves = {a: b for a, b in commit.moves.items() if a != b}
        journal = " ".join([f"<{JOURNAL}> <{_COMMITTED}> true ."] + [
            f"<{ox.NamedNode(a).value}> <{_MOVES_TO}> <{ox.NamedNode(b).value}> ." for a, b in moves.items()] + [
            f"<{ox.NamedNode(a).value}> <{_ADDS_TO}> <{ox.NamedNode(b).value}> ." for a, b in commit.adds.items()])
        text = commit.update_text(pending=False, moves=False)
        text = (text + " ;\n" if text else "") + f"INSERT DATA {{ GRAPH <{JOURNAL}> {{ {journal} }} }}"
        self.update(text)
        self._roll_forward(moves, commit.adds)

    def _roll_forward(self, moves: Mapping[str, str], adds: Mapping[str, str] | None = None) -> None:
        """Put each committed staging graph in place of the graph it replaces; safe to run again.

        A move is struck from the journal once its graph is in place and
        before its staging graph is removed, so a rerun never copies a
        staging graph that was half removed.
        """
        steps = [(a, b, _MOVES_TO) for a, b in moves.items()] + [(a, b, _ADDS_TO) for a, b in (adds or {}).items()]
        for staging, final, how in steps:
            source, target = ox.NamedNode(staging), ox.NamedNode(final)
            with self._write_lock, self._writing(), tempfile.TemporaryFile() as spool:
                self._store.dump(spool, format=ox.RdfFormat.N_TRIPLES, from_graph=source)
                spool.seek(0)
                if how == _MOVES_TO and self._store.contains_named_graph(target):
                    self._store.remove_graph(target)
                self._store.bulk_load(spool, format=ox.RdfFormat.N_TRIPLES, to_graph=target, lenient=True)
                self._store.update(f"DELETE DATA {{ GRAPH <{JOURNAL}> {{ <{source.value}> <{how}> <{target.value}> }} }}")
        rows = self.query(f"SELECT ?g WHERE {{ GRAPH <{JOURNAL}> {{ ?j <{_PENDING}> ?g }} }}")
        for graph in sorted(row["g"].value for row in rows):  # type: ignore[union-attr]
            if graph.startswith(STAGING):  # moved, or emptied by nothing new: no longer needed
                self.drop_graph(graph)
        self.drop_graph(JOURNAL)

    def recover(self) -> list[str]:
        if JOURNAL not in self.named_graphs():
            return []
        committed = bool(self.query(f"ASK {{ GRAPH <{JOURNAL}> {{ <{JOURNAL}> <{_COMMITTED}> true }} }}"))
        if committed:  # the load committed before it died: finish it
            steps = {how: {row["s"].value: row["f"].value
                           for row in self.query(f"SELECT ?s ?f WHERE {{ GRAPH <{JOURNAL}> {{ ?s <{how}> ?f }} }}")}  # type: ignore[union-attr]
                     for how in (_MOVES_TO, _ADDS_TO)}
            self._roll_forward(steps[_MOVES_TO], steps[_ADDS_TO])
            return []
        return super().recover()

    def generation(self) -> Hashable:
        """The write count, less the writes that left the data as it was (:meth:`Store.restored`)."""
        with self._aliases_lock:
            return ("writes", self._aliases.get(self._generation, self._generation))

    def write_count(self) -> int:
        """Changes with every write, so readers holding a copy (the endpoint's query processes) know it is stale.

        Handing out :attr:`oxigraph` counts as a write, since the caller may
        write through it.
        """
        return self._generation

    def restored(self, before: int, after: int) -> None:
        with self._aliases_lock:
            self._aliases[after] = self._aliases.get(before, before)

    def fork_lock(self) -> threading.Lock:
        """The write lock: every writer holds it, so a fork under it never copies a write half done."""
        return self._write_lock

    def after_fork(self) -> None:
        if self._write_lock.locked():
            self._write_lock.release()  # the parent's forking thread held it; it does not exist here

    def fork_reader(self) -> ox.Store:
        return self._store if self.location == "memory" else ox.Store.read_only(self.location)

    def engine(self) -> ox.Store:
        return self._store

    def protocol_update(self, text: str, base_iri: str | None) -> None:
        with self._write_lock:
            try:
                self._store.update(text, base_iri=base_iri)
            finally:
                self._generation += 1  # the query processes forked before now are retired

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for the benchmark and tests that write raw (counted as a write)."""
        self._generation += 1
        return self._store

    def query(
        self,
        text: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        rows: Sequence[Mapping[str, Term]] | None = None,
    ) -> QueryResult:
        bound = bind_values(text, bindings, rows)
        default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] | None = None
        if default_graphs is not None:
            default = [ox.NamedNode(g) for g in default_graphs] or [ox.DefaultGraph()]
        named: list[ox.NamedNode | ox.BlankNode] | None = None
        if named_graphs is not None:
            named = [ox.NamedNode(g) for g in named_graphs]
        try:
            return self._store.query(bound, default_graph=default, named_graphs=named,
                                     use_default_graph_as_union=default_graphs is None)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def update(self, text: str) -> None:
        with self._write_lock, self._writing():
            try:
                self._store.update(text)
            except SyntaxError as exc:
                raise QueryError(f"SPARQL Update syntax error: {exc}") from exc

    def replace_graph(self, graph: str, ntriples: IO[bytes] | bytes) -> None:
        node = ox.NamedNode(graph)
        with self._write_lock, self._writing():
            try:
                if self._store.contains_named_graph(node):
                    self._store.remove_graph(node)
                self._load(ntriples, node)
            except (OSError, SyntaxError) as exc:
                raise StoreError(f"could not write graph <{graph}>: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        finally:  # also after a failed write, which may have written part
            self._generation += 1

    def _load(self, ntriples: IO[bytes] | bytes, node: ox.NamedNode) -> None:
        # Only this package's serializers write here, so the parser may skip IRI
        # validation (lenient): a third off a million-trade load. In memory, plain
        # load is the faster; on disk, bulk_load writes the index files directly.
        loader = self._store.load if self.location == "memory" else self._store.bulk_load
        loader(input=ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=node, lenient=True)

    def append_graph(self, graph: str, ntriples: bytes) -> None:
        with self._write_lock, self._writing():
            try:
                self._load(ntriples, ox.NamedNode(graph))
            except (OSError, SyntaxError) as exc:
                raise StoreError(f"could not write graph <{graph}>: {exc}") from exc

    def drop_graph(self, graph: str) -> None:
        node = ox.NamedNode(graph)
        with self._write_lock, self._writing():
            if self._store.contains_named_graph(node):
                self._store.remove_graph(node)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs())

    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        if graph is not None:
            return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph)) or b""  # None only when given a file
        if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD):
            return self._store.dump(format=fmt) or b""
        union = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(union, ox.QueryTriples)
        return ox.serialize(union, format=fmt) or b""

    def close(self) -> None:
        """Flush and let go of an on-disk store: its folder stays locked while pyoxigraph holds it open."""
        if self.location != "memory" and "_store" in self.__dict__:
            self._store.flush()
            del self._store  # the last reference: releases the lock, so the folder can be reopened


class RemoteStore(Store):
    """A SPARQL 1.1 server: queries and updates over the Protocol, loads over the Graph Store Protocol.

    *query_url* is the query endpoint; the update and graph-store endpoints
    default to Oxigraph's layout beside it (``/update``, ``/store``) unless
    *remote* (the ``BEPGRAPH_STORE_*`` settings) names them. All HTTP goes
    through :class:`bepgraph.remote.RemoteClient`.
    """

    forwards = True

    def __init__(
        self,
        query_url: str | None = None,
        update_url: str | None = None,
        gsp_url: str | None = None,
        timeout: float | None = None,
        *,
        remote: RemoteSettings | None = None,
    ) -> None:
        settings = remote or RemoteSettings()
        settings = replace(settings, update_url=update_url or settings.update_url,
                           gsp_url=gsp_url or settings.gsp_url,
                           timeout_s=settings.timeout_s if timeout is None else timeout)
        self.client = RemoteClient(settings, endpoints(query_url, settings))
        self.query_url = self.client.endpoints.query_url
        self.update_url = self.client.endpoints.update_url
        self.gsp_url = self.client.endpoints.gsp_url
        self.location = self.query_url

    def query(
        self,
        text: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        rows: Sequence[Mapping[str, Term]] | None = None,
    ) -> QueryResult:
        return _parsed(self.answer(bind_values(text, bindings, rows), default_graphs, named_graphs))

    def answer(self, text: str, default_graphs: Sequence[str] | None = None,
               named_graphs: Sequence[str] | None = None, timeout: float | None = None) -> Reply:
        """The server's checked answer to *text* as it sent it (the /sparql door re-serializes it).

        With ``BEPGRAPH_STORE_DATASET=listed`` (a server whose default graph
        is not the union of the project's graphs, such as Virtuoso's, which
        also holds its own system graphs) a query that names no dataset is
        given the project's graphs as both its default and its named graphs.
        """
        if self.client.settings.dataset == "listed":
            listed = self.named_graphs() or [graph_iri("none")]  # no graph at all: an empty dataset, not the server's
            default_graphs = listed if default_graphs is None else default_graphs
            named_graphs = listed if named_graphs is None else named_graphs
        return self.client.query(text, list(default_graphs or ()), list(named_graphs or ()), timeout=timeout)

    def forward_query(self, text: str, default_graphs: Sequence[str], named_graphs: Sequence[str],
                      timeout_s: float) -> Forwarded:
        """The server's checked answer, or its refusal as a status (a cut answer: 502, naming the setting)."""
        try:
            reply = self.answer(text, default_graphs or None, named_graphs or None, timeout=timeout_s)
        except StoreUnreachable:
            raise
        except (QueryError, StoreError) as exc:
            return _refusal(exc)
        return Forwarded(200, {"content-type": reply.media_type}, reply.body)

    def forward_update(self, text: str, using: Sequence[str], using_named: Sequence[str],
                       timeout_s: float) -> Forwarded:
        try:
            self.client.update(text, using, using_named, timeout=timeout_s)
        except StoreUnreachable:
            raise
        except (QueryError, StoreError) as exc:
            return _refusal(exc)
        return Forwarded(204, {}, b"")

    def forward_graph_store(self, method: str, params: Mapping[str, str], body: bytes | None,
                            headers: Mapping[str, str]) -> Forwarded:
        answer = self.client.graph_request(method, params, content=body, headers=dict(headers), checked=False)
        return Forwarded(answer.status_code, dict(answer.headers), answer.content)

    def update(self, text: str) -> None:
        self.client.update(text)

    def replace_graph(self, graph: str, ntriples: IO[bytes] | bytes) -> None:
        headers = {"Content-Type": "application/n-triples"}
        if isinstance(ntriples, bytes):
            self.client.graph_request("PUT", {"graph": graph}, content=ntriples, headers=headers)
            return
        # streamed with its length given: a chunked body is taken as empty by Virtuoso 7.2's graph store
        start = ntriples.tell()
        headers["Content-Length"] = str(ntriples.seek(0, 2) - start)
        ntriples.seek(start)
        chunks: Iterable[bytes] = iter(lambda: ntriples.read(1 << 20), b"")
        self.client.graph_request("PUT", {"graph": graph}, content=chunks, headers=headers)

    def append_graph(self, graph: str, ntriples: bytes) -> None:
        self.client.graph_request("POST", {"graph": graph}, content=ntriples,
                                  headers={"Content-Type": "application/n-triples"})

    def drop_graph(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{ox.NamedNode(graph).value}>")

    def named_graphs(self) -> list[str]:
        """The project's graphs on the server (a server's own graphs are not listed: :func:`user_graph`)."""
        # GROUP BY, not DISTINCT: the same answer, but Virtuoso 7.2 takes seconds over DISTINCT ?g, milliseconds here
        rows = _parsed(self.client.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"))
        return sorted(g for g in (row["g"].value for row in rows) if user_graph(g))  # type: ignore[union-attr]

    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        graphs = [graph] if graph is not None else self.named_graphs()
        quads = [q for g in graphs for q in self._graph_quads(g)]
        if graph is not None or fmt not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD):
            # the union of the graphs, as the embedded store writes a graph-only format
            return ox.serialize(dict.fromkeys(q.triple for q in quads), format=fmt) or b""
        return ox.serialize(quads, format=fmt) or b""

    def _graph_quads(self, graph: str) -> list[ox.Quad]:
        """Every triple of *graph*, checked against the server's own count of them.

        Why the count: Virtuoso cuts a CONSTRUCT at its ResultSetMaxRows and,
        unlike a SELECT, says nothing.
        """
        node = ox.NamedNode(graph)
        answer = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{node.value}> {{ ?s ?p ?o }} }}")
        triples = list(answer)  # type: ignore[arg-type]  # a CONSTRUCT: triples
        expected = self.count(graph)
        if len(triples) != expected:
            raise TruncatedAnswer(f"the SPARQL server sent {len(triples)} of the {expected} triples of graph "
                                  f"<{graph}>: raise its row cap (Virtuoso: ResultSetMaxRows in the [SPARQL] "
                                  "section of virtuoso.ini)")
        return [ox.Quad(t.subject, t.predicate, t.object, node) for t in triples]

    def close(self) -> None:
        self.client.close()


def _refusal(exc: BepgraphError) -> Forwarded:
    """A client-side refusal as the status a door hands on: the query's fault 400, the server's 502."""
    return Forwarded(400 if isinstance(exc, QueryError) else 502, {"content-type": "text/plain"}, str(exc).encode())


def _parsed(reply: Reply) -> QueryResult:
    if reply.media_type == RESULTS_JSON:
        return ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.JSON)
    # triples, as the embedded store's CONSTRUCT gives (the parser yields default-graph quads)
    return (quad.triple for quad in ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES))


def open_store(location: str | None, remote: RemoteSettings | None = None) -> Store:
    """``http(s)://…`` (or no location with ``BEPGRAPH_STORE_QUERY_URL`` set): a SPARQL server reached
    as *remote* says; ``None`` or ``memory``: in memory; anything else: a folder on disk."""
    remote = remote or RemoteSettings()
    if (location or "").startswith(("http://", "https://")) or (not location and remote.query_url):
        return RemoteStore(location or None, remote=remote)
    if location in (None, "", "memory", ":memory:"):
        return EmbeddedStore()
    return EmbeddedStore(Path(location))
