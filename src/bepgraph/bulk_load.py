"""A load into a SPARQL server handed to the server's own bulk loader, as N-Quads, instead of its Graph Store.

Why: the Graph Store Protocol writes a large bundle one transaction per
chunk, which is slow on every server (see README, Measurements, "Remote
stores"); Virtuoso's ``ld_dir``/``rdf_loader_run`` and Oxigraph's
``POST /store?no_transaction`` write the index directly.

Only *how the staged triples reach the server* changes. The load itself is
the one of ``loading.py``: each source is judged against the others (one
holder per fact, conflicts refused before anything is written), written
where no commit has made it a source yet (a new graph in place, named in the
journal; a replacement in a staging graph), and made visible by the same one
SPARQL Update that moves the staging graphs into place and writes the
graph/meta records. :class:`Spooled` stands in for the remote store during a load: the
chunks the loader appends are written to an N-Quads file, and the file is
handed to the bulk loader before the store is next read or written (so the
judge of the next source, and the commit, see everything staged before).

A bulk loader is neither transactional nor strict (Virtuoso's skips a line it
cannot parse and says nothing), so after each hand-off every graph written
is counted on the server against the distinct triples sent to it; a short
count, a loader that fails or dies, or a misconfigured loader is an error,
and the load is aborted as any load: its staging graphs are dropped, and the
store is as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Hashable, Protocol

import pyoxigraph as ox

from .errors import QueryError, StoreError
from .namespaces import graph_iri
from .settings import BulkSettings
from .store import Commit, QueryResult, RemoteStore, Store, Term

__all__ = ["BulkLoadError", "OxigraphLoader", "Spooled", "VirtuosoLoader", "bulk_target", "loader_for", "quads"]

N_QUADS = "application/n-quads"
_LINE_END = re.compile(rb" \.\n")


class BulkLoadError(StoreError):
    """The server's bulk loader failed, was misconfigured, or loaded less than it was given."""


class Loader(Protocol):
    """A server's bulk loader: where it reads its files from, and the hand-off of one file."""

    name: str

    def folder(self) -> Path: ...

    def load(self, path: Path) -> None: ...


def quads(chunk: bytes, graph: str) -> bytes:
    """N-Triples lines written by this package's readers as N-Quads in *graph*.

    Blank nodes are given labels of their own: each chunk was a document of
    its own on the Graph Store path, and one file must not join them.
    """
    name = b" <" + ox.NamedNode(graph).value.encode() + b"> .\n"
    if b"_:" in chunk:
        fresh: dict[str, ox.BlankNode] = {}

        def term(t: Term) -> Term:
            return fresh.setdefault(t.value, ox.BlankNode()) if isinstance(t, ox.BlankNode) else t

        node = ox.NamedNode(graph)
        parsed = ox.parse(chunk, format=ox.RdfFormat.N_TRIPLES)
        return ox.serialize([ox.Quad(term(q.subject), q.predicate, term(q.object), node)  # type: ignore[arg-type]
                             for q in parsed], format=ox.RdfFormat.N_QUADS) or b""
    out, ends = _LINE_END.subn(name, chunk)
    if ends != chunk.count(b"\n"):
        raise BulkLoadError(f"a chunk for graph <{graph}> is not N-Triples ending ' .' on every line")
    return out


