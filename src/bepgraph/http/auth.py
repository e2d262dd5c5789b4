"""Who may write: the doors that change the graph are off unless the service was started for updates.

Reads are open; SPARQL Update and the Graph Store Protocol need the service
started with ``--allow-updates`` *and* an ``Authorization: Bearer …`` header
equal to ``BEPGRAPH_TOKEN`` (compared in constant time).
"""

from __future__ import annotations

from fastapi import Request

from ..errors import ParameterError
from ..settings import Settings
from ..endpoint.protocol import ProtocolError
from ..endpoint.token import token_matches

__all__ = ["require_writer", "check_update_settings"]


def check_update_settings(settings: Settings) -> None:
    """Refuse to start a service open for updates without a token to guard them."""
    if settings.allow_updates and not settings.token:
        raise ParameterError("--allow-updates needs the environment variable BEPGRAPH_TOKEN (the bearer token)")


def require_writer(request: Request) -> None:
    """Raise the Protocol error that fits unless this request may change the graph."""
    settings: Settings = request.app.state.settings
    if not settings.allow_updates:
        raise ProtocolError(403, "this service is read-only; start it with --allow-updates (and BEPGRAPH_TOKEN) "
                                 "to accept SPARQL Update and the Graph Store Protocol", "Forbidden")
    header = request.headers.get("authorization")
    if not header:
        raise ProtocolError(401, "updates need an 'Authorization: Bearer <token>' header", "Unauthorized")
    if not token_matches(settings.token, header):
        raise ProtocolError(403, "the bearer token is not the one this service was started with", "Forbidden")
