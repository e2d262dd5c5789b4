"""Puts the sources into the store: the filing, the ontology and facts bundles, each in its named graph.

A load is one transaction: sources are staged where no reader counts them
and made visible by a single commit, so a rejected bundle, a conflict or a
killed process leaves the store exactly as it was. Each fact is stored once
(``holdings.py``), whichever sources state it.
"""

from __future__ import annotations

import hashlib
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

import pyoxigraph as ox

from .bulk_load import bulk_target
from .errors import BundleError, FilingError, ParameterError
from .holdings import REPEATS, REPEATS_ROW, Beside, Holdings, RowJudge, canonical, judge_lines, row_counts, transfers
from .raw_writes import settle as raw_settle
from .namespaces import BEP, graph_iri
from .resources import example_bundle, filing_path, ontology_files
from .sources.bundle import BundleSource, read_bundle
from .sources.filing import Filing, filing_triples, read_filing, slug
from .sources.ntriples import literal
from .store import META, Commit, Store, provenance_quads, solutions

__all__ = ["LoadReport", "bundle_graph", "describe", "load_all", "load_bundle", "load_for_use"]

FILING_GRAPH = graph_iri("filing")
ONTOLOGY_GRAPH = graph_iri("ontology")


@dataclass
class LoadReport:
    """What a load put where: rows per table of each bundle graph."""

    filing: Filing
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # graph -> table -> rows


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_graph(folder: Path) -> str:
    """The named graph of a bundle: one per bundle folder name."""
    return graph_iri("bundle/" + (slug(folder.resolve().name) or "bundle"))


def _filing_lines(filing: Filing) -> list[str]:
    return canonical("".join(filing_triples(filing)))


def _ontology_digest() -> str:
    """One sha256 over the ontology files: unchanged files are not parsed or loaded again."""
    digest = hashlib.sha256()
    for path in ontology_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _ontology_lines() -> list[str]:
    """The ontology files' triples, as the store keeps them."""
    triples: list[bytes] = []
    for path in ontology_files():
        try:
            parsed = ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
            triples.append(ox.serialize(parsed, format=ox.RdfFormat.N_TRIPLES) or b"")
        except SyntaxError as exc:
            raise FilingError(f"{path}: the ontology does not parse: {exc}") from exc
    return canonical(b"".join(triples))


class _StreamingLoader:
    """Stores chunks of a bundle on a thread of its own while the reader makes the next ones.

    Oxigraph parses and indexes with the GIL released, so reading (Python)
    and storing (Rust) run on both cores at once: a million-trade bundle
    loads in about the time of the slower of the two instead of their sum.
    """

    def __init__(self, store: Store, graph: str) -> None:
        self._store, self._graph = store, graph
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"load {graph}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._store.append_graph(self._graph, chunk)
                except BaseException as exc:  # handed to the reading thread in put/finish
                    self._error = exc

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _read(folder: Path, filing: Filing, progress: bool, sink: Callable[[bytes], None],
          judge: RowJudge) -> BundleSource:
    """Read and check the bundle; rows other sources may state go to *judge* as they are read."""
    with tqdm(desc=f"reading {folder.name}", unit=" rows", delay=1.0, disable=not progress,
              leave=True, file=sys.stderr) as bar:
        return read_bundle(folder, filing.ids, on_rows=bar.update, sink=sink,
                           hold=judge.holds, on_held=judge.add)


def _bytes(lines: Sequence[str]) -> bytes:
    return "".join(f"{line} .\n" for line in lines).encode()


