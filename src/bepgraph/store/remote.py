"""A SPARQL 1.1 server as the store: queries and updates over the Protocol, loads over the Graph Store Protocol.

The server must treat its default graph as the union of the named graphs
(``oxigraph serve --union-default-graph``), or be told to list them
(``BEPGRAPH_STORE_DATASET=listed``). All HTTP goes through
:class:`bepgraph.remote.RemoteClient`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
import threading
from contextlib import contextmanager
from dataclasses import replace
from typing import IO

import pyoxigraph as ox

from ..errors import BepgraphError, LoadUnderWay, QueryError, StoreError, StoreUnreachable
from ..namespaces import graph_iri
from ..remote import RESULTS_JSON, RemoteClient, Reply, TruncatedAnswer, endpoints, user_graph
from ..settings import RemoteSettings
from .binding import bind_values
from .interface import Forwarded, Store
from .journal import JOURNAL, PENDING, Commit
from .results import QueryResult, Term, solutions, triples

__all__ = ["RemoteStore"]


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
        self._loads = 0  # loads of this process under way: their own reads see what they have not committed
        self._loads_lock = threading.Lock()
        self._journaled: set[str] = set()  # what this process's load noted in the server's journal

    @contextmanager
    def loading(self) -> Iterator[None]:
        with self._loads_lock:
            self._loads += 1
        try:
            yield
        finally:
            with self._loads_lock:
                self._loads -= 1

    def begin_load(self, graphs: Sequence[str]) -> None:
        super().begin_load(graphs)
        self._journaled.update(graphs)

    def commit(self, commit: Commit) -> None:
        """Commit, unless this load's journal was dropped while it ran (``load --recover`` elsewhere).

        Why: the commit writes the sources' provenance; after a recover has
        dropped what the load wrote, it would vouch for a partial bundle.
        """
        if self._journaled and not self._journal_names(self._journaled):
            self._journaled.clear()
            raise StoreError(f"this load's journal on {self.location} was dropped while it ran (by `bepgraph "
                             "load --recover`?), and with it what the load had written: nothing is committed; "
                             "load again")
        super().commit(commit)
        self._journaled.clear()

    def abort(self, graphs: Sequence[str]) -> None:
        super().abort(graphs)
        self._journaled.clear()

    def _journal_names(self, graphs: set[str]) -> bool:
        """Does the journal still name every one of *graphs*?"""
        values = " ".join(f"<{ox.NamedNode(g).value}>" for g in sorted(graphs))
        reply = self.client.query(f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                                  f"GRAPH <{JOURNAL}> {{ <{JOURNAL}> <{PENDING}> ?g }} }}")
        rows = list(solutions(_parsed(reply)))
        return bool(rows) and rows[0]["n"] is not None and int(rows[0]["n"].value) == len(graphs)

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
        self._refuse_an_open_load()
        if self.client.settings.dataset == "listed":
            listed = self._listed() or [graph_iri("none")]  # no graph at all: an empty dataset, not the server's
            default_graphs = listed if default_graphs is None else default_graphs
            named_graphs = listed if named_graphs is None else named_graphs
        reply = self.client.query(text, list(default_graphs or ()), list(named_graphs or ()), timeout=timeout)
        self._refuse_an_open_load()  # again: a load may have begun while the query ran
        return reply

    def _refuse_an_open_load(self) -> None:
        """Refuse to read while the server holds a load that has not committed.

        Why: a load writes its graphs before the one update that commits it,
        and a server's union default graph (or its list of graphs) counts them
        as soon as they are written. On disk the next opening drops what a
        killed load wrote; a server is read by many processes, so none can
        tell a load under way from one killed, and its readers are refused
        until the load commits or its leftovers are dropped. A load of this
        process (:meth:`loading`) reads and writes what it has not committed.
        """
        if self._loads:
            return
        reply = self.client.query(f"ASK {{ GRAPH <{JOURNAL}> {{ ?s ?p ?o }} }}")
        if ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.JSON):
            raise LoadUnderWay(
                f"the SPARQL server {self.location} holds a load that has not committed (its journal, graph "
                f"<{JOURNAL}>, is open): a load is under way, or one was killed. Ask again when it has "
                "finished; if it was killed, drop what it wrote with `bepgraph load --recover --store URL`")

    def forward_query(self, text: str, default_graphs: Sequence[str], named_graphs: Sequence[str],
                      timeout_s: float) -> Forwarded:
        """The server's checked answer, or its refusal as a status (a cut answer: 502, naming the setting)."""
        try:
            reply = self.answer(text, default_graphs or None, named_graphs or None, timeout=timeout_s)
        except (StoreUnreachable, LoadUnderWay):
            raise
        except (QueryError, StoreError) as exc:
            return _refusal(exc)
        return Forwarded(200, {"content-type": reply.media_type}, reply.body)

    def forward_update(self, text: str, using: Sequence[str], using_named: Sequence[str],
                       timeout_s: float) -> Forwarded:
        self._refuse_an_open_load()
        try:
            self.client.update(text, using, using_named, timeout=timeout_s)
        except StoreUnreachable:
            raise
        except (QueryError, StoreError) as exc:
            return _refusal(exc)
        return Forwarded(204, {}, b"")

    def forward_graph_store(self, method: str, params: Mapping[str, str], body: bytes | None,
                            headers: Mapping[str, str]) -> Forwarded:
        self._refuse_an_open_load()
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
        """The project's graphs on the server (a server's own graphs are not listed: :func:`user_graph`).

        Not refused while a load is open: it says what the server holds, not
        what the loaded facts are (``/healthz`` and a recovery read it).
        """
        return self._listed()

    def _listed(self) -> list[str]:
        # GROUP BY, not DISTINCT: the same answer, but Virtuoso 7.2 takes seconds over DISTINCT ?g, milliseconds here
        rows = solutions(_parsed(self.client.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")))
        return sorted(g for g in (row["g"].value for row in rows) if user_graph(g))

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
        sent = list(triples(answer))
        expected = self.count(graph)
        if len(sent) != expected:
            raise TruncatedAnswer(f"the SPARQL server sent {len(sent)} of the {expected} triples of graph "
                                  f"<{graph}>: raise its row cap (Virtuoso: ResultSetMaxRows in the [SPARQL] "
                                  "section of virtuoso.ini)")
        return [ox.Quad(t.subject, t.predicate, t.object, node) for t in sent]

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
