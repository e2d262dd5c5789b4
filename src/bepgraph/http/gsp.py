"""``/gsp``: the router of the SPARQL 1.1 Graph Store HTTP Protocol (the operations: :mod:`bepgraph.endpoint.graph_store`).

Graphs are named indirectly (``/gsp?graph=IRI``, ``/gsp?default``) or
directly (the request URL itself, ``/gsp/some/path``).
"""

from __future__ import annotations

import uuid

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..endpoint.graph_store import DEFAULT, GraphStoreRequest, answer
from ..endpoint.protocol import ProtocolError
from ..errors import QueryError, StoreError
from ..store import Store
from .auth import require_writer
from .sparql import problem

__all__ = ["router"]

router = APIRouter()

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


def _handle(request: Request, body: bytes, path: str) -> Response:
    store: Store = request.app.state.store
    named, graph = _target(request, path)
    url = str(request.url.replace(query=""))
    asked = GraphStoreRequest(request.method, named, graph, url, body, dict(request.headers))
    done = answer(store, asked, url.rstrip("/") + f"/graph/{uuid.uuid4()}")
    return Response(done.body, status_code=done.status, headers=done.headers or None)


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