class _Load:
    """One load: the sources it writes, staged where no reader counts them, then one commit.

    Each source is compared with the sources it will sit beside (the
    committed ones it does not replace, and those this load staged before
    it): what they already hold is recorded as repeated, not stored again.
    """

    def __init__(self, store: Store, targets: Sequence[str]) -> None:
        self.store = store
        self.holdings = Holdings.read(store)
        self.replaced = [g for g in targets if g in self.holdings.sources]
        self.kept = [g for g in self.holdings.sources if g not in self.replaced]
        self.staged: dict[str, str] = {}  # final -> staging graph
        self.repeats: dict[str, set[str]] = {}  # final -> lines it repeats
        self.records: list[ox.Quad] = []
        self.written: str | None = None  # a staging graph of the repeat records, added to graph/meta at the commit
        self.scratch: list[str] = []  # staging graphs of facts moving to a kept source at the commit

    def _write_records(self, text: str) -> None:
        """Stage graph/meta records as N-Triples (a million records load in Rust, not as update text)."""
        if self.written is None:
            self.written = self.store.scratch_graph()
            self.store.begin_load([self.written])
        self.store.append_graph(self.written, text.encode())

    def _record_repeats(self, final: str, lines: set[str]) -> None:
        self.repeats[final] = lines
        if lines:
            head = f"<{final}> <{REPEATS}> "
            self._write_records("".join(head + literal(line) + " .\n" for line in sorted(lines)))

    def _record_rows(self, final: str, subjects: list[str]) -> None:
        head = f"<{final}> <{REPEATS_ROW}> "
        self._write_records("".join(head + literal(subject) + " .\n" for subject in subjects))

    def _beside(self) -> Beside:
        physical = {g: g for g in self.kept} | {s: f for f, s in self.staged.items()}
        repeats = {g: self.holdings.repeats.get(g, set()) for g in [*self.kept, *self.replaced]}
        repeats |= {self.staged[f]: lines for f, lines in self.repeats.items()}
        records = [META] + ([self.written] if self.written else [])
        return Beside(sorted(physical), physical | {g: g for g in self.replaced}, list(self.replaced),
                      repeats, records)

    def _stage(self, final: str) -> str:
        staging = self.store.staging_graph(final)
        self.store.begin_load([staging])
        self.staged[final] = staging
        return staging

    def add_lines(self, final: str, lines: list[str], source: str, sha256: str) -> None:
        """A small source given whole: the filing or the ontology."""
        outcome = judge_lines(self.store, self._beside().others, lines)
        staging = self._stage(final)
        self.store.append_graph(staging, _bytes(outcome.lines))
        self._record_repeats(final, outcome.repeats)
        self.records += provenance_quads(final, source, sha256)

    def add_bundle(self, final: str, folder: Path, filing: Filing, progress: bool) -> BundleSource:
        beside = self._beside()
        staging = self._stage(final)
        loader = _StreamingLoader(self.store, staging)
        judge = RowJudge(self.store, self.holdings, beside, emit=lambda lines: loader.put(_bytes(lines)),
                         record=lambda subjects: self._record_rows(final, subjects))
        source: BundleSource | None = None
        try:
            try:
                source = _read(folder, filing, progress, loader.put, judge)
                outcome = judge.finish()
            finally:
                loader.finish()
        except BaseException:
            if source is not None:  # a store that failed while judging (a bulk loader): the files are let go
                source.close()
            raise
        if outcome.problems:
            source.close()
            raise BundleError(outcome.problems)
        self._record_repeats(final, outcome.repeats)
        extra = {"file": ";".join(f"{name}={sha}" for name, sha in sorted(source.files.items()))}
        self.records += provenance_quads(final, str(source.folder.resolve()), source.digest, extra)
        return source

    def commit(self) -> None:
        staged = {self.staged[f]: lines for f, lines in self.repeats.items()}
        moved = transfers(self.store, self.replaced, list(self.staged.values()), self.kept,
                          self.holdings.repeats, staged)
        commit = Commit(moves={s: f for f, s in self.staged.items()}, forget=list(self.replaced))
        commit.inserts += self.records + moved.inserts
        commit.deletes += moved.deletes
        commit.adds.update(moved.moves)
        self.scratch += list(moved.moves)
        if self.written is not None:
            commit.adds[self.written] = META
        self.store.commit(commit)

    def abort(self) -> None:
        self.store.abort([*self.staged.values(), *self.scratch, *([self.written] if self.written else [])])


