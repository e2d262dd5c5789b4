"""Analysts' derived graphs: …/graph/derived/DATE, computed for the query that names it, the same
answer whatever was asked before or at the same time, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from bepgraph.errors import QueryError
from bepgraph.loading import load_all
from bepgraph.sparql import bind, find_query
from bepgraph.store import EmbeddedStore
from bepgraph.validation.derive import compute
from bepgraph.validation.facts import read_facts
from bepgraph.validation.overlay import derived_dates, query_with_derived

from .graphql_server import Served, serve, serve_example

DERIVED = "https://w3id.org/bepgraph/graph/derived/"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
STATUS_IN_GRAPH = """PREFIX bep: <https://w3id.org/bepgraph/ontology#>
SELECT ?trustee ?interested FROM NAMED <%s2004-06-30> WHERE {
  GRAPH <%s2004-06-30> { ?s a bep:TrusteeStatus ; bep:trustee ?trustee ;
    bep:onDate "2004-06-30"^^<http://www.w3.org/2001/XMLSchema#date> ; bep:isInterestedPerson ?interested } }
ORDER BY ?trustee""" % (DERIVED, DERIVED)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve_example() as s:
        yield s


def sparql(served: Served, query: str) -> httpx.Response:
    return httpx.post(served.url + "/sparql", data={"query": query},
                      headers={"accept": "application/sparql-results+json"}, timeout=120)


def rows(served: Served, query: str) -> list[dict[str, str]]:
    response = sparql(served, query)
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def trustees_as_of(served: Served, day: str) -> list[dict[str, str]]:
    query = find_query("analyst/trustees-as-of")
    return rows(served, _bound(query.text, bind(query, {"asOf": day})))


def _bound(text: str, bindings: dict[str, Any]) -> str:
    from bepgraph.store import bind_values

    return bind_values(text, bindings)


def engine_status(store: EmbeddedStore, day: date) -> dict[str, str]:
    derived = compute(read_facts(store, day))
    return {f"https://w3id.org/bepgraph/id/trustee/{s.trustee}": "true" if s.interested else "false"
            for s in derived.statuses if s.day == day}


def test_the_named_derived_graph_holds_the_engines_status_of_that_date(served: Served) -> None:
    found = {r["trustee"]: r["interested"] for r in rows(served, STATUS_IN_GRAPH)}
    assert found == engine_status(served.store, date(2004, 6, 30)) and len(found) == 9  # type: ignore[arg-type]


def test_trustees_as_of_shows_the_engines_status_whatever_was_asked_before(served: Served) -> None:
    baseline = rows(served, COUNT_ALL)
    store, generation = served.store, served.store.write_count()
    first = trustees_as_of(served, "2004-06-30")
    assert all(r.get("derivedInterested") in ("true", "false") for r in first)  # every trustee, on the day asked
    status = engine_status(store, date(2004, 6, 30))  # type: ignore[arg-type]
    assert {r["trustee"]: r["derivedInterested"] for r in first} == status
    other = trustees_as_of(served, "2002-01-15")
    assert other != first
    assert trustees_as_of(served, "2004-06-30") == first
    assert rows(served, COUNT_ALL) == baseline  # the next query of a process sees the loaded facts only
    assert store.write_count() == generation


def test_concurrent_queries_for_different_dates_each_get_their_own(served: Served) -> None:
    days = ["2002-01-15", "2003-06-30", "2004-06-30"]
    sequential = {d: trustees_as_of(served, d) for d in days}
    with ThreadPoolExecutor(6) as pool:
        futures = {pool.submit(trustees_as_of, served, d): d for d in days * 2}
        for future, day in futures.items():
            assert future.result() == sequential[day]


def test_a_derived_graph_that_names_no_date_is_a_400(served: Served) -> None:
    response = sparql(served, f"SELECT * WHERE {{ GRAPH <{DERIVED}2004-02-30> {{ ?s ?p ?o }} }}")
    assert response.status_code == 400 and "2004-02-30> names no date" in response.text


def test_which_dates_a_query_names() -> None:
    assert derived_dates(f"SELECT * FROM <{DERIVED}2004-06-30> WHERE {{ ?s ?p ?o }}") == [date(2004, 6, 30)]
    assert derived_dates(f"PREFIX d: <{DERIVED}> SELECT * WHERE {{ GRAPH d:2003-01-02 {{ ?s ?p ?o }} }}") \
        == [date(2003, 1, 2)]
    built = f'SELECT * WHERE {{ VALUES ?d {{ "2001-02-03"^^xsd:date }} BIND(IRI(CONCAT("{DERIVED}", STR(?d))) AS ?g) }}'
    assert derived_dates(built) == [date(2001, 2, 3)]
    assert derived_dates('SELECT * WHERE { VALUES ?d { "2001-02-03"^^xsd:date } }') == []  # no derived graph named
    assert derived_dates("SELECT * WHERE { ?s ?p ?o }", [DERIVED + "2005-01-01"]) == [date(2005, 1, 1)]
    with pytest.raises(QueryError, match="names no date"):
        derived_dates(f"ASK {{ GRAPH <{DERIVED}2005-13-01> {{ ?s ?p ?o }} }}")


def test_an_on_disk_store_answers_through_a_scratch_graph_and_is_left_identical(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "disk")
    try:
        load_all(store)
        before = sorted(store.dump(ox.RdfFormat.N_QUADS).splitlines())
        query = find_query("analyst/trustees-as-of")
        result = query_with_derived(store, query.text, bind(query, {"asOf": "2004-06-30"}))
        found = {r["trustee"].value: r["derivedInterested"].value for r in result}  # type: ignore[union-attr,index]
        assert found == engine_status(store, date(2004, 6, 30))
        assert sorted(store.dump(ox.RdfFormat.N_QUADS).splitlines()) == before
    finally:
        store.close()


def test_the_endpoint_over_an_on_disk_store_refuses_derived_graphs_clearly(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "disk")
    try:
        load_all(store)
        with serve(store) as s:
            response = sparql(s, STATUS_IN_GRAPH)
            assert response.status_code == 501 and "in-memory store only" in response.text
            assert sparql(s, COUNT_ALL).status_code == 200
    finally:
        store.close()


def test_bepgraph_query_trustees_as_of_shows_the_derived_status() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-m", "bepgraph.cli", "query", "trustees-as-of", "--param",
                           "asOf=2004-06-30", "--format", "csv"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].rstrip().endswith("derivedInterested,derivedRule12b1")
    assert all(line.rstrip().endswith(("true,false", "false,true", "false,false", "true,true")) for line in lines[1:])
