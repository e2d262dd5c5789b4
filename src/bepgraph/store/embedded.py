"""Oxigraph in this process, in memory or on disk: the store the project runs on by default.

Chosen over rdflib's memory store by the load benchmark (``bench/``, README
"Measurements"): it loads faster in less memory and answers the analyst
queries where rdflib's store does not finish.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Hashable

import pyoxigraph as ox

from ..errors import QueryError, StoreError
from .binding import bind_values
from .interface import Store
from .journal import ADDS_TO, COMMITTED, JOURNAL, MOVES_TO, PENDING, STAGING, Commit
from .results import QueryResult, Term, solutions

__all__ = ["EmbeddedStore"]


class EmbeddedStore(Store):
    """Oxigraph in this process: in memory (``path=None``) or on disk."""

    forkable = True

    @property
    def copyable_by_fork(self) -> bool:
        """In memory only: an on-disk store's RocksDB threads do not survive a fork."""
        return self.location == "memory" and hasattr(os, "fork")

    def __init__(self, path: Path | None = None) -> None:
        try:
            self._store = ox.Store(str(path)) if path else ox.Store()
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        self.location = str(path) if path else "memory"
        self._write_lock = threading.Lock()
        self._generation = 0
        self._aliases: dict[int, int] = {}  # write count -> the count whose data it holds again
        self._aliases_lock = threading.Lock()
        if path is not None:
            self.recover()  # a load killed mid-way left graphs no commit made visible

    def staging_graph(self, final: str) -> str:
        # a new graph is written where it will stay: the journal drops it if the load dies,
        # and Oxigraph's bulk load does not have to be copied into place afterwards
        if not self._store.contains_named_graph(ox.NamedNode(final)):
            return final
        return super().staging_graph(final)

    def begin_load(self, graphs: Sequence[str]) -> None:
        if self.location != "memory":  # a store in memory does not outlive the process
            super().begin_load(graphs)

    def commit(self, commit: Commit) -> None:
        if self.location == "memory":  # one update, moves included: fast in memory, and nothing outlives a crash
            text = commit.update_text(pending=False)
            if text:
                self.update(text)
            return
        # On disk, a MOVE inside an update is one RocksDB transaction holding every quad moved
        # (minutes for a large bundle), so the commit point is an update that records the moves
        # in the journal with the graph/meta changes; the moves are then rolled forward, again
        # by recover() if the process dies before they are done.
        moves = {a: b for a, b in commit.moves.items() if a != b}
        journal = " ".join([f"<{JOURNAL}> <{COMMITTED}> true ."] + [
            f"<{ox.NamedNode(a).value}> <{MOVES_TO}> <{ox.NamedNode(b).value}> ." for a, b in moves.items()] + [
            f"<{ox.NamedNode(a).value}> <{ADDS_TO}> <{ox.NamedNode(b).value}> ." for a, b in commit.adds.items()])
        text = commit.update_text(pending=False, moves=False)
        text = (text + " ;\n" if text else "") + f"INSERT DATA {{ GRAPH <{JOURNAL}> {{ {journal} }} }}"
        self.update(text)
        self._roll_forward(moves, commit.adds)

    def _roll_forward(self, moves: Mapping[str, str], adds: Mapping[str, str] | None = None) -> None:
        """Put each committed staging graph in place of the graph it replaces; safe to run again.

        A move is struck from the journal once its graph is in place and
        before its staging graph is removed, so a rerun never copies a
        staging graph that was half removed.
        """
        steps = [(a, b, MOVES_TO) for a, b in moves.items()] + [(a, b, ADDS_TO) for a, b in (adds or {}).items()]
        for staging, final, how in steps:
            source, target = ox.NamedNode(staging), ox.NamedNode(final)
            with self._write_lock, self._writing(), tempfile.TemporaryFile() as spool:
                self._store.dump(spool, format=ox.RdfFormat.N_TRIPLES, from_graph=source)
                spool.seek(0)
                if how == MOVES_TO and self._store.contains_named_graph(target):
                    self._store.remove_graph(target)
                self._store.bulk_load(spool, format=ox.RdfFormat.N_TRIPLES, to_graph=target, lenient=True)
                self._store.update(f"DELETE DATA {{ GRAPH <{JOURNAL}> {{ <{source.value}> <{how}> <{target.value}> }} }}")
        rows = solutions(self.query(f"SELECT ?g WHERE {{ GRAPH <{JOURNAL}> {{ ?j <{PENDING}> ?g }} }}"))
        for graph in sorted(row["g"].value for row in rows):
            if graph.startswith(STAGING):  # moved, or emptied by nothing new: no longer needed
                self.drop_graph(graph)
        self.drop_graph(JOURNAL)

    def recover(self) -> list[str]:
        if JOURNAL not in self.named_graphs():
            return []
        committed = bool(self.query(f"ASK {{ GRAPH <{JOURNAL}> {{ <{JOURNAL}> <{COMMITTED}> true }} }}"))
        if committed:  # the load committed before it died: finish it
            steps = {how: {row["s"].value: row["f"].value
                           for row in solutions(self.query(f"SELECT ?s ?f WHERE {{ GRAPH <{JOURNAL}> {{ ?s <{how}> ?f }} }}"))}
                     for how in (MOVES_TO, ADDS_TO)}
            self._roll_forward(steps[MOVES_TO], steps[ADDS_TO])
            return []
        return super().recover()

    def generation(self) -> Hashable:
        """The write count, less the writes that left the data as it was (:meth:`Store.restored`)."""
        with self._aliases_lock:
            return ("writes", self._aliases.get(self._generation, self._generation))

    def write_count(self) -> int:
        """Changes with every write, so readers holding a copy (the endpoint's query processes) know it is stale.

        Handing out :attr:`oxigraph` counts as a write, since the caller may
        write through it.
        """
        return self._generation

    def restored(self, before: int, after: int) -> None:
        with self._aliases_lock:
            self._aliases[after] = self._aliases.get(before, before)

    def fork_lock(self) -> threading.Lock:
        """The write lock: every writer holds it, so a fork under it never copies a write half done."""
        return self._write_lock

    def after_fork(self) -> None:
        if self._write_lock.locked():
            self._write_lock.release()  # the parent's forking thread held it; it does not exist here

    def fork_reader(self) -> ox.Store:
        return self._store if self.location == "memory" else ox.Store.read_only(self.location)

    def engine(self) -> ox.Store:
        return self._store

    def protocol_update(self, text: str, base_iri: str | None) -> None:
        with self._write_lock:
            try:
                self._store.update(text, base_iri=base_iri)
            finally:
                self._generation += 1  # the query processes forked before now are retired

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for the benchmark and tests that write raw (counted as a write)."""
        self._generation += 1
        return self._store

    def query(
        self,
        text: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        rows: Sequence[Mapping[str, Term]] | None = None,
    ) -> QueryResult:
        bound = bind_values(text, bindings, rows)
        default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] | None = None
        if default_graphs is not None:
            default = [ox.NamedNode(g) for g in default_graphs] or [ox.DefaultGraph()]
        named: list[ox.NamedNode | ox.BlankNode] | None = None
        if named_graphs is not None:
            named = [ox.NamedNode(g) for g in named_graphs]
        try:
            return self._store.query(bound, default_graph=default, named_graphs=named,
                                     use_default_graph_as_union=default_graphs is None)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def update(self, text: str) -> None:
        with self._write_lock, self._writing():
            try:
                self._store.update(text)
            except SyntaxError as exc:
                raise QueryError(f"SPARQL Update syntax error: {exc}") from exc

    def replace_graph(self, graph: str, ntriples: IO[bytes] | bytes) -> None:
        node = ox.NamedNode(graph)
        with self._write_lock, self._writing():
            try:
                if self._store.contains_named_graph(node):
                    self._store.remove_graph(node)
                self._load(ntriples, node)
            except (OSError, SyntaxError) as exc:
                raise StoreError(f"could not write graph <{graph}>: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        finally:  # also after a failed write, which may have written part
            self._generation += 1

    def _load(self, ntriples: IO[bytes] | bytes, node: ox.NamedNode) -> None:
        # Only this package's serializers write here, so the parser may skip IRI
        # validation (lenient), which is a large share of a big load's time (README,
        # Measurements). In memory, plain load is the faster; on disk, bulk_load
        # writes the index files directly.
        loader = self._store.load if self.location == "memory" else self._store.bulk_load
        loader(input=ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=node, lenient=True)

    def append_graph(self, graph: str, ntriples: bytes) -> None:
        with self._write_lock, self._writing():
            try:
                self._load(ntriples, ox.NamedNode(graph))
            except (OSError, SyntaxError) as exc:
                raise StoreError(f"could not write graph <{graph}>: {exc}") from exc

    def drop_graph(self, graph: str) -> None:
        node = ox.NamedNode(graph)
        with self._write_lock, self._writing():
            if self._store.contains_named_graph(node):
                self._store.remove_graph(node)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs())

    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        if graph is not None:
            return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph)) or b""  # None only when given a file
        if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD):
            return self._store.dump(format=fmt) or b""
        union = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(union, ox.QueryTriples)
        return ox.serialize(union, format=fmt) or b""

    def close(self) -> None:
        """Flush and let go of an on-disk store: its folder stays locked while pyoxigraph holds it open."""
        if self.location != "memory" and "_store" in self.__dict__:
            self._store.flush()
            del self._store  # the last reference: releases the lock, so the folder can be reopened
