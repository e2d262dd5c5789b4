"""The application factory: the store is opened and loaded once, in the lifespan.

Each door is a router of its own module (``health``, ``index``, ``sparql``,
``graphql``, ``viz``); they all read the same store through ``app.state``.
"""

from __future__ import annotations

import sys

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from ..errors import BepgraphError, InputError, ParameterError, QueryError
from ..loading import describe, load_for_use
from ..settings import Settings
from ..store import Store, open_store
from ..validation.findings_source import VALIDATED, FindingsSource
from ..validation.saved_findings import SavedFindings
from . import gsp, health, index, sparql, viz
from .auth import check_update_settings
from .gate import BodyRefused, guarded
from .graphql import graphql_router

__all__ = ["create_app", "get_store"]


def error_response(exc: BepgraphError) -> JSONResponse:
    """An expected error as every door answers it: the client's fault 400, the store's 503."""
    status = 400 if isinstance(exc, (InputError, QueryError)) else 503
    return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status)


class _Service(FastAPI):
    """FastAPI, except that analysts' queries are answered ahead of its layers (``sparql.direct_response``).

    Only while the app has no middleware of its own: one added later
    (CORS, compression) then applies to ``/sparql`` too.
    """

    startup_error: BepgraphError | None = None  # why the lifespan could not start the service, if it could not

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().__call__(scope, receive, self._plain_startup_failure(send))
            return
        await guarded(self, scope, receive, send, self._answer)

    def _plain_startup_failure(self, send: Send) -> Send:
        """*send*, with a start refused for a bepgraph reason (a bad bundle, a store that cannot be
        opened) reported as its message rather than a traceback."""

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.startup_error is not None:
                message = dict(message, message=f"bepgraph: {self.startup_error}")
            await send(message)

        return sending

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.user_middleware:
            scope["app"] = self  # as Starlette sets it: the handlers reach the store through it
            try:
                response = await sparql.direct_response(scope, receive)
            except BepgraphError as exc:
                response = error_response(exc)
            except BodyRefused as exc:
                response = exc.response()
            if response is not None:
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def get_store(request: Request) -> Store:
    """The dependency every door uses to reach the one store."""
    store: Store = request.app.state.store
    return store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """An app serving *store* (or the store *settings* name, loaded with the filing and bundles)."""
    settings = settings or Settings()
    check_update_settings(settings)
    if settings.findings_files and settings.allow_updates:
        raise ParameterError("--findings-file serves the findings of the facts loaded, and --allow-updates would "
                             "let the facts change under them: use one or the other")
    saved = SavedFindings.read(settings.findings_files) if settings.findings_files else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        try:
            app.state.store = store or open_store(settings.store, settings.remote)
            if own and settings.load_on_start:
                load_for_use(app.state.store, list(settings.bundles) if settings.bundles else None, settings.plan,
                             progress=sys.stderr.isatty())
                for line in describe(app.state.store):
                    print(f"bepgraph: serving {line}", file=sys.stderr)
                print(f"bepgraph: serving on http://{settings.host}:{settings.port}/", file=sys.stderr)
            if saved is not None:  # findings of other facts than those served: refuse to start
                saved.check(app.state.store)
        except BepgraphError as exc:
            service.startup_error = exc
            raise
        try:
            yield
        finally:
            sparql.close_runner(app)  # before the store: its query processes read it
            if own:
                app.state.store.close()

    app = service = _Service(title="bepgraph", lifespan=lifespan)
    app.state.settings = settings
    # every door's findings: judged on the store, or (serve --findings-file) read from the files only
    findings: FindingsSource = saved if saved is not None else VALIDATED
    app.state.findings = findings

    @app.exception_handler(BepgraphError)
    async def _bepgraph_error(request: Request, exc: BepgraphError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(BodyRefused)
    async def _body_refused(request: Request, exc: BodyRefused) -> Response:
        return exc.response()

    app.include_router(health.router)
    app.include_router(sparql.router)
    app.include_router(gsp.router)
    app.include_router(index.router)
    app.include_router(graphql_router(settings, findings))
    app.include_router(viz.router)
    return app
