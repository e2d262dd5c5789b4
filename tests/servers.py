"""Real SPARQL servers for tests: an ``oxigraph serve`` process on 127.0.0.1 and a free port.

The remote store and the SPARQL endpoint must be tested against a live
server, not a mock: content negotiation, the Graph Store Protocol and the
union default graph are the server's behaviour, not ours. Import the
fixtures into a test module to use them::

    from .servers import oxigraph_server, oxigraph_servers  # noqa: F401  (pytest fixtures)

    @pytest.mark.server
    def test_something(oxigraph_server: OxigraphServer) -> None:
        store = RemoteStore(oxigraph_server.query_url)

``oxigraph_server`` is one fresh, empty server per test; ``oxigraph_servers``
is a factory for tests that need several (each call starts another, all
stop when the test ends).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

__all__ = ["OxigraphServer", "free_port", "oxigraph_server", "oxigraph_servers", "start_oxigraph"]

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
START_DEADLINE_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OxigraphServer:
    """A running ``oxigraph serve --union-default-graph`` with its data in *location*."""

    base_url: str
    location: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def query_url(self) -> str:
        return self.base_url + "/query"

    @property
    def update_url(self) -> str:
        return self.base_url + "/update"

    @property
    def store_url(self) -> str:
        return self.base_url + "/store"

    def stop(self) -> None:
        """Terminate the process and wait for it, killing it if it will not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, params={"query": "ASK {}"}, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_oxigraph(location: Path, deadline_s: float = START_DEADLINE_S) -> OxigraphServer:
    """Start a server on a free port with its store in *location*; return once it answers a query."""
    location.mkdir(parents=True, exist_ok=True)
    log = location.parent / f"{location.name}.log"
    port = free_port()
    with log.open("wb") as err:
        process = subprocess.Popen(
            [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
             "--union-default-graph"],
            stdout=subprocess.DEVNULL, stderr=err,
        )
    server = OxigraphServer(f"http://127.0.0.1:{port}", location, process, log)
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        if _answers(server.query_url):
            return server
        time.sleep(0.05)  # poll interval, not a wait for an outcome: the deadline bounds it
    server.stop()
    raise RuntimeError(f"oxigraph serve did not answer on port {port} within {deadline_s}s: {log.read_text()[-2000:]}")


@pytest.fixture
def oxigraph_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], OxigraphServer]]:
    """A factory: each call starts one more empty server; all are stopped after the test."""
    started: list[OxigraphServer] = []

    def start() -> OxigraphServer:
        server = start_oxigraph(tmp_path_factory.mktemp("oxigraph") / "data")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def oxigraph_server(oxigraph_servers: Callable[[], OxigraphServer]) -> OxigraphServer:
    """One fresh, empty Oxigraph server for this test."""
    return oxigraph_servers()
