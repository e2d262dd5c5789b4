"""The bundle reader: every kind of bad bundle gives its located problem and leaves the store as it was."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.errors import BundleError, Problem, StoreError
from bepgraph.loading import load_all
from bepgraph.sources.bundle import read_bundle
from bepgraph.sources.filing import read_filing
from bepgraph.resources import filing_path
from bepgraph.namespaces import BEP, entity_iri
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle

Tables = dict[str, list[dict[str, str]]]


def snapshot(store: EmbeddedStore) -> list[bytes]:
    """Every quad of the store, sorted: equal snapshots mean nothing was written."""
    return sorted(store.dump(ox.RdfFormat.N_QUADS).splitlines())


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """A store already holding the filing, the ontology and a valid bundle."""
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "loaded", copy.deepcopy(MINI))])
    yield store
    store.close()


def rejected(store: EmbeddedStore, folder: Path) -> list[Problem]:
    """Load *folder* into *store*; it must be rejected with the store untouched. Returns the problems."""
    before = snapshot(store)
    with pytest.raises(BundleError) as caught:
        load_all(store, [folder])
    assert snapshot(store) == before
    assert "nothing was loaded" in str(caught.value)
    return caught.value.problems


def write_csv(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8", newline="")


def test_missing_required_column_names_the_column(loaded: EmbeddedStore, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", MINI)
    write_csv(folder, "transactions.csv",
              "id,date,series,placed_by,executing_broker,directed,best_execution\n"
              "T-1,2002-07-01,ppm-america-jnl-value-fund,ppm-america,bd-1,true,true\n")
    assert rejected(loaded, folder) == [
        Problem("transactions.csv", 1, "commission", "required column is missing from the header")]


@pytest.mark.parametrize(("value", "reason"), [
    ("2003-02-30", "'2003-02-30' is not a calendar date"),
    ("20030516", "'20030516' is not an ISO 8601 date (YYYY-MM-DD)"),
    ("16/05/2003", "'16/05/2003' is not an ISO 8601 date (YYYY-MM-DD)"),
])
def test_bad_date_is_located(loaded: EmbeddedStore, tmp_path: Path, mini_tables: Tables,
                             value: str, reason: str) -> None:
    mini_tables["trustees"][1]["to"] = value
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [Problem("trustees.csv", 3, "to", reason)]


@pytest.mark.parametrize("value", ["1,250.00", "1e3", "$12", "12.5.1", "NaN"])
def test_bad_amount_is_located(loaded: EmbeddedStore, tmp_path: Path, mini_tables: Tables, value: str) -> None:
    mini_tables["transactions"][1]["commission"] = value
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert [(p.file, p.line, p.column) for p in problems] == [("transactions.csv", 3, "commission")]
    assert problems[0].reason.startswith(f"'{value}' is not a decimal number")


def test_unknown_reference_is_located(loaded: EmbeddedStore, tmp_path: Path, mini_tables: Tables) -> None:
    mini_tables["transactions"][0]["executing_broker"] = "bd-9"
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [Problem("transactions.csv", 2, "executing_broker", "'bd-9' is not a known organization id")]


def test_unknown_item_of_a_list_reference_is_located(loaded: EmbeddedStore, tmp_path: Path,
                                                     mini_tables: Tables) -> None:
    mini_tables["agreements"][0]["parties"] = "trust;nobody"
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [Problem("agreements.csv", 2, "parties", "'nobody' is not a known organization id")]


def test_duplicate_id_names_the_first_line(loaded: EmbeddedStore, tmp_path: Path, mini_tables: Tables) -> None:
    mini_tables["transactions"][1]["id"] = "T-1"
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [Problem("transactions.csv", 3, "id", "duplicate id 'T-1' (first on line 2)")]


def test_duplicate_composite_key_is_located(loaded: EmbeddedStore, tmp_path: Path, mini_tables: Tables) -> None:
    mini_tables["ballots"][1]["trustee"] = "t-1"
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [Problem("ballots.csv", 3, "matter/trustee", "duplicate id 'X-1/t-1' (first on line 2)")]


def test_unknown_enumerated_value_lists_the_choices(loaded: EmbeddedStore, tmp_path: Path,
                                                    mini_tables: Tables) -> None:
    mini_tables["meetings"][0]["body"] = "committee"
    mini_tables["ballots"][0]["vote"] = "yes"
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [
        Problem("ballots.csv", 2, "vote", "'yes' is not one of: absent, abstain, against, for"),
        Problem("meetings.csv", 2, "body", "'committee' is not one of: board, shareholders"),
    ]


def test_unknown_column_is_located(loaded: EmbeddedStore, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", MINI)
    write_csv(folder, "trustees.csv", "id,name,from,to,shoe_size\nt-1,A. Trustee,2000-01-01,,42\n"
                                      "t-2,B. Trustee,2000-01-01,,41\n")
    problems = rejected(loaded, folder)
    assert [(p.file, p.line, p.column) for p in problems] == [("trustees.csv", 1, "shoe_size")]
    assert problems[0].reason.startswith("unknown column (the trustees table has: id, name, from, to)")


def test_wrong_field_count_is_located(loaded: EmbeddedStore, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", MINI)
    write_csv(folder, "trustees.csv", "id,name,from,to\nt-1,A. Trustee,2000-01-01,,extra\n"
                                      "t-2,B. Trustee,2000-01-01,2004-01-01\n")
    assert rejected(loaded, folder) == [
        Problem("trustees.csv", 2, "", "expected 4 fields as in the header, found 5")]


def test_empty_required_cell_is_located(loaded: EmbeddedStore, tmp_path: Path, mini_tables: Tables) -> None:
    mini_tables["transactions"][0]["series"] = ""
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert problems == [Problem("transactions.csv", 2, "series", "required value is empty")]


def test_unknown_csv_file_is_named(loaded: EmbeddedStore, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", MINI)
    write_csv(folder, "trades.csv", "id\nT-9\n")
    problems = rejected(loaded, folder)
    assert [(p.file, p.line, p.column) for p in problems] == [("trades.csv", 0, "")]
    assert problems[0].reason.startswith("unknown table (known: organizations, series,")


def test_every_problem_in_every_file_is_reported_at_once(loaded: EmbeddedStore, tmp_path: Path,
                                                         mini_tables: Tables) -> None:
    mini_tables["trustees"][0]["from"] = "2000-13-01"
    mini_tables["transactions"][0]["commission"] = "1,250.00"
    mini_tables["transactions"][1]["directed"] = "yes"
    mini_tables["expenditures"][0]["category"] = "lunch"
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert [(p.file, p.line, p.column) for p in problems] == [
        ("expenditures.csv", 2, "category"),
        ("transactions.csv", 2, "commission"),
        ("transactions.csv", 3, "directed"),
        ("trustees.csv", 2, "from"),
    ]


def test_a_bad_bundle_among_good_ones_loads_none_of_them(loaded: EmbeddedStore, tmp_path: Path,
                                                         mini_tables: Tables) -> None:
    good = write_bundle(tmp_path / "good", MINI)
    mini_tables["meetings"][0]["date"] = "2002-02-30"
    bad = write_bundle(tmp_path / "bad", mini_tables)
    before = snapshot(loaded)
    with pytest.raises(BundleError):
        load_all(loaded, [good, bad])
    assert snapshot(loaded) == before


def test_quoted_cells_keep_commas_quotes_and_newlines(tmp_path: Path, mini_tables: Tables) -> None:
    name = 'Example Securities, "East"\nLLC'
    mini_tables["organizations"][0]["name"] = name
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "b", mini_tables)], with_ontology=False)
    rows = list(store.query("SELECT ?name WHERE { ?org <http://www.w3.org/2000/01/rdf-schema#label> ?name }",
                            {"org": ox.NamedNode(entity_iri("organizations", "bd-1"))}))
    assert [r["name"].value for r in rows] == [name]
    description = list(store.query(f"SELECT ?d WHERE {{ ?x a <{BEP}Expenditure> ; "
                                   "<http://purl.org/dc/terms/description> ?d }"))
    assert [r["d"].value for r in description] == ['Print run "Q3", 2002']


def test_line_numbers_count_the_lines_of_a_multi_line_cell(loaded: EmbeddedStore, tmp_path: Path,
                                                          mini_tables: Tables) -> None:
    mini_tables["organizations"][0]["name"] = "Example\nSecurities\nLLC"  # lines 2-4
    mini_tables["organizations"][1]["roles"] = "distributor;bank"  # line 5
    problems = rejected(loaded, write_bundle(tmp_path / "b", mini_tables))
    assert [(p.file, p.line, p.column) for p in problems] == [("organizations.csv", 5, "roles")]


def test_list_column_gives_one_triple_per_item(tmp_path: Path, mini_tables: Tables) -> None:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "b", mini_tables)], with_ontology=False)
    parties = store.query(f"SELECT ?p WHERE {{ ?a <{BEP}party> ?p }}",
                          {"a": ox.NamedNode(entity_iri("agreements", "DB-1"))})
    assert sorted(r["p"].value for r in parties) == [
        entity_iri("organizations", "bd-1"), entity_iri("organizations", "trust")]
    roles = store.query("SELECT ?c WHERE { ?o a ?c }", {"o": ox.NamedNode(entity_iri("organizations", "bd-1"))})
    assert {r["c"].value for r in roles} == {BEP + "Organization", BEP + "BrokerDealer", BEP + "ClearingBroker"}



@pytest.fixture
def spools(monkeypatch: pytest.MonkeyPatch) -> list[tempfile.SpooledTemporaryFile[bytes]]:
    """Every spool the reader makes, recorded as it makes it (the real class, only watched)."""
    made: list[tempfile.SpooledTemporaryFile[bytes]] = []
    spooled = tempfile.SpooledTemporaryFile

    def recorded(*args: object, **kwargs: object) -> tempfile.SpooledTemporaryFile[bytes]:
        made.append(spooled(*args, **kwargs))  # type: ignore[call-overload]
        return made[-1]

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", recorded)
    return made


def test_the_reader_closes_its_spool_when_the_sink_fails_mid_table(
        tmp_path: Path, spools: list[tempfile.SpooledTemporaryFile[bytes]]) -> None:
    def failing_sink(chunk: bytes) -> None:
        raise StoreError("the store could not be written")

    folder = write_bundle(tmp_path / "mini", MINI)
    with pytest.raises(StoreError, match="could not be written"):
        read_bundle(folder, read_filing(filing_path()).ids, sink=failing_sink)
    assert len(spools) == 1 and spools[0].closed


def test_the_reader_closes_its_spool_when_the_bundle_has_problems(
        tmp_path: Path, spools: list[tempfile.SpooledTemporaryFile[bytes]]) -> None:
    folder = write_bundle(tmp_path / "mini", MINI)
    (folder / "meetings.csv").write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    with pytest.raises(BundleError):
        read_bundle(folder, read_filing(filing_path()).ids)
    assert len(spools) == 1 and spools[0].closed


def test_the_reader_hands_an_open_spool_to_the_caller_when_the_bundle_is_good(
        tmp_path: Path, spools: list[tempfile.SpooledTemporaryFile[bytes]]) -> None:
    source = read_bundle(write_bundle(tmp_path / "mini", MINI), read_filing(filing_path()).ids)
    assert len(spools) == 1 and not spools[0].closed and spools[0].read(1) == b"<"
    source.close()
    assert spools[0].closed
