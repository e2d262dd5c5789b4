"""``/gsp``: the SPARQL 1.1 Graph Store HTTP Protocol, for a service started with ``--allow-updates``.

Graphs are named indirectly (``/gsp?graph=IRI``, ``/gsp?default``) or
directly (the request URL itself, ``/gsp/some/path``). Writes go through the
store's SPARQL Update, so they are transactional and every later query sees
them; a remote store's own Graph Store endpoint gets the request as it came.
The store's default graph here is its real default graph, as in an update;
only queries see the union of the named graphs.
"""

from __future__ import annotations

import uuid
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .. import raw_writes
from ..errors import QueryError, StoreError
from ..sparql_protocol import GRAPH_FORMATS, ProtocolError, negotiate
from ..store import META, RemoteStore, Store
from .auth import require_writer
from .sparql import problem

__all__ = ["router"]

router = APIRouter()

DEFAULT = None  # the graph argument that means the store's default graph
_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def _target(request: Request, path: str) -> tuple[bool, str | None]:
    """(whether a graph was named, its IRI or DEFAULT) from ``?graph=``, ``?default`` or the direct path."""
    params = request.query_params
    if path:
        if "graph" in params or "default" in params:
            raise ProtocolError(400, "name the graph by the URL path or by ?graph=/?default, not both")
        return True, str(request.url.replace(query=""))
    if "default" in params and "graph" in params:
        raise ProtocolError(400, "give ?graph= or ?default, not both")
    if "default" in params:
        return True, DEFAULT
    graphs = params.getlist("graph")
    if len(graphs) > 1:
        raise ProtocolError(400, "give ?graph= once")
    if graphs:
        try:
            return True, ox.NamedNode(graphs[0]).value
        except ValueError:
            raise ProtocolError(400, f"'{graphs[0]}' is not an IRI") from None
    return False, None


def _parse_rdf(content_type: str | None, body: bytes, base: str) -> list[ox.Triple]:
    """The triples of a request body in any RDF syntax Oxigraph reads, or of each part of a multipart form."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + (content_type or "").encode() + b"\r\n\r\n" + body)
        triples: list[ox.Triple] = []
        for part in message.iter_parts():
            triples += _parse_rdf(part.get("content-type"), part.get_payload(decode=True) or b"", base)
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
        return graph is DEFAULT or graph in self.store.named_graphs() or bool(self.store.query(
            f"ASK {{ GRAPH <{META}> {{ ?g ?p ?o }} }}", {"g": ox.NamedNode(graph)}))

    def read(self, graph: str | None, fmt: ox.RdfFormat) -> bytes:
        # what was written into the graph: the facts it holds and those it repeats (raw_writes.py)
        return ox.serialize(raw_writes.graph_triples(self.store, graph), format=fmt)

    def write(self, graph: str | None, triples: list[ox.Triple], replace: bool) -> None:
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode()
        steps = []
        if replace:
            steps.append("CLEAR SILENT DEFAULT" if graph is DEFAULT else f"DROP SILENT GRAPH <{graph}>")
        if graph is not DEFAULT:
            steps.append(f"CREATE SILENT GRAPH <{graph}>")
        if data:
            steps.append("INSERT DATA " + _graph_clause(graph, data))
        raw_writes.apply(self.store, " ;\n".join(steps), self.store.update, [graph])

    def delete(self, graph: str | None) -> None:
        raw_writes.apply(self.store, "CLEAR DEFAULT" if graph is DEFAULT else f"DROP GRAPH <{graph}>",
                         self.store.update, [graph])


def _handle(request: Request, body: bytes, path: str) -> Response:
    store: Store = request.app.state.store
    method = request.method
    named, graph = _target(request, path)
    if isinstance(store, RemoteStore) and method not in ("GET", "HEAD"):
        return _forward(store, request, body, named, graph)  # a read answers what the graph states, as below
    gs = _Local(store)
    if method in ("GET", "HEAD"):
        if not named:
            raise ProtocolError(400, "name a graph: /gsp?graph=IRI, /gsp?default or /gsp/<path>")
        if not gs.exists(graph):
            return Response(status_code=404)
        media = negotiate(request.headers.get("accept"), list(GRAPH_FORMATS), "text/turtle")
        fmt = GRAPH_FORMATS[media]
        data = gs.read(graph, fmt)
        headers = {"content-type": f"{fmt.media_type}; charset=utf-8"}
        if method == "HEAD":
            headers["content-length"] = str(len(data))
            return Response(status_code=200, headers=headers)
        return Response(data, status_code=200, headers=headers)
    if method == "DELETE":
        if not named:
            raise ProtocolError(400, "name the graph to delete")
        if not gs.exists(graph):
            return Response(status_code=404)
        gs.delete(graph)
        return Response(status_code=204)
    location = None
    if not named:
        if method != "POST":
            raise ProtocolError(400, "name the graph to replace: /gsp?graph=IRI, /gsp?default or /gsp/<path>")
        graph = location = str(request.url.replace(query="")).rstrip("/") + f"/graph/{uuid.uuid4()}"
    base = graph or str(request.url.replace(query=""))
    triples = _parse_rdf(request.headers.get("content-type"), body, base)
    existed = gs.exists(graph)
    gs.write(graph, triples, replace=method == "PUT")
    if existed:
        return Response(status_code=204)
    return Response(status_code=201, headers={"location": location} if location else None)


def _forward(store: RemoteStore, request: Request, body: bytes, named: bool, graph: str | None) -> Response:
    """Hand the request to the remote store's own Graph Store endpoint."""
    params: dict[str, str] = {}
    if named:
        params = {"default": ""} if graph is DEFAULT else {"graph": graph or ""}
    headers = {k: v for k, v in request.headers.items() if k in ("content-type", "accept")}
    try:
        answer = httpx.request(request.method, store.gsp_url, params=params, content=body or None,
                               headers=headers, timeout=300.0)
    except httpx.HTTPError as exc:
        raise ProtocolError(502, f"the graph store could not be reached: {exc}", "StoreError") from None
    if request.method not in ("GET", "HEAD") and answer.status_code < 300:
        raw_writes.settle(store, [graph])  # a fact it now holds twice stays with one graph
    keep = {k: v for k, v in answer.headers.items() if k in ("content-type", "location")}
    return Response(answer.content if request.method != "HEAD" else None,
                    status_code=answer.status_code, headers=keep)


def _guarded(request: Request, body: bytes, path: str) -> Response:
    try:
        require_writer(request)
        return _handle(request, body, path)
    except ProtocolError as exc:
        return problem(exc)
    except (QueryError, StoreError) as exc:
        return problem(ProtocolError(400 if isinstance(exc, QueryError) else 503, str(exc), type(exc).__name__))


@router.api_route("/gsp", methods=_METHODS, include_in_schema=False)
async def gsp_indirect(request: Request) -> Response:
    return await run_in_threadpool(_guarded, request, await request.body(), "")


@router.api_route("/gsp/{path:path}", methods=_METHODS, include_in_schema=False)
async def gsp_direct(request: Request, path: str) -> Response:
    return await run_in_threadpool(_guarded, request, await request.body(), path or "")
