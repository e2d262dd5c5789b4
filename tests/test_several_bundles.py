"""Several bundles (facts-bundle.md): a fact given by several sources counts once; conflicts are refused.

The invariant checked after every sequence of loads: no triple is held by
two graphs (so the union default graph is the RDF merge), and the facts
held are exactly the facts the loaded sources state, as a fresh store
loaded with the same sources holds them.
"""

from __future__ import annotations

import copy
import csv
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.errors import BundleError
from bepgraph.holdings import stated
from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import BEP, graph_iri
from bepgraph.resources import example_bundle
from bepgraph.sparql import find_query
from bepgraph.store import EmbeddedStore, Store
from bepgraph.validation.run import validate_graph

from .bundles import MINI, write_bundle

META = graph_iri("meta")
TOTAL = (f"SELECT (COUNT(?t) AS ?n) (SUM(?c) AS ?sum) WHERE {{ ?t a <{BEP}Transaction> ; "
         f"<{BEP}commission> ?c }}")


def copy_of(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def held(store: Store) -> Counter[str]:
    """Every fact held by a source graph (graph/meta aside), counted once per graph holding it."""
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != <{META}>) }}")
    return Counter(f"{r['s']} {r['p']} {r['o']}" for r in rows)  # type: ignore[union-attr,index]


def facts(store: Store) -> set[str]:
    """The facts without blank nodes (those are each source's own, so they differ between stores)."""
    return {line for line in held(store) if "_:" not in line}


def totals(store: Store) -> tuple[str, str]:
    row = next(iter(store.query(TOTAL)))  # type: ignore[call-overload]
    return row["n"].value, row["sum"].value


def assert_merged(store: Store, *folders: Path) -> None:
    """Each fact once, and the facts of a fresh store loaded with *folders*."""
    counts = held(store)
    assert [line for line, n in counts.items() if n > 1] == []
    fresh = EmbeddedStore()
    load_all(fresh, list(folders))
    assert facts(store) == facts(fresh)


def test_a_bundle_loaded_twice_under_two_names_counts_once(tmp_path: Path) -> None:
    q1 = copy_of(example_bundle(), tmp_path / "export-q1")
    q2 = copy_of(example_bundle(), tmp_path / "export-q2")
    once, twice = EmbeddedStore(), EmbeddedStore()
    load_all(once, [q1])
    load_all(twice, [q1, q2])
    assert totals(twice) == totals(once) == ("2000", "1231264.33")
    assert_merged(twice, q1)
    # the second export repeats every fact the first holds: its graph is empty, its record full
    assert stated(twice, bundle_graph(q2)) == stated(once, bundle_graph(q1))
    assert twice.count(bundle_graph(q2)) == 0


def test_a_re_export_gives_the_same_findings_and_curated_answers(tmp_path: Path) -> None:
    q1 = copy_of(example_bundle(), tmp_path / "export-q1")
    q2 = copy_of(example_bundle(), tmp_path / "export-q2")
    once, twice = EmbeddedStore(), EmbeddedStore()
    load_all(once, [q1])
    load_all(twice, [q1, q2])
    as_of = date(2005, 7, 31)
    assert validate_graph(twice, as_of).as_dict() == validate_graph(once, as_of).as_dict()
    query = find_query("commissions-and-credits-by-broker-series-quarter").text
    answer = sorted(tuple(str(t) for t in r) for r in once.query(query))  # type: ignore[union-attr]
    assert sorted(tuple(str(t) for t in r) for r in twice.query(query)) == answer  # type: ignore[union-attr]


def test_overlapping_exports_hold_the_union_of_their_rows(tmp_path: Path) -> None:
    early, late = copy.deepcopy(MINI), copy.deepcopy(MINI)
    late["transactions"].append({**MINI["transactions"][1], "id": "T-3", "date": "2002-07-03"})
    del early["transactions"][1]  # T-2 only in the late export, T-1 in both
    a, b = write_bundle(tmp_path / "jan", early), write_bundle(tmp_path / "feb", late)
    store = EmbeddedStore()
    load_all(store, [a])
    load_all(store, [b])
    assert totals(store)[0] == "3"
    assert_merged(store, a, b)


