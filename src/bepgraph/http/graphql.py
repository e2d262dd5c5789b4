"""``/graphql``: the GraphQL door, with GraphiQL served from local files (no CDN at run time).

Each request gets a fresh context (store, DataLoaders); the as-of cache
of validation runs and the calendars of date-ordered lists are one per
app, shared by its requests.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from strawberry.fastapi import GraphQLRouter

from ..graphql.asof import AsOfCache
from ..graphql.context import Context
from ..graphql.dated import Calendars
from ..graphql.schema import build_schema
from ..settings import Settings

__all__ = ["graphql_router"]

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = STATIC / "graphiql"
FILES = {  # the only files served: nothing else of the folder can be asked for
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
}


class _Router(GraphQLRouter[Context, None]):
    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # type: ignore[override]
        return HTMLResponse((STATIC / "graphiql.html").read_text(encoding="utf-8"))


def graphql_router(settings: Settings) -> APIRouter:
    """The /graphql router: the endpoint (GET and POST) and GraphiQL's files under /graphql/static."""
    as_of = AsOfCache()
    calendars = Calendars(as_of.generation)

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
