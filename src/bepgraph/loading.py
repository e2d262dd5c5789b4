"""Puts the sources into the store: the filing, the ontology and facts bundles, each in its named graph.

Every source is read and checked completely before the store is touched,
so a rejected bundle leaves the store exactly as it was.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .errors import FilingError, ParameterError
from .namespaces import graph_iri
from .resources import example_bundle, filing_path, ontology_files
from .sources.bundle import BundleSource, read_bundle
from .sources.filing import Filing, filing_triples, read_filing, slug
from .store import Store

__all__ = ["LoadReport", "bundle_graph", "load_all", "load_bundle", "load_filing", "load_ontology"]

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


def load_filing(store: Store, filing: Filing) -> None:
    data = "".join(filing_triples(filing)).encode()
    store.replace_graph(FILING_GRAPH, data)
    store.record_provenance(FILING_GRAPH, str(filing.source.resolve()), _sha256(filing.source.read_bytes()))


def load_ontology(store: Store) -> int:
    """The ontology files, so that labels and definitions can be queried beside the data."""
    import pyoxigraph as ox

    triples: list[bytes] = []
    digest = hashlib.sha256()
    for path in ontology_files():
        raw = path.read_bytes()
        digest.update(raw)
        try:
            parsed = ox.parse(raw, format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
            triples.append(ox.serialize(parsed, format=ox.RdfFormat.N_TRIPLES))
        except SyntaxError as exc:
            raise FilingError(f"{path}: the ontology does not parse: {exc}") from exc
    data = b"".join(triples)
    store.replace_graph(ONTOLOGY_GRAPH, data)
    store.record_provenance(ONTOLOGY_GRAPH, str(ontology_files()[0].parent) if ontology_files() else "ontology",
                            digest.hexdigest())
    return data.count(b"\n")


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


def _record(store: Store, graph: str, source: BundleSource) -> None:
    extra = {"file": ";".join(f"{name}={sha}" for name, sha in sorted(source.files.items()))}
    store.record_provenance(graph, str(source.folder.resolve()), source.digest, extra)


def _read(folder: Path, filing: Filing, progress: bool, sink: Callable[[bytes], None] | None = None) -> BundleSource:
    with tqdm(desc=f"loading {folder.name}", unit=" rows", delay=1.0, disable=not progress,
              leave=False) as bar:
        return read_bundle(folder, filing.ids, on_rows=bar.update, sink=sink)


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
    """The filing, the ontology and the bundles (the example bundle when none is named).

    All or nothing: a bundle whose graph is new is streamed into the store
    while it is read, and dropped again if it or any other bundle is
    rejected; a bundle that replaces a graph already there is checked in
    full first and swapped in only when every bundle has passed. Either way
    a rejected load leaves the store as it was.
    """
    filing = read_filing(plan or filing_path())
    folders = list(bundles) if bundles is not None else [example_bundle()]
    graphs = [bundle_graph(folder) for folder in folders]
    if len(set(graphs)) < len(graphs):
        raise ParameterError("two bundles share a folder name, and so a graph: rename one folder")
    existing = set(store.named_graphs())
    streamed: list[str] = []
    checked: list[tuple[str, BundleSource]] = []
    report = LoadReport(filing=filing)
    try:
        for folder, graph in zip(folders, graphs):
            if graph in existing:
                checked.append((graph, _read(folder, filing, progress)))
                continue
            loader = _StreamingLoader(store, graph)
            streamed.append(graph)
            try:
                source = _read(folder, filing, progress, sink=loader.put)
            finally:
                loader.finish()
            checked.append((graph, source))
        if with_filing:
            load_filing(store, filing)
        if with_ontology:
            load_ontology(store)
        for graph, source in checked:
            if graph not in streamed:
                store.replace_graph(graph, source.ntriples)
            _record(store, graph, source)
            report.rows[graph] = source.rows
    except BaseException:
        for graph in streamed:
            store.drop_graph(graph)
        raise
    finally:
        for _, source in checked:
            source.close()
    return report
