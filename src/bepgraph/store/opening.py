"""Which store a location names: a SPARQL server's URL, memory, or a folder on disk."""

from __future__ import annotations

from pathlib import Path

from ..settings import RemoteSettings
from .embedded import EmbeddedStore
from .interface import Store
from .remote import RemoteStore

__all__ = ["open_store"]


def open_store(location: str | None, remote: RemoteSettings | None = None) -> Store:
    """``http(s)://…`` (or no location with ``BEPGRAPH_STORE_QUERY_URL`` set): a SPARQL server reached
    as *remote* says; ``None`` or ``memory``: in memory; anything else: a folder on disk."""
    remote = remote or RemoteSettings()
    if (location or "").startswith(("http://", "https://")) or (not location and remote.query_url):
        return RemoteStore(location or None, remote=remote)
    if location in (None, "", "memory", ":memory:"):
        return EmbeddedStore()
    return EmbeddedStore(Path(location))
