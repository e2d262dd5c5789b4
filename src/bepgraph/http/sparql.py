"""``/sparql``: the SPARQL 1.1 Protocol door, its service description and YASGUI for people.

This module only reads requests and writes responses; negotiation, the
dataset, the timeout and the result cap live in :mod:`bepgraph.endpoint`.
Query handlers are ``async``: the query runs in a worker process and the
event loop waits on its pipe, so a long query holds no thread and the loop
goes on serving others (a thread hop per request cost milliseconds on a
busy machine). Updates and the service description, which block, run in
the thread pool.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.types import Receive, Scope

from ..settings import Settings
from ..endpoint.protocol import (GRAPH_FORMATS, Dataset, ProtocolError, body_text, every, media_of, negotiate,
                                 parse_form, single, utf8_only)
from ..endpoint.runner import QueryRunner
from .auth import require_writer

__all__ = ["router", "direct_response", "get_runner", "problem"]

router = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
YASGUI = STATIC / "yasgui"
YASGUI_FILES = ("yasgui.min.js", "yasgui.min.css", "yasgui.min.js.map")
_SD = "http://www.w3.org/ns/sparql-service-description#"
_runner_lock = threading.Lock()


def get_runner(request: Request) -> QueryRunner:
    """The app's one query runner, made on first use from its store and settings."""
    state = request.app.state
    with _runner_lock:
        runner = getattr(state, "sparql_runner", None)
        if runner is None or runner.store is not state.store:
            if runner is not None:
                runner.close()  # its query processes read a store the app no longer serves
            settings: Settings = state.settings
            runner = QueryRunner(state.store, settings.query_timeout_s, settings.result_limit,
                                 service_allow=settings.service_allow)
            state.sparql_runner = runner
    return runner


def close_runner(app: FastAPI) -> None:
    """Stop the app's query runner, if a query made one: its query processes end with the app."""
    with _runner_lock:
        runner = getattr(app.state, "sparql_runner", None)
        app.state.sparql_runner = None
    if runner is not None:
        runner.close()


def problem(exc: ProtocolError) -> JSONResponse:
    return JSONResponse({"error": exc.kind, "detail": str(exc)}, status_code=exc.status)


def _endpoint(request: Request) -> str:
    """The endpoint's URL as the client addressed it (the base IRI of its queries)."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _endpoint_url(scope.get("scheme", "http"), host, tuple(server) if server else None, scope["path"])


@functools.lru_cache(maxsize=64)
def _endpoint_url(scheme: str, host: bytes | None, server: tuple[str, int | None] | None, path: str) -> str:
    """Starlette's reading of the URL (Host header checked, else the server's address), kept for the next
    request that names the endpoint the same way: it cost more than parsing a small query's form."""
    headers = [(b"host", host)] if host is not None else []
    url = URL(scope={"type": "http", "scheme": scheme, "server": server, "path": path, "headers": headers})
    return str(url.replace(query=""))


def _url_params(request: Request) -> list[tuple[str, str]]:
    try:
        return parse_form(request.scope["query_string"])
    except UnicodeDecodeError:
        raise ProtocolError(400, "the query string is not valid UTF-8") from None


def _media(request: Request) -> tuple[str, str | None]:
    return media_of(request.headers.get("content-type"))


async def _run(request: Request, runner: QueryRunner, params: list[tuple[str, str]],
               query: str | None, update: str | None) -> Response:
    if query is not None and update is not None:
        raise ProtocolError(400, "give either a query or an update, not both")
    if query is None and update is None:
        raise ProtocolError(400, "the request gives neither 'query' nor 'update'")
    if update is not None:
        require_writer(request)
        if every(params, "default-graph-uri") or every(params, "named-graph-uri"):
            raise ProtocolError(400, "an update takes using-graph-uri/using-named-graph-uri, not default-graph-uri")
        await run_in_threadpool(runner.update, update, every(params, "using-graph-uri"),
                                every(params, "using-named-graph-uri"), _endpoint(request))
        return Response(status_code=204)
    assert query is not None  # one of the two, checked above
    dataset = Dataset.of(every(params, "default-graph-uri"), every(params, "named-graph-uri"))
    answer = await runner.query_async(query, dataset, request.headers.get("accept"), _endpoint(request))
    return Response(memoryview(answer.body), media_type=answer.media_type)  # sent as it is, not copied