def load_bundle(store: Store, folder: Path, filing: Filing, progress: bool = False) -> tuple[str, dict[str, int]]:
    """Check the bundle in *folder* against the filing and put it in its own graph; returns (graph, rows)."""
    report = load_all(store, [folder], filing.source, progress=progress, with_filing=False, with_ontology=False)
    graph = bundle_graph(folder)
    return graph, report.rows[graph]


def load_all(
    store: Store,
    bundles: Sequence[Path] | None = None,
    plan: Path | None = None,
    progress: bool = False,
    with_ontology: bool = True,
    with_filing: bool = True,
) -> LoadReport:
    """The filing, the ontology and the bundles (the example bundle when none is named), as one load.

    All or nothing: every source is written where no reader counts it
    (a new graph in place, under the journal; a replacement beside the graph
    it replaces) and made visible by one commit, a single update that also
    records where each came from. A rejected bundle, a conflict between
    bundles, an error or a kill leaves the store as it was. A filing or an
    ontology identical to the one loaded (same sha256) is left as it is.
    """
    filing = read_filing(plan or filing_path())
    folders = list(bundles) if bundles is not None else [example_bundle()]
    graphs = [bundle_graph(folder) for folder in folders]
    if len(set(graphs)) < len(graphs):
        raise ParameterError("two bundles share a folder name, and so a graph: rename one folder")
    digests = _digests(store)
    small: list[tuple[str, list[str], str, str]] = []
    if with_filing:
        sha = _sha256(filing.source.read_bytes())
        if digests.get(FILING_GRAPH) != sha:
            small.append((FILING_GRAPH, _filing_lines(filing), str(filing.source.resolve()), sha))
    if with_ontology:
        sha = _ontology_digest()
        if digests.get(ONTOLOGY_GRAPH) != sha:
            where = str(ontology_files()[0].parent) if ontology_files() else "ontology"
            small.append((ONTOLOGY_GRAPH, _ontology_lines(), where, sha))
    report = LoadReport(filing=filing)
    sources: list[BundleSource] = []
    # the load's own reads see what it has written; a server's other readers are refused until the commit
    with store.loading(), bulk_target(store) as target:  # the server's own bulk loader, when one is configured
        load = _Load(target, [g for g, *_ in small] + graphs)
        try:
            for graph, lines, where, sha in small:
                load.add_lines(graph, lines, where, sha)
            for folder, graph in zip(folders, graphs):
                source = load.add_bundle(graph, folder, filing, progress)
                sources.append(source)
                report.rows[graph] = source.rows
            load.commit()
        except BaseException:
            load.abort()
            raise
        finally:
            for source in sources:
                source.close()
    raw_settle(store)  # a bundle may state what a graph written raw holds
    return report


def _digests(store: Store) -> dict[str, str]:
    rows = solutions(store.query(f"SELECT ?g ?sha WHERE {{ GRAPH <{META}> {{ ?g <{BEP}sha256> ?sha }} }}"))
    return {row["g"].value: row["sha"].value for row in rows}


def load_for_use(store: Store, bundles: Sequence[Path] | None, plan: Path | None = None,
                 progress: bool = False) -> LoadReport | None:
    """What a command or the service loads before it answers: only what its user named.

    Bundles named are loaded (with the filing); with none named, a store in
    memory gets the example bundle (what ``make serve`` shows), and a store
    on disk or on a server is served as it is: it holds what its user loaded.
    """
    if bundles:
        return load_all(store, bundles, plan, progress=progress)
    if store.location == "memory":
        return load_all(store, None, plan, progress=progress)
    return None


def describe(store: Store) -> list[str]:
    """One line per source graph: what is being served, and where it came from."""
    holdings = Holdings.read(store)
    rows = row_counts(store)
    lines = []
    for graph in holdings.sources:
        said = []
        if facts := len(holdings.repeats.get(graph, ())):
            said.append(f"{facts:,} more facts")
        if rows.get(graph):
            said.append(f"{rows[graph]:,} rows")
        also = f", {' and '.join(said)} stated and held by another source" if said else ""
        lines.append(f"{graph}: {store.count(graph):,} triples{also} (from {holdings.labels[graph]})")
    return lines or [f"{store.location}: holds no loaded source (load one with `bepgraph load`)"]