class VirtuosoLoader:
    """Virtuoso's ``ld_dir`` and ``rdf_loader_run``, run through ``isql-vt`` on the server's SQL port.

    ``rdf_loader_run`` writes without a transaction log, so a ``checkpoint``
    follows: the staged triples are on disk before the commit that names them
    is logged (a server restarted after the commit must not replay a move of
    graphs it lost).
    """

    name = "Virtuoso's bulk loader (ld_dir/rdf_loader_run)"

    def __init__(self, settings: BulkSettings, timeout_s: float) -> None:
        assert settings.folder is not None  # BulkSettings.from_env requires it for virtuoso
        self.settings = settings
        self.timeout_s = timeout_s

    def folder(self) -> Path:
        where = self.settings.folder
        assert where is not None
        if not where.is_dir() or not os.access(where, os.W_OK):
            raise BulkLoadError(f"BEPGRAPH_STORE_BULK_DIR {where} is not a folder this process can write: "
                                "create it, and list it in DirsAllowed in virtuoso.ini")
        return where

    def load(self, path: Path) -> None:
        server_dir = (self.settings.server_folder or str(self.folder())).rstrip("/")
        server_file = f"{server_dir}/{path.name}"
        marker = "bepgraph-bulk-load"
        script = "\n".join([
            f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file = {_sql(server_file)};",
            f"ld_dir({_sql(server_dir)}, {_sql(path.name)}, {_sql(graph_iri('none'))});",
            "rdf_loader_run();",
            "checkpoint;",
            f"SELECT {_sql(marker)}, ll_state, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_file = {_sql(server_file)};",
            f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file = {_sql(server_file)};",
            "",
        ])
        status, out = self._isql(script)
        errors = [line for line in out.splitlines() if line.startswith("*** Error")]
        if errors:
            detail = " ".join(errors)
            if "FA0" in detail or "denied" in detail.lower() or "Unable to list" in detail:
                raise BulkLoadError(f"Virtuoso cannot read the bulk-load folder {server_dir} ({detail}): list it in "
                                    "DirsAllowed in virtuoso.ini, and set BEPGRAPH_STORE_BULK_SERVER_DIR if the "
                                    "server names it otherwise than BEPGRAPH_STORE_BULK_DIR")
            if "Bad login" in detail or "28000" in detail:
                raise BulkLoadError(f"Virtuoso refused the SQL login ({detail}): set BEPGRAPH_STORE_ISQL_USER and "
                                    "BEPGRAPH_STORE_ISQL_PASSWORD")
            if "Connect failed" in detail or "08001" in detail or "08S01" in detail:
                raise BulkLoadError(f"Virtuoso's SQL port {self.settings.isql} could not be reached ({detail}): "
                                    "set BEPGRAPH_STORE_ISQL to its host:port (ServerPort in [Parameters])")
            raise BulkLoadError(f"Virtuoso's bulk loader failed on {server_file}: {detail}")
        if status != 0:
            raise BulkLoadError(f"isql-vt ended with status {status} while loading {server_file}: "
                                f"{out.strip()[-500:]}")
        rows = [line.split(None, 2) for line in out.splitlines() if line.startswith(marker)]
        if not rows:
            raise BulkLoadError(f"Virtuoso's bulk loader did not take {server_file} (ld_dir registered nothing): "
                                "is it the same folder on the server? (BEPGRAPH_STORE_BULK_SERVER_DIR)")
        state, error = rows[0][1], (rows[0][2].strip() if len(rows[0]) > 2 else "NULL")
        if state != "2" or error != "NULL":
            raise BulkLoadError(f"Virtuoso's bulk loader failed on {server_file}: state {state}, {error}")

    def _isql(self, script: str) -> tuple[int, str]:
        """Run *script* in isql-vt. isql-vt takes its password only as an argument (it is in its process list
        entry while it runs; the README says so); bepgraph reads it from the environment only."""
        command = shutil.which(self.settings.isql_command) or self.settings.isql_command
        host, _, port = self.settings.isql.rpartition(":")
        args = [command, "-H", host or "127.0.0.1", "-S", port, "-U", self.settings.user or "",
                "-P", self.settings.password or ""]
        try:
            done = subprocess.run(args, input=script, capture_output=True, text=True, timeout=self.timeout_s,
                                  check=False, start_new_session=True)
        except FileNotFoundError:
            raise BulkLoadError(f"the isql command '{self.settings.isql_command}' was not found: install Virtuoso's "
                                "client (Debian: virtuoso-opensource) or set BEPGRAPH_STORE_ISQL_COMMAND") from None
        except subprocess.TimeoutExpired:
            raise BulkLoadError(f"Virtuoso's bulk loader did not finish within {self.timeout_s:g} s "
                                "(BEPGRAPH_STORE_TIMEOUT)") from None
        return done.returncode, done.stdout + done.stderr


class OxigraphLoader:
    """``oxigraph serve``'s bulk loader: ``POST /store?no_transaction`` with the N-Quads as the body.

    ``oxigraph load`` writes a database folder directly, but not while a
    server holds it; the server's ``no_transaction`` POST runs the same bulk
    loader. Without ``lenient``: a line it cannot parse fails the request.
    """

    name = "Oxigraph's bulk loader (POST /store?no_transaction)"

    def __init__(self, store: RemoteStore, spool: Path) -> None:
        self.store = store
        self.spool = spool

    def folder(self) -> Path:
        return self.spool

    def load(self, path: Path) -> None:
        size = path.stat().st_size
        with path.open("rb") as body:
            chunks: Iterator[bytes] = iter(lambda: body.read(1 << 20), b"")
            try:
                self.store.client.graph_request("POST", {"no_transaction": ""}, content=chunks,
                                                headers={"Content-Type": N_QUADS, "Content-Length": str(size)})
            except (QueryError, StoreError) as exc:  # a 400 is the server refusing our file, not the user's query
                raise BulkLoadError(f"{self.name} refused the load: {exc}") from exc


def loader_for(store: Store, spool: Path) -> Loader | None:
    """The bulk loader the settings name for *store*, or None (a load through the Graph Store, or an embedded store)."""
    if not isinstance(store, RemoteStore):
        return None
    bulk = store.client.settings.bulk
    if bulk is None:
        return None
    if bulk.kind == "virtuoso":
        return VirtuosoLoader(bulk, store.client.settings.timeout_s)
    return OxigraphLoader(store, spool)