def test_replacing_a_bundle_keeps_the_facts_another_bundle_states(tmp_path: Path) -> None:
    first, second = copy.deepcopy(MINI), copy.deepcopy(MINI)
    a, b = write_bundle(tmp_path / "a", first), write_bundle(tmp_path / "b", second)
    store = EmbeddedStore()
    load_all(store, [a, b])  # a holds every row; b repeats them all
    assert store.count(bundle_graph(b)) == 0
    del first["transactions"][0]  # a corrected export of a without T-1
    del first["benefits"][0], first["expenditures"][0]  # which T-1's benefit and its spending need
    write_bundle(a, first)
    load_all(store, [a])
    # T-1 is still stated by b: it moved into b's graph, and counts once
    assert totals(store) == ("2", "1349.1")
    assert_merged(store, a, b)
    assert store.count(bundle_graph(b)) > 0


def test_replacing_the_only_bundle_stating_a_row_removes_it(tmp_path: Path) -> None:
    tables = copy.deepcopy(MINI)
    a = write_bundle(tmp_path / "a", tables)
    store = EmbeddedStore()
    load_all(store, [a])
    del tables["transactions"][1]
    write_bundle(a, tables)
    load_all(store, [a])
    assert totals(store) == ("1", "1250")
    assert_merged(store, a)


def nquads(store: Store) -> bytes:
    return store.dump(ox.RdfFormat.N_QUADS)


def test_a_row_another_bundle_gives_with_other_values_is_refused_naming_both(tmp_path: Path) -> None:
    changed = copy.deepcopy(MINI)
    changed["transactions"][0]["commission"] = "1300.00"
    changed["transactions"][0]["executing_broker"] = "distributor"
    a, b = write_bundle(tmp_path / "export-q1", MINI), write_bundle(tmp_path / "export-q2", changed)
    store = EmbeddedStore()
    load_all(store, [a])
    before = nquads(store)
    with pytest.raises(BundleError) as caught:
        load_all(store, [b])
    assert nquads(store) == before
    problems = {(p.file, p.line, p.column) for p in caught.value.problems}
    assert problems == {("transactions.csv", 2, "commission"), ("transactions.csv", 2, "executing_broker")}
    text = str(caught.value)
    assert "transactions.csv:2: column commission: '1300' conflicts with '1250'" in text
    assert f"bundle 'export-q1' ({a.resolve()})" in text


def test_a_conflict_between_two_bundles_of_one_load_loads_neither(tmp_path: Path) -> None:
    changed = copy.deepcopy(MINI)
    changed["trustees"][0]["name"] = "A. Other"
    a, b = write_bundle(tmp_path / "a", MINI), write_bundle(tmp_path / "b", changed)
    store = EmbeddedStore()
    load_all(store, [])
    before = nquads(store)
    with pytest.raises(BundleError, match=r"trustees.csv:2: column name: 'A. Other' conflicts with 'A. Trustee'"):
        load_all(store, [a, b])
    assert nquads(store) == before


def test_the_same_value_written_differently_is_the_same_fact(tmp_path: Path) -> None:
    same = copy.deepcopy(MINI)
    same["transactions"][0]["commission"] = "1250.0"  # 1250.00 elsewhere: one decimal value
    a, b = write_bundle(tmp_path / "a", MINI), write_bundle(tmp_path / "b", same)
    store = EmbeddedStore()
    load_all(store, [a, b])
    assert totals(store) == ("2", "1349.1")


def test_a_replacement_may_change_its_own_rows(tmp_path: Path) -> None:
    tables = copy.deepcopy(MINI)
    a = write_bundle(tmp_path / "a", tables)
    store = EmbeddedStore()
    load_all(store, [a])
    tables["transactions"][0]["commission"] = "1300.00"
    write_bundle(a, tables)
    load_all(store, [a])
    assert totals(store) == ("2", "1399.1")
    assert_merged(store, a)


def test_reloading_the_same_filing_and_ontology_leaves_them_as_they_are(tmp_path: Path) -> None:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "a", MINI)])
    records = [r for r in nquads(store).decode().splitlines() if "/graph/filing>" in r.split(" ", 1)[0]]
    load_all(store, [write_bundle(tmp_path / "b", MINI)])
    assert [r for r in nquads(store).decode().splitlines() if "/graph/filing>" in r.split(" ", 1)[0]] == records


def test_the_example_bundle_loaded_once_holds_each_fact_once() -> None:
    store = EmbeddedStore()
    load_all(store, None)
    counts = held(store)
    assert max(counts.values()) == 1
    with (example_bundle() / "transactions.csv").open(newline="", encoding="utf-8") as f:
        assert totals(store)[0] == str(sum(1 for _ in csv.DictReader(f)))


