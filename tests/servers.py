"""Real SPARQL servers for tests: ``oxigraph serve`` and OpenLink Virtuoso, on 127.0.0.1 and free ports.

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

``virtuoso_server`` is one Virtuoso (Debian's ``virtuoso-opensource``, which
.ci/run installs) for a test module, emptied of the project's graphs before
each test; ``virtuoso_servers`` starts more with other settings (a small
``ResultSetMaxRows``). A new database takes Virtuoso half a minute to
create, so one is created per session and copied for each server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from bepgraph.settings import BulkSettings, RemoteSettings
from bepgraph.store import RemoteStore

__all__ = ["OxigraphServer", "VirtuosoServer", "free_port", "oxigraph_server", "oxigraph_servers", "start_oxigraph",
           "start_virtuoso", "virtuoso_server", "virtuoso_servers"]

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


# --- Virtuoso ----------------------------------------------------------------------------------------

VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"
ISQL = shutil.which("isql-vt") or "/usr/bin/isql-vt"
VIRTUOSO_DEADLINE_S = 90.0  # a new database: about 30 s on this machine; a copied one: about 7 s
_VSP = "/var/lib/virtuoso-opensource-7/vsp"

_INI = """[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {db}, {bulk}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
TransactionAfterImageLimit = 1500000000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = {max_seconds}
MaxQueryCostEstimationTime = 0
"""


@dataclass
class VirtuosoServer:
    """A running ``virtuoso-t`` with its database in *folder*: queries on /sparql, updates and the Graph
    Store Protocol on /sparql-auth and /sparql-graph-crud-auth with HTTP digest auth (user dba)."""

    base_url: str
    sql_port: int
    folder: Path
    process: subprocess.Popen[bytes]
    max_rows: int

    @property
    def remote(self) -> RemoteSettings:
        """The settings a user of this server gives bepgraph (as BEPGRAPH_STORE_* variables)."""
        return RemoteSettings(query_url=self.base_url + "/sparql", update_url=self.base_url + "/sparql-auth",
                              gsp_url=self.base_url + "/sparql-graph-crud-auth", auth="digest", user="dba",
                              password="dba", dataset="listed", max_rows=self.max_rows)

    @property
    def env(self) -> dict[str, str]:
        r = self.remote
        return {"BEPGRAPH_STORE_QUERY_URL": r.query_url or "", "BEPGRAPH_STORE_UPDATE_URL": r.update_url or "",
                "BEPGRAPH_STORE_GSP_URL": r.gsp_url or "", "BEPGRAPH_STORE_AUTH": "digest",
                "BEPGRAPH_STORE_USER": "dba", "BEPGRAPH_STORE_PASSWORD": "dba", "BEPGRAPH_STORE_DATASET": "listed",
                "BEPGRAPH_STORE_MAX_ROWS": str(self.max_rows)}

    @property
    def bulk_dir(self) -> Path:
        """A folder the server may read (in its DirsAllowed): where a bulk load writes its N-Quads."""
        return self.folder / "bulk"

    @property
    def bulk(self) -> BulkSettings:
        """The settings of Virtuoso's own bulk loader (BEPGRAPH_STORE_BULK=virtuoso and the rest)."""
        return BulkSettings("virtuoso", self.bulk_dir, isql=f"127.0.0.1:{self.sql_port}", isql_command=ISQL,
                            user="dba", password="dba")

    def store(self, bulk: BulkSettings | None = None) -> RemoteStore:
        """A remote store on this server; loads go to its bulk loader when *bulk* is given."""
        return RemoteStore(remote=replace(self.remote, bulk=bulk))

    def isql(self, sql: str) -> str:
        out = subprocess.run([ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={sql}"],
                             capture_output=True, text=True, timeout=60, check=False)
        if out.returncode != 0 or "*** Error" in out.stdout + out.stderr:
            raise RuntimeError(f"isql-vt {sql!r} failed: {out.stdout}{out.stderr}")
        return out.stdout

    def clear(self) -> None:
        """Drop the project's graphs (the server's own graphs stay, as on a user's server)."""
        store = self.store()
        try:
            for graph in store.named_graphs():
                store.drop_graph(graph)
        finally:
            store.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_virtuoso(folder: Path, template: Path | None = None, max_rows: int = 1_000_000, max_seconds: int = 0,
                   deadline_s: float = VIRTUOSO_DEADLINE_S) -> VirtuosoServer:
    """Start Virtuoso with a new virtuoso.ini in *folder* (its database copied from *template* when
    given, else created); return once /sparql answers."""
    db = folder / "db"
    if template is not None:
        shutil.copytree(template, db)
        (db / "virtuoso.lck").unlink(missing_ok=True)
    else:
        db.mkdir(parents=True)
    http_port, sql_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    (folder / "bulk").mkdir(exist_ok=True)
    ini.write_text(_INI.format(db=db, bulk=folder / "bulk", sql_port=sql_port, http_port=http_port, vsp=_VSP, max_rows=max_rows,
                               max_seconds=max_seconds))
    log = folder / "virtuoso.out"
    with log.open("wb") as out:
        process = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(ini)], cwd=folder,
                                   stdout=out, stderr=subprocess.STDOUT)
    server = VirtuosoServer(f"http://127.0.0.1:{http_port}", sql_port, folder, process, max_rows)
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        if process.poll() is not None:
            raise RuntimeError(f"virtuoso-t exited with {process.returncode}: {log.read_text()[-2000:]}")
        if _answers(server.base_url + "/sparql"):
            return server
        time.sleep(0.1)  # poll interval; the deadline bounds the wait
    server.stop()
    raise RuntimeError(f"Virtuoso did not answer on port {http_port} within {deadline_s}s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def virtuoso_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new, stopped Virtuoso database, copied by every server of the session (creating one is slow)."""
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso-template"))
    server.stop()
    db = server.folder / "db"
    for name in ("virtuoso.log", "virtuoso.lck"):
        (db / name).unlink(missing_ok=True)
    return db


@pytest.fixture(scope="module")
def virtuoso_servers(tmp_path_factory: pytest.TempPathFactory,
                     virtuoso_template: Path) -> Iterator[Callable[..., VirtuosoServer]]:
    """A factory: each call starts one more Virtuoso (keyword arguments as :func:`start_virtuoso`)."""
    started: list[VirtuosoServer] = []

    def start(**settings: int) -> VirtuosoServer:
        server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"), virtuoso_template, **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def _virtuoso_module(virtuoso_servers: Callable[..., VirtuosoServer]) -> VirtuosoServer:
    return virtuoso_servers()


@pytest.fixture
def virtuoso_server(_virtuoso_module: VirtuosoServer) -> VirtuosoServer:
    """The module's Virtuoso, holding none of the project's graphs."""
    _virtuoso_module.clear()
    return _virtuoso_module