@contextmanager
def bulk_target(store: Store) -> Iterator[Store]:
    """What a load writes to: *store*, or a :class:`Spooled` in front of it when a bulk loader is configured."""
    if not isinstance(store, RemoteStore) or store.client.settings.bulk is None:
        yield store
        return
    with tempfile.TemporaryDirectory(prefix="bepgraph-bulk-") as tmp:
        loader = loader_for(store, Path(tmp))
        assert loader is not None
        spooled = Spooled(store, loader)
        try:
            yield spooled
        finally:
            spooled.discard()


class Spooled(Store):
    """A remote store whose appended chunks go to an N-Quads file, handed to its bulk loader before the next
    read or write. Everything else is the remote store's own."""

    forwards = False

    def __init__(self, store: RemoteStore, loader: Loader) -> None:
        self.store = store
        self.loader = loader
        self.location = store.location
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._pending: dict[str, set[int]] = {}  # graph -> hashes of the lines in the open file
        self._sent: dict[str, set[int]] = {}  # graph -> hashes of every line loaded into it so far
        self._lock = threading.RLock()  # the load's streaming thread appends while the reader queries

    # --- the spool ---------------------------------------------------------------------------------

    def append_graph(self, graph: str, ntriples: bytes) -> None:
        with self._lock:
            self._append(graph, ntriples)

    def _append(self, graph: str, ntriples: bytes) -> None:
        if self._file is None:
            self._path = self.loader.folder() / f"bepgraph-{uuid.uuid4().hex}.nq"
            self._file = self._path.open("wb")
        lines = quads(ntriples, graph)
        # the distinct quads sent (a blank node relabelled per chunk makes its lines its own)
        self._pending.setdefault(graph, set()).update(hash(line) for line in lines.splitlines())
        self._file.write(lines)

    def flush(self) -> None:
        """Hand the open file to the bulk loader, then check each graph it wrote holds what was sent."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._file is None or self._path is None:
            return
        self._file.close()
        path, pending = self._path, self._pending
        self._file, self._path, self._pending = None, None, {}
        try:
            self.loader.load(path)
        finally:
            path.unlink(missing_ok=True)
        for graph, lines in pending.items():
            sent = self._sent.setdefault(graph, set())
            sent |= lines
            held = self.store.count(graph)
            if held != len(sent):
                raise BulkLoadError(f"{self.loader.name} left {held} triples in <{graph}> where {len(sent)} were "
                                    "sent: the load is undone")

    def discard(self) -> None:
        """Forget what was spooled and not handed over (an aborted load)."""
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._file, self._path, self._pending = None, None, {}

    # --- the store, after the spool ------------------------------------------------------------------

    def query(self, text: str, bindings: Mapping[str, Term] | None = None, *,
              default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
              rows: Sequence[Mapping[str, Term]] | None = None) -> QueryResult:
        self.flush()
        return self.store.query(text, bindings, default_graphs=default_graphs, named_graphs=named_graphs, rows=rows)

    def update(self, text: str) -> None:
        self.flush()
        self.store.update(text)

    def replace_graph(self, graph: str, ntriples: IO[bytes] | bytes) -> None:
        self.flush()
        self.store.replace_graph(graph, ntriples)

    def drop_graph(self, graph: str) -> None:
        self.flush()
        self.store.drop_graph(graph)

    def named_graphs(self) -> list[str]:
        self.flush()
        return self.store.named_graphs()

    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        self.flush()
        return self.store.dump(fmt, graph)

    def staging_graph(self, final: str) -> str:
        """A new graph is loaded in place (its journal entry drops it if the load fails), as the embedded
        store does: a staging graph would be moved in the commit, one transaction holding every triple,
        which is most of a large load's time; a graph being replaced is staged apart as always."""
        if final not in self.named_graphs():
            return final
        return self.store.staging_graph(final)

    def scratch_graph(self) -> str:
        return self.store.scratch_graph()

    def begin_load(self, graphs: Sequence[str]) -> None:
        self.flush()
        self.store.begin_load(graphs)

    def commit(self, commit: Commit) -> None:
        self.flush()
        self.store.commit(commit)

    def abort(self, graphs: Sequence[str]) -> None:
        self.discard()  # never hand over what an aborted load spooled
        self.store.abort(graphs)

    def recover(self) -> list[str]:
        self.flush()
        return self.store.recover()

    def generation(self) -> Hashable:
        self.flush()
        return self.store.generation()

    def close(self) -> None:
        self.discard()


def _sql(text: str) -> str:
    """A SQL string literal (the folder comes from the user's own settings; quoted all the same)."""
    return "'" + text.replace("'", "''") + "'"
