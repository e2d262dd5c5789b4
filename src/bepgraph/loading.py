"""Puts the sources into the store: the filing, the ontology and facts bundles, each in its named graph.

Every source is read and checked completely before the store is touched,
so a rejected bundle leaves the store exactly as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .errors import FilingError
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
    """What a load put where: rows per table and triples per graph."""

    filing: Filing
    graphs: dict[str, int] = field(default_factory=dict)
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


def _store_bundle(store: Store, source: BundleSource, progress: bool) -> str:
    graph = bundle_graph(source.folder)
    with tqdm(desc="storing triples", total=source.triples, unit=" triples", delay=1.0,
              disable=not progress, leave=False) as bar:
        store.replace_graph(graph, source.ntriples)
        bar.update(source.triples)
    extra = {"file": ";".join(f"{name}={sha}" for name, sha in sorted(source.files.items()))}
    store.record_provenance(graph, str(source.folder.resolve()), source.digest, extra)
    return graph


def _read(folder: Path, filing: Filing, progress: bool) -> BundleSource:
    with tqdm(desc=f"reading {folder.name}", unit=" rows", delay=1.0, disable=not progress,
              leave=False) as bar:
        return read_bundle(folder, filing.ids, on_rows=bar.update)


def load_bundle(store: Store, folder: Path, filing: Filing, progress: bool = False) -> tuple[str, dict[str, int]]:
    """Check the bundle in *folder* against the filing, then put it in its own graph; returns (graph, rows)."""
    source = _read(folder, filing, progress)
    try:
        return _store_bundle(store, source, progress), source.rows
    finally:
        source.close()


def load_all(
    store: Store,
    bundles: Sequence[Path] | None = None,
    plan: Path | None = None,
    progress: bool = False,
    with_ontology: bool = True,
) -> LoadReport:
    """The filing, the ontology and the bundles (the example bundle when none is named).

    Every bundle is read and checked before anything is written, so one bad
    bundle among several leaves the store exactly as it was.
    """
    filing = read_filing(plan or filing_path())
    folders = list(bundles) if bundles is not None else [example_bundle()]
    sources: list[BundleSource] = []
    try:
        for folder in folders:
            sources.append(_read(folder, filing, progress))
        report = LoadReport(filing=filing)
        load_filing(store, filing)
        if with_ontology:
            load_ontology(store)
        for source in sources:
            report.rows[_store_bundle(store, source, progress)] = source.rows
    finally:
        for source in sources:
            source.close()
    for graph in store.named_graphs():
        report.graphs[graph] = store.count(graph)
    return report
