"""``/graphql``: the GraphQL door, with GraphiQL served from local files (no CDN at run time).

Each request gets a fresh context (store, DataLoaders); the as-of cache
of validation runs and the calendars of date-ordered lists are one per
app, shared by its requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cross_web import HTTPException as ViewError
from fastapi import APIRouter, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from ..graphql.asof import AsOfCache
from ..graphql.context import Context
from ..graphql.dated import Calendars
from ..graphql.schema import build_schema
from ..settings import Settings
from ..validation.findings_source import FindingsSource
from ..endpoint.protocol import ProtocolError, negotiate

__all__ = ["graphql_router"]

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = STATIC / "graphiql"
FILES = {  # the only files served: nothing else of the folder can be asked for
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
}


RESPONSE_MEDIA = "application/graphql-response+json"  # GraphQL over HTTP: errors get 4xx statuses
LEGACY_MEDIA = "application/json"  # the older convention: 200 whenever a GraphQL result was made


def _error(status: int, message: str, media: str) -> Response:
    """A request the server could not make a GraphQL result of, answered as a GraphQL error (never plain text)."""
    body = json.dumps({"errors": [{"message": message}]}).encode()
    return Response(body, status_code=status, media_type=media)


def _media(request: Request) -> str:
    """The GraphQL media type the client accepts; 406 (as a GraphQL error) when it accepts neither."""
    return negotiate(request.headers.get("accept"), [RESPONSE_MEDIA, LEGACY_MEDIA], LEGACY_MEDIA)


class _Router(GraphQLRouter[Context, None]):
    """Strawberry's router, speaking GraphQL over HTTP: bodies that are not a JSON object are a 400 with a
    GraphQL error (not a 500), and a client accepting ``application/graphql-response+json`` gets it with 400
    for a document that does not parse or validate, or variables that do not coerce."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse((STATIC / "graphiql.html").read_text(encoding="utf-8"))

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError:
            raise ViewError(400, "the JSON is nested too deep") from None
        except UnicodeDecodeError:
            raise ViewError(400, "the body is not UTF-8") from None

    async def parse_http_body(self, request: Any) -> Any:
        if request.method == "POST" and "json" in (request.content_type or ""):
            parsed = self.parse_json(await request.get_body())
            if not isinstance(parsed, dict):
                raise ViewError(400, 'the body must be a JSON object, such as {"query": "{ __typename }"}')
        return await super().parse_http_body(request)

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        data = process_result(result)
        refused = result.data is None and result.errors and all(not e.path for e in result.errors)
        if refused and getattr(request.state, "graphql_media", LEGACY_MEDIA) == RESPONSE_MEDIA:
            data.pop("data", None)  # a request error: no execution happened, so no data entry
            request.state.graphql_status = 400
        return data

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        browser = request.method == "GET" and "query" not in request.query_params
        try:
            media = LEGACY_MEDIA if browser else _media(request)
        except ProtocolError as exc:
            return _error(406, str(exc), LEGACY_MEDIA)
        request.state.graphql_media = media
        try:
            response = await super().run(request, context, root_value)
        except ViewError as exc:
            status = 415 if exc.reason == "Unsupported content type" else exc.status_code
            return _error(status, exc.reason, media)
        if isinstance(response, Response) and response.media_type == LEGACY_MEDIA:
            response.headers["content-type"] = media
            response.status_code = getattr(request.state, "graphql_status", response.status_code)
        return response


def graphql_router(settings: Settings, source: FindingsSource) -> APIRouter:
    """The /graphql router: the endpoint (GET and POST) and GraphiQL's files under /graphql/static;
    its findings from the process's one *source* (validated, or the files of ``serve --findings-file``)."""
    as_of = AsOfCache(source)
    calendars = Calendars()

    async def context(request: Request) -> Context:
        # a coroutine, so FastAPI builds the context on the event loop: a plain function would cost
        # every request a hop to its thread pool and back
        return Context(request.app.state.store, as_of, settings.max_page_size, calendars)

    router = APIRouter()

    @router.get("/graphql/static/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in FILES or not (ASSETS / name).is_file():
            raise HTTPException(404, f"no GraphiQL file '{name}' (run `make install` to fetch GraphiQL)")
        return FileResponse(ASSETS / name, media_type=FILES[name])

    router.include_router(_Router(build_schema(), context_getter=context), prefix="/graphql")
    return router
