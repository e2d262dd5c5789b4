"""The gate every HTTP request passes before a door sees it: the read token, body limits, HEAD, OPTIONS, CORS.

Why one ASGI layer and not FastAPI middleware: ``/sparql`` is answered ahead
of FastAPI's layers (see ``app._Service``), so a middleware would not cover
it; and these rules are the same for every door, so they live in one place.

- **Read token** (``BEPGRAPH_READ_TOKEN``): every door needs
  ``Authorization: Bearer <token>`` (the write token also reads). The pages
  themselves and their browser files hold no data and stay open, so a browser
  can load them; with a read token set, each page gets ``/auth.js``, which
  asks for the token once, keeps it in ``sessionStorage`` and adds it to the
  page's own requests as a header (never in a URL, so never in a log).
- **Body limits**: a ``Content-Length`` over the limit is refused (413)
  before anything is read; a body sent without one is counted as it arrives
  and refused when it passes the limit. A body that stalls longer than
  :data:`BODY_IDLE_S` between chunks is answered 408.
- **HEAD** of any GET route answers as GET without the body; **OPTIONS**
  lists the route's methods; **CORS** is off unless origins are listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from ..settings import Settings
from ..endpoint.token import token_matches

__all__ = ["BODY_IDLE_S", "BodyRefused", "guarded"]

BODY_IDLE_S = 30.0  # seconds a request body may stall between chunks
AUTH_SCRIPT = Path(__file__).resolve().parent / "static" / "auth.js"
# pages a browser may open without the token: they hold no data, only the script that asks for it
_PAGES = {"/", "/graphql", "/sparql", "/viz"}
_PAGE_FILES = ("/yasgui/", "/graphql/static/", "/viz/static/")
_AUTH_TAG = b'<script src="/auth.js"></script>'


class BodyRefused(HTTPException):
    """A request body over the limit (413) or stalled (408): raised from ``receive``, answered by the app."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(status, detail)
        self.kind = kind

    def response(self) -> Response:
        """The answer; the connection is closed, as the rest of the body is not read."""
        return _problem(self.status_code, self.kind, self.detail, {"connection": "close"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _problem(status: int, kind: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status, headers=headers)


def _open_without_token(scope: Scope) -> bool:
    path, method = scope["path"], scope["method"]
    if method not in ("GET", "HEAD"):
        return False
    if path == "/auth.js" or path.startswith(_PAGE_FILES):
        return True
    if path not in _PAGES:
        return False
    accept = _header(scope, b"accept") or ""
    return "text/html" in accept and (path == "/viz" or not scope.get("query_string"))


_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _allowed_methods(app: Any, scope: Scope) -> set[str]:
    """The methods some route of *app* answers at this path (probed: included routers hide their routes)."""
    methods = {m for m in _METHODS
               if any(route.matches(dict(scope, method=m))[0] == Match.FULL for route in app.router.routes)}
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else set()


def _cors_headers(settings: Settings, scope: Scope) -> dict[str, str]:
    origin = _header(scope, b"origin")
    if not origin or not settings.cors_origins:
        return {}
    if origin not in settings.cors_origins and "*" not in settings.cors_origins:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin",
            "access-control-expose-headers": "Content-Type, Location"}


async def guarded(app: Any, scope: Scope, receive: Receive, send: Send,
                  inner: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
    """Answer *scope* through *inner* (the app proper) once the gate's rules let it through."""
    if scope["type"] != "http":
        await inner(scope, receive, send)
        return
    settings: Settings = app.state.settings
    cors = _cors_headers(settings, scope)
    method = scope["method"]
    if scope["path"] == "/auth.js" and method in ("GET", "HEAD"):
        await Response(AUTH_SCRIPT.read_bytes(), media_type="text/javascript")(scope, receive, send)
        return
    if method == "OPTIONS":
        await _options(app, scope, cors)(scope, receive, send)
        return
    if settings.read_token and not _open_without_token(scope):
        header = _header(scope, b"authorization")
        if not (token_matches(settings.read_token, header) or token_matches(settings.token, header)):
            detail = ("this service needs a read token: send 'Authorization: Bearer <token>'" if not header
                      else "the bearer token is not one this service accepts")
            refusal = _problem(401, "Unauthorized", detail, {"www-authenticate": 'Bearer realm="bepgraph"', **cors})
            await refusal(scope, receive, send)
            return
    limit = settings.max_gsp_body if scope["path"].startswith("/gsp") else settings.max_body
    declared = _header(scope, b"content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            await _problem(400, "BadRequest", "Content-Length is not a number")(scope, receive, send)
            return
        if int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
    inject = bool(settings.read_token) and scope["path"] in _PAGES
    head = method == "HEAD" and not scope["path"].startswith("/gsp")  # the Graph Store answers HEAD itself
    if head:
        scope = dict(scope, method="GET")
    await inner(scope, _bounded(receive, limit), _rewriting(send, cors, head, inject))


def _too_large_detail(limit: int) -> str:
    return (f"the request body is larger than {limit} bytes (the limit); "
            "send less, or raise BEPGRAPH_MAX_BODY / BEPGRAPH_MAX_GSP_BODY")


def _too_large(limit: int) -> Response:
    return _problem(413, "PayloadTooLarge", _too_large_detail(limit), {"connection": "close"})


def _options(app: Any, scope: Scope, cors: dict[str, str]) -> Response:
    methods = _allowed_methods(app, scope)
    if not methods:
        return _problem(404, "NotFound", f"no door at {scope['path']}")
    allow = ", ".join(sorted(methods))
    headers = {"allow": allow, **cors}
    if cors and _header(scope, b"access-control-request-method"):
        headers |= {"access-control-allow-methods": allow, "access-control-max-age": "600",
                    "access-control-allow-headers": "Authorization, Content-Type, Accept"}
    return Response(status_code=204, headers=headers)


def _bounded(receive: Receive, limit: int) -> Receive:
    """*receive*, refusing a body past *limit* bytes or stalled past :data:`BODY_IDLE_S` (until it is complete)."""
    seen = 0
    complete = False

    async def bounded() -> Message:
        nonlocal seen, complete
        if complete:
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), BODY_IDLE_S)
        except asyncio.TimeoutError:
            raise BodyRefused(408, "RequestTimeout", f"the request body stalled for more than {BODY_IDLE_S:g} s") from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyRefused(413, "PayloadTooLarge", _too_large_detail(limit))
            complete = not message.get("more_body", False)
        else:
            complete = True
        return message

    return bounded


def _rewriting(send: Send, cors: dict[str, str], head: bool, inject: bool) -> Send:
    """*send* with the CORS headers added, the body dropped for HEAD, and ``/auth.js`` put into HTML pages."""
    extra = [(k.encode(), v.encode()) for k, v in cors.items()]
    held: list[Message] = []

    async def rewritten(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", [])] + extra
            html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
            if inject and html:
                held.append(dict(message, headers=headers))
                return
            await send(dict(message, headers=headers))
            return
        if held and message["type"] == "http.response.body":
            held.append(message)
            if message.get("more_body", False):
                return
            start, *parts = held
            body = b"".join(p.get("body", b"") for p in parts)
            body = body.replace(b"<head>", b"<head>" + _AUTH_TAG, 1) if b"<head>" in body else _AUTH_TAG + body
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send(dict(start, headers=headers))
            await send({"type": "http.response.body", "body": b"" if head else body})
            return
        if head and message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})
            return
        await send(message)

    return rewritten
