"""A real uvicorn serving create_app on 127.0.0.1, in this process, over a store the test can watch.

The store is the real embedded Oxigraph store behind a counting proxy, so
tests can count the SPARQL queries a GraphQL request makes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore, Store

from .servers import free_port

__all__ = ["CountingStore", "Served", "serve", "serve_example"]

DEADLINE_S = 30.0


class CountingStore(EmbeddedStore):
    """The real embedded store, counting the queries that go through it."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def query(self, text, bindings=None, *, default_graphs=None, named_graphs=None, rows=None):  # type: ignore[override]
        self.queries.append(text)
        return super().query(text, bindings, default_graphs=default_graphs, named_graphs=named_graphs, rows=rows)


@dataclass
class Served:
    url: str
    store: Store


@contextmanager
def serve(store: Store, settings: Settings | None = None) -> Iterator[Served]:
    """Run uvicorn on a free port in a thread until the block ends; return once /healthz answers."""
    port = free_port()
    app = create_app(settings or Settings(port=port, load_on_start=False), store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    until = time.monotonic() + DEADLINE_S
    try:
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > until or not thread.is_alive():
                raise RuntimeError(f"uvicorn did not answer on port {port} within {DEADLINE_S}s")
            time.sleep(0.02)  # poll interval; the deadline bounds the wait
        yield Served(url, store)
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE_S)


@contextmanager
def serve_example() -> Iterator[Served]:
    """A service over the filing and the example bundle in memory: what `make serve` shows."""
    store = EmbeddedStore()
    load_all(store)
    with serve(store) as served:
        yield served