def test_a_conflicting_ballot_is_named_by_its_whole_key(tmp_path: Path) -> None:
    changed = copy.deepcopy(MINI)
    changed["ballots"][0]["vote"] = "against"
    a, b = write_bundle(tmp_path / "a", MINI), write_bundle(tmp_path / "b", changed)
    store = EmbeddedStore()
    load_all(store, [a])
    with pytest.raises(BundleError, match=r"ballots.csv:2: column vote: 'against' conflicts with 'for' for ballots 'X-1/t-1'"):
        load_all(store, [b])


def test_a_conflicting_text_with_quotes_is_shown_whole(tmp_path: Path) -> None:
    changed = copy.deepcopy(MINI)
    changed["expenditures"][0]["description"] = 'Print run "Q4", 2002'
    a, b = write_bundle(tmp_path / "a", MINI), write_bundle(tmp_path / "b", changed)
    store = EmbeddedStore()
    load_all(store, [a])
    with pytest.raises(BundleError, match=r"""'Print run "Q4", 2002' conflicts with 'Print run "Q3", 2002'"""):
        load_all(store, [b])


def records(store: Store, graph: str) -> Counter[str]:
    """graph/meta records of *graph* by kind: repeatsRow (one a row), repeats (one a fact)."""
    rows = store.query(f"SELECT ?p WHERE {{ GRAPH <{META}> {{ <{graph}> ?p ?o }} }}")
    return Counter(r["p"].value[len(BEP):] for r in rows if r["p"].value.startswith(BEP + "repeats"))  # type: ignore[union-attr,index]


def test_a_re_export_is_recorded_one_record_per_row(tmp_path: Path) -> None:
    a, b = write_bundle(tmp_path / "a", MINI), write_bundle(tmp_path / "b", MINI)
    store = EmbeddedStore()
    load_all(store, [a, b])
    assert records(store, bundle_graph(b)) == Counter({"repeatsRow": sum(len(rows) for rows in MINI.values())})
    # the first bundle repeats, one by one, only what the filing says of its rows
    assert 0 < records(store, bundle_graph(a))["repeats"] < 10
    assert stated(store, bundle_graph(b)) == stated(store, bundle_graph(a))


def test_a_row_the_filing_also_names_moves_whole_with_its_repeats_when_its_first_bundle_drops_it(
        tmp_path: Path) -> None:
    first = copy.deepcopy(MINI)
    a, b = write_bundle(tmp_path / "a", first), write_bundle(tmp_path / "b", MINI)
    store = EmbeddedStore()
    load_all(store, [a, b])
    said = stated(store, bundle_graph(b))
    del first["series"][0]  # a corrected export of a without the series row (the filing names the series)
    write_bundle(a, first)
    load_all(store, [a])
    assert_merged(store, a, b)
    assert stated(store, bundle_graph(b)) == said
    assert records(store, bundle_graph(b))["repeats"] > 0  # what the filing says of the series, one by one


def test_three_exports_hand_a_row_on_as_each_first_drops_it(tmp_path: Path) -> None:
    without = copy.deepcopy(MINI)
    del without["transactions"][0], without["benefits"][0], without["expenditures"][0]
    a, b, c = (write_bundle(tmp_path / name, MINI) for name in ("a", "b", "c"))
    store = EmbeddedStore()
    load_all(store, [a, b, c])
    said = stated(store, bundle_graph(c))
    write_bundle(a, without)
    load_all(store, [a])  # T-1 moves to b; c still gives it, reading it from b
    assert_merged(store, a, b, c)
    write_bundle(b, without)
    load_all(store, [b])  # and now to c
    assert_merged(store, a, b, c)
    assert stated(store, bundle_graph(c)) == said
    assert totals(store) == ("2", "1349.1")
    write_bundle(c, without)
    load_all(store, [c])  # nobody gives T-1 any more
    assert totals(store) == ("1", "99.1")
    assert_merged(store, a, b, c)


def test_a_replacement_conflicting_with_a_row_another_bundle_repeats_is_refused(tmp_path: Path) -> None:
    changed = copy.deepcopy(MINI)
    a, b = write_bundle(tmp_path / "a", MINI), write_bundle(tmp_path / "export-q2", MINI)
    store = EmbeddedStore()
    load_all(store, [a, b])  # b's rows are records reading a's
    before = nquads(store)
    changed["transactions"][0]["commission"] = "1300.00"
    write_bundle(a, changed)
    with pytest.raises(BundleError, match=r"transactions.csv:2: column commission: '1300' conflicts with '1250' "
                                          r"for transactions 'T-1' in bundle 'export-q2'"):
        load_all(store, [a])
    assert nquads(store) == before