def _service_description(request: Request) -> Response:
    media = negotiate(request.headers.get("accept"), list(GRAPH_FORMATS), "text/turtle")
    endpoint = _endpoint(request)
    triples = [q.triple for q in ox.parse(path=str(STATIC / "service-description.ttl"),
                                          format=ox.RdfFormat.TURTLE, base_iri=endpoint)]
    settings: Settings = request.app.state.settings
    if settings.service_allow:  # federation is a feature only where the operator listed endpoints
        triples.append(ox.Triple(ox.NamedNode(endpoint), ox.NamedNode(_SD + "feature"),
                                 ox.NamedNode(_SD + "BasicFederatedQuery")))
    if settings.allow_updates:
        triples.append(ox.Triple(ox.NamedNode(endpoint), ox.NamedNode(_SD + "supportedLanguage"),
                                 ox.NamedNode(_SD + "SPARQL11Update")))
    fmt = GRAPH_FORMATS[media]
    return Response(ox.serialize(triples, format=fmt), media_type=fmt.media_type)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept


@router.get("/sparql", response_model=None)
async def sparql_get(request: Request) -> Response:
    """A query in the URL; without one, YASGUI for a browser or the service description for a program."""
    try:
        params = _url_params(request)
        if single(params, "update") is not None:
            raise ProtocolError(400, "an update must be sent with POST, not GET")
        query = single(params, "query")
        if query is None:
            if _wants_html(request):
                return HTMLResponse((STATIC / "sparql.html").read_text(encoding="utf-8"))
            return await run_in_threadpool(_service_description, request)
        return await _run(request, get_runner(request), params, query, None)
    except ProtocolError as exc:
        return problem(exc)


@router.post("/sparql", response_model=None)
async def sparql_post(request: Request) -> Response:
    """A query or update posted form-encoded or directly."""
    body = await request.body()
    runner = get_runner(request)
    try:
        params = _url_params(request)
        media, charset = _media(request)
        if media == "application/x-www-form-urlencoded":
            utf8_only(charset)
            try:
                params += parse_form(body)  # strict: raw bytes and escapes alike must be UTF-8
            except UnicodeDecodeError:
                raise ProtocolError(400, "the form is not valid UTF-8") from None
            return await _run(request, runner, params, single(params, "query"), single(params, "update"))
        if media == "application/sparql-query":
            if single(params, "query") is not None:
                raise ProtocolError(400, "a direct POST carries the query in its body, not in the URL")
            return await _run(request, runner, params, body_text(body, charset), None)
        if media == "application/sparql-update":
            return await _run(request, runner, params, None, body_text(body, charset))
        raise ProtocolError(415, f"'{media}' is not a SPARQL Protocol media type; use "
                                 "application/x-www-form-urlencoded, application/sparql-query or "
                                 "application/sparql-update", "UnsupportedMediaType")
    except ProtocolError as exc:
        return problem(exc)


async def direct_response(scope: Scope, receive: Receive) -> Response | None:
    """The answer to ``GET``/``POST /sparql`` from the handlers above, ahead of FastAPI; None for anything else.

    Why: a query's answer is bytes from a worker and every decision is the
    handler's, so FastAPI's middleware (server errors, telemetry, body
    limit, exceptions, exit stack), its routing over every door and its
    dependency solving were pure per-request cost, much of what a small
    query paid over a bare Oxigraph server (README, Measurements). The handlers answer protocol errors themselves; the
    app maps any other error as its exception handler does. The routes stay
    declared on :data:`router` (OpenAPI, and an app that mounts the router
    alone).
    """
    if scope["type"] != "http" or scope["path"] != "/sparql":
        return None
    handler = _HANDLERS.get(scope["method"])
    if handler is None:
        return None
    return await handler(Request(scope, receive))


_HANDLERS = {"GET": sparql_get, "POST": sparql_post}


@router.get("/yasgui/{name}", include_in_schema=False)
def yasgui_asset(name: str) -> Response:
    """The YASGUI files copied from npm by ``make install`` (only the files it ships)."""
    path = YASGUI / name
    if name not in YASGUI_FILES or not path.is_file():
        return JSONResponse({"error": "NotFound", "detail": f"no YASGUI file '{name}' (run make install)"},
                            status_code=404)
    return FileResponse(path)
