"""The SPARQL 1.1 Graph Store HTTP Protocol's operations, for a service started with ``--allow-updates``.

Graphs are named indirectly (``/gsp?graph=IRI``, ``/gsp?default``) or
directly (the request URL itself, ``/gsp/some/path``). Writes go through the
store's SPARQL Update, so they are transactional and every later query sees
them; a store that is itself a SPARQL server gets the request as it came
(:meth:`Store.forward_graph_store`). The router is ``http/gsp.py``.
The store's default graph here is its real default graph, as in an update;
only queries see the union of the named graphs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP

import pyoxigraph as ox

from ..errors import LoadUnderWay, StoreUnreachable
from ..raw_writes import apply as raw_apply, graph_triples, settle as raw_settle
from ..store import META, Store
from .protocol import GRAPH_FORMATS, ProtocolError, negotiate

__all__ = ["DEFAULT", "GraphStoreAnswer", "GraphStoreRequest", "answer", "parse_rdf"]

DEFAULT = None  # the graph argument that means the store's default graph


@dataclass(frozen=True)
class GraphStoreRequest:
    """A Graph Store request as the router read it: *named* says whether a graph was named at all."""

    method: str
    named: bool
    graph: str | None
    url: str  # the request URL without its query: the base IRI, and where a new graph's IRI is made
    body: bytes
    headers: Mapping[str, str]  # lower-cased names: content-type, accept


@dataclass(frozen=True)
class GraphStoreAnswer:
    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_rdf(content_type: str | None, body: bytes, base: str) -> list[ox.Triple]:
    """The triples of a request body in any RDF syntax Oxigraph reads, or of each part of a multipart form."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + (content_type or "").encode() + b"\r\n\r\n" + body)
        triples: list[ox.Triple] = []
        for part in message.iter_parts():
            payload = part.get_payload(decode=True)
            triples += parse_rdf(part.get("content-type"), payload if isinstance(payload, bytes) else b"", base)
        return triples
    fmt = ox.RdfFormat.from_media_type(media) if media else None
    if fmt is None:
        raise ProtocolError(415, f"'{media or 'no content type'}' is not an RDF syntax this store reads "
                                 "(Turtle, N-Triples, RDF/XML, JSON-LD, N3)", "UnsupportedMediaType")
    try:
        return [q.triple for q in ox.parse(body, format=fmt, base_iri=base)]
    except SyntaxError as exc:
        raise ProtocolError(400, f"the {media} body does not parse: {exc}", "BadRDF") from None


def _graph_clause(graph: str | None, inner: str) -> str:
    return f"{{ {inner} }}" if graph is DEFAULT else f"{{ GRAPH <{graph}> {{ {inner} }} }}"


class _Local:
    """The Graph Store operations over any :class:`Store`, written as SPARQL updates."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def exists(self, graph: str | None) -> bool:
        # a source whose every fact another holds has no quads: graph/meta still records it
        # a graph named outright is asked for itself: a remote store lists only the project's graphs
        # (named_graphs), but a graph a user wrote through this door under another IRI is still there
        return graph is DEFAULT or graph in self.store.named_graphs() or bool(self.store.query(
            "ASK { { GRAPH ?g { ?s ?p ?o } } UNION { GRAPH <" + META + "> { ?g ?p ?o } } }",
            {"g": ox.NamedNode(graph)}))

    def read(self, graph: str | None, fmt: ox.RdfFormat) -> bytes:
        # what was written into the graph: the facts it holds and those it repeats (raw_writes.py)
        return ox.serialize(graph_triples(self.store, graph), format=fmt) or b""

    def write(self, graph: str | None, triples: list[ox.Triple], replace: bool) -> None:
        data = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
        steps = []
        if replace:
            steps.append("CLEAR SILENT DEFAULT" if graph is DEFAULT else f"DROP SILENT GRAPH <{graph}>")
        if graph is not DEFAULT:
            steps.append(f"CREATE SILENT GRAPH <{graph}>")
        if data:
            steps.append("INSERT DATA " + _graph_clause(graph, data))
        raw_apply(self.store, " ;\n".join(steps), self.store.update, [graph])

    def delete(self, graph: str | None) -> None:
        raw_apply(self.store, "CLEAR DEFAULT" if graph is DEFAULT else f"DROP GRAPH <{graph}>",
                  self.store.update, [graph])


def answer(store: Store, request: GraphStoreRequest, new_graph: str) -> GraphStoreAnswer:
    """The answer to *request*; *new_graph* is the IRI a POST without a graph creates."""
    if store.forwards and request.method not in ("GET", "HEAD"):  # a read answers what a graph states, below
        return _forward(store, request)
    method, named, graph = request.method, request.named, request.graph
    gs = _Local(store)
    if method in ("GET", "HEAD"):
        if not named:
            raise ProtocolError(400, "name a graph: /gsp?graph=IRI, /gsp?default or /gsp/<path>")
        if not gs.exists(graph):
            return GraphStoreAnswer(404)
        media = negotiate(request.headers.get("accept"), list(GRAPH_FORMATS), "text/turtle")
        fmt = GRAPH_FORMATS[media]
        data = gs.read(graph, fmt)
        headers = {"content-type": f"{fmt.media_type}; charset=utf-8"}
        if method == "HEAD":
            headers["content-length"] = str(len(data))
            return GraphStoreAnswer(200, None, headers)
        return GraphStoreAnswer(200, data, headers)
    if method == "DELETE":
        if not named:
            raise ProtocolError(400, "name the graph to delete")
        if not gs.exists(graph):
            return GraphStoreAnswer(404)
        gs.delete(graph)
        return GraphStoreAnswer(204)
    location = None
    if not named:
        if method != "POST":
            raise ProtocolError(400, "name the graph to replace: /gsp?graph=IRI, /gsp?default or /gsp/<path>")
        graph = location = new_graph
    base = graph or request.url
    triples = parse_rdf(request.headers.get("content-type"), request.body, base)
    existed = gs.exists(graph)
    gs.write(graph, triples, replace=method == "PUT")
    if existed:
        return GraphStoreAnswer(204)
    return GraphStoreAnswer(201, None, {"location": location} if location else {})


def _forward(store: Store, request: GraphStoreRequest) -> GraphStoreAnswer:
    """Hand the request to the store's own Graph Store endpoint."""
    params: dict[str, str] = {}
    if request.named:
        params = {"default": ""} if request.graph is DEFAULT else {"graph": request.graph or ""}
    headers = {k: v for k, v in request.headers.items() if k in ("content-type", "accept")}
    try:
        forwarded = store.forward_graph_store(request.method, params, request.body or None, headers)
    except StoreUnreachable as exc:
        raise ProtocolError(502, f"the graph store could not be reached: {exc}", "StoreError") from None
    except LoadUnderWay as exc:
        raise ProtocolError(503, str(exc), "LoadUnderWay") from None
    if forwarded.status < 300:  # a fact the graph now holds twice stays with one graph
        created = forwarded.headers.get("location")
        raw_settle(store, [request.graph] if request.named else [created] if created else None)
    keep = {k: v for k, v in forwarded.headers.items() if k in ("content-type", "location")}
    return GraphStoreAnswer(forwarded.status, forwarded.body if request.method != "HEAD" else None, keep)
