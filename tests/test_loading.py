"""Bundle → graph: every CSV row becomes one entity of its table's class, typed, with its provenance."""

from __future__ import annotations

import copy
import csv
import hashlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.holdings import stated
from bepgraph.loading import FILING_GRAPH, bundle_graph, load_all
from bepgraph.namespaces import BEP, graph_iri
from bepgraph.resources import example_bundle
from bepgraph.sources.tables import TABLES
from bepgraph.store import EmbeddedStore

from .bundles import MINI, SERIES, write_bundle

XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
Tables = dict[str, list[dict[str, str]]]


def blotter_bundle(trades: int) -> Tables:
    """MINI with *trades* transactions and a benefit for every tenth, to count beyond one row."""
    tables = copy.deepcopy(MINI)
    tables["transactions"] = [
        {"id": f"T-{n}", "date": f"2003-{1 + n % 12:02d}-{1 + n % 28:02d}", "series": SERIES,
         "placed_by": "ppm-america", "executing_broker": "bd-1", "directed": "true" if n % 3 else "false",
         "commission": f"{n}.{n % 100:02d}", "best_execution": "true"}
        for n in range(1, trades + 1)
    ]
    tables["benefits"] = [
        {"id": f"B-{n}", "date": "2003-06-30", "kind": "payment" if n % 20 else "credit", "transaction": f"T-{n}",
         "broker": "bd-1", "recipient": "distributor", "amount": "10.5", "generating_series": SERIES,
         "benefiting_series": SERIES}
        for n in range(10, trades + 1, 10)
    ]
    tables["expenditures"][0]["funded_by"] = "B-10;B-20"
    return tables


BUNDLES = {"mini": lambda: copy.deepcopy(MINI), "blotter-500": lambda: blotter_bundle(500)}


@pytest.fixture(params=[*sorted(BUNDLES), "example"])
def bundle(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "example":
        return example_bundle()  # the committed JNL 2002-2005 bundle, read as it is
    return write_bundle(tmp_path / request.param, BUNDLES[request.param]())


def csv_rows(folder: Path, table: str) -> int:
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.DictReader(f))


def test_each_table_has_as_many_entities_as_csv_rows(bundle: Path) -> None:
    store = EmbeddedStore()
    report = load_all(store, [bundle], with_ontology=False)
    graph = bundle_graph(bundle)
    said = stated(store, graph)  # held in its graph, or repeated from the filing
    for name, table in TABLES.items():
        typed = {line.split(" ", 1)[0] for line in said if line.endswith(f" <{RDF_TYPE}> <{BEP}{table.cls}>")}
        assert len(typed) == csv_rows(bundle, name), name
        assert report.rows[graph][name] == csv_rows(bundle, name)


def test_literals_carry_xsd_datatypes(tmp_path: Path) -> None:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "b", MINI)], with_ontology=False)
    rows = list(store.query(
        f"SELECT ?date ?commission ?directed WHERE {{ ?t <{BEP}date> ?date ; <{BEP}commission> ?commission ;"
        f" <{BEP}directed> ?directed ; <http://purl.org/dc/terms/identifier> \"T-1\" }}"))
    assert len(rows) == 1
    row = rows[0]
    assert (row["date"].value, row["date"].datatype.value) == ("2002-07-01", XSD + "date")
    assert (Decimal(row["commission"].value), row["commission"].datatype.value) == (Decimal("1250.00"), XSD + "decimal")
    assert (row["directed"].value, row["directed"].datatype.value) == ("true", XSD + "boolean")
    # the value is an exact decimal: summing the two commissions gives 1349.10, not a float
    total = next(iter(store.query(f"SELECT (SUM(?c) AS ?sum) WHERE {{ ?t <{BEP}commission> ?c }}")))
    assert total["sum"].value == "1349.1"
    assert total["sum"].datatype.value == XSD + "decimal"


def test_filing_graph_holds_the_plan_date_and_38_series(tmp_path: Path) -> None:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "b", MINI)], with_ontology=False)
    ask = store.query(f'ASK {{ GRAPH ?g {{ ?plan <{BEP}planDate> "2002-05-16"^^<{XSD}date> }} }}',
                      {"g": ox.NamedNode(FILING_GRAPH)})
    assert bool(ask)
    n = next(iter(store.query(f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?p <{BEP}scheduleASeries> ?s }}")))["n"]
    assert n.value == "38"


def _meta(store: EmbeddedStore, graph: str) -> dict[str, ox.Literal | ox.NamedNode]:
    rows = store.query("SELECT ?p ?o WHERE { GRAPH ?meta { ?g ?p ?o } }",
                       {"meta": ox.NamedNode(graph_iri("meta")), "g": ox.NamedNode(graph)})
    return {r["p"].value: r["o"] for r in rows}


def test_provenance_records_source_hashes_and_load_time(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", MINI)
    store = EmbeddedStore()
    started = datetime.now(timezone.utc).replace(microsecond=0)
    report = load_all(store, [folder], with_ontology=False)
    graph = bundle_graph(folder)

    meta = _meta(store, graph)
    assert meta["http://purl.org/dc/terms/source"].value == str(folder.resolve())
    file_hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.csv")}
    recorded = dict(item.split("=") for item in meta[BEP + "file"].value.split(";"))
    assert recorded == file_hashes
    combined = hashlib.sha256("".join(f"{n}:{file_hashes[n]}\n" for n in sorted(file_hashes)).encode())
    assert meta[BEP + "sha256"].value == combined.hexdigest()
    loaded_at = meta[PROV + "generatedAtTime"]
    assert loaded_at.datatype.value == XSD + "dateTime"
    assert started <= datetime.fromisoformat(loaded_at.value) <= started + timedelta(minutes=5)

    filing_meta = _meta(store, FILING_GRAPH)
    assert filing_meta[BEP + "sha256"].value == hashlib.sha256(report.filing.source.read_bytes()).hexdigest()
    assert filing_meta[PROV + "wasDerivedFrom"] == ox.NamedNode(report.filing.source.resolve().as_uri())


def test_reloading_a_bundle_replaces_its_graph_and_its_provenance(tmp_path: Path, mini_tables: Tables) -> None:
    folder = write_bundle(tmp_path / "b", mini_tables)
    store = EmbeddedStore()
    load_all(store, [folder], with_ontology=False)
    first = store.count(bundle_graph(folder))
    del mini_tables["transactions"][1]
    write_bundle(folder, mini_tables)
    load_all(store, [folder], with_ontology=False)
    assert store.count(bundle_graph(folder)) < first
    assert len([p for p in _meta(store, bundle_graph(folder)) if p == BEP + "sha256"]) == 1
    sha = store.query("SELECT ?h WHERE { ?g <" + BEP + "sha256> ?h }", {"g": ox.NamedNode(bundle_graph(folder))})
    assert len(list(sha)) == 1
