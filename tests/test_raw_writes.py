"""Raw writes (/gsp, SPARQL Update with the write token) keep the default graph the RDF merge of the graphs.

The W3C SPARQL 1.1 test exists/exists-graph-variable (w3c/rdf-tests,
sparql/sparql11/exists, commit ad541a5) loads one Turtle file both as the
default graph and as a named graph named by its own IRI, and expects
``:s1`` exactly once: a triple held by two graphs must not come back twice
from the default graph. Here its data is written through the real doors
over HTTP (once through the Graph Store Protocol, once through SPARQL
Update), on the memory store, the on-disk store and a live ``oxigraph serve``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from bepgraph.holdings import Holdings
from bepgraph.http.app import create_app
from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import BEP
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore, RemoteStore, Store

from .bundles import MINI, write_bundle
from .servers import OxigraphServer, free_port, oxigraph_server, oxigraph_servers  # noqa: F401  (fixtures)
from .w3c.runner import running

TOKEN = "raw-writes-token"
WRITE = {"authorization": f"Bearer {TOKEN}"}
EX = "http://www.example.org/"
W3C_GRAPH = EX + "exists-graph-variable.ttl"
# exists-graph-variable.ttl, with <> resolved against the graph's own IRI as the test's graphData does
W3C_DATA = f"@prefix : <{EX}> .\n\n:s1 :p <> .\n:s2 :p :o2 .\n"
W3C_QUERY = "PREFIX : <http://www.example.org/>\n\nSELECT ?s WHERE {\n    ?s :p ?g .\n    FILTER EXISTS { GRAPH ?g { ?s2 :p ?o2  } }\n}\n"


@pytest.fixture(params=["memory", "disk", "oxigraph-serve"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A fresh empty store of each kind (a factory, so a test may load into it before serving)."""
    if request.param == "memory":
        yield EmbeddedStore
    elif request.param == "disk":
        yield lambda: EmbeddedStore(tmp_path / "store")
    else:
        server: OxigraphServer = request.getfixturevalue("oxigraph_server")
        yield lambda: RemoteStore(server.query_url)


def serve(store: Store) -> Iterator[str]:
    settings = Settings(load_on_start=False, allow_updates=True, token=TOKEN)
    app = create_app(settings, store=store)
    with running(app, free_port()) as base:
        yield base
    runner = getattr(app.state, "sparql_runner", None)
    if runner is not None:
        runner.close()  # its client to a remote store keeps a connection open


@pytest.fixture
def served(make_store: Callable[[], Store]) -> Iterator[tuple[str, Store]]:
    store = make_store()
    for base in serve(store):
        yield base, store
    store.close()


def select(base: str, query: str) -> list[dict[str, str]]:
    answer = httpx.post(base + "/sparql", data={"query": query},
                        headers={"accept": "application/sparql-results+json"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return [{k: v["value"] for k, v in row.items()} for row in answer.json()["results"]["bindings"]]


def update(base: str, text: str) -> httpx.Response:
    return httpx.post(base + "/sparql", content=text.encode(), timeout=60,
                      headers={**WRITE, "content-type": "application/sparql-update"})


def count(base: str, pattern: str = f'?s ?p ?o FILTER (STRSTARTS(STR(?s), "{EX}") && ?p != <{BEP}repeats>)') -> int:
    """Triples of the example's subjects (graph/meta's records sit in the union too)."""
    return int(select(base, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")[0]["n"])


def gsp_get(base: str, graph: str | None, emptied: bool = False) -> set[str]:
    """What a GET of the graph answers; *emptied*: a graph left with nothing may be gone (a remote store
    knows a graph by its triples)."""
    params = {"default": ""} if graph is None else {"graph": graph}
    answer = httpx.get(base + "/gsp", params=params, headers={**WRITE, "accept": "application/n-triples"})
    if emptied and answer.status_code == 404:
        return set()
    assert answer.status_code == 200, answer.text
    return {f"{t.subject} {t.predicate} {t.object}"
            for t in ox.parse(answer.content, format=ox.RdfFormat.N_TRIPLES)}


def test_w3c_exists_graph_variable_through_the_graph_store_protocol(served: tuple[str, Store]) -> None:
    base, _ = served
    turtle = {**WRITE, "content-type": "text/turtle"}
    # qt:data: the default graph; qt:graphData: the named graph <exists-graph-variable.ttl>
    put = httpx.put(base + "/gsp", params={"default": ""}, content=f"@base <{W3C_GRAPH}> .\n{W3C_DATA}",
                    headers=turtle)
    assert put.status_code in (201, 204), put.text
    put = httpx.put(base + "/gsp", params={"graph": W3C_GRAPH}, content=W3C_DATA, headers=turtle)
    assert put.status_code in (201, 204), put.text
    assert select(base, W3C_QUERY) == [{"s": EX + "s1"}]
    assert count(base) == 2
    # each graph still answers what was written into it
    written = {f"<{EX}s1> <{EX}p> <{W3C_GRAPH}>", f"<{EX}s2> <{EX}p> <{EX}o2>"}
    assert gsp_get(base, W3C_GRAPH) == written
    assert gsp_get(base, None) == written
    assert count(base, f"GRAPH <{W3C_GRAPH}> {{ ?s ?p ?o }}") == 2


def test_w3c_exists_graph_variable_through_sparql_update(served: tuple[str, Store]) -> None:
    base, _ = served
    data = f"<{EX}s1> <{EX}p> <{W3C_GRAPH}> . <{EX}s2> <{EX}p> <{EX}o2> ."
    assert update(base, f"INSERT DATA {{ GRAPH <{W3C_GRAPH}> {{ {data} }} }}").status_code == 204
    assert update(base, f"INSERT DATA {{ {data} }}").status_code == 204
    assert select(base, W3C_QUERY) == [{"s": EX + "s1"}]
    assert count(base) == 2


def test_a_fact_two_graphs_state_counts_once_and_stays_while_one_still_states_it(served: tuple[str, Store]) -> None:
    base, _ = served
    fact = f'<{EX}t> <{EX}amount> "5"^^<http://www.w3.org/2001/XMLSchema#integer>'
    for graph in ("a", "b", "c"):
        assert update(base, f"INSERT DATA {{ GRAPH <{EX}{graph}> {{ {fact} }} }}").status_code == 204
    assert select(base, f"SELECT (SUM(?x) AS ?sum) WHERE {{ ?t <{EX}amount> ?x }}") == [{"sum": "5"}]
    assert all(gsp_get(base, EX + g) == {fact} for g in "abc")
    # deleting it from the graph holding it leaves it: b and c still state it
    assert update(base, f"DELETE DATA {{ GRAPH <{EX}a> {{ {fact} }} }}").status_code == 204
    assert count(base) == 1 and gsp_get(base, EX + "a", emptied=True) == set()
    # deleting it from a graph that only repeats it removes it there, and only there
    assert update(base, f"DELETE DATA {{ GRAPH <{EX}c> {{ {fact} }} }}").status_code == 204
    assert count(base) == 1 and gsp_get(base, EX + "c", emptied=True) == set() and gsp_get(base, EX + "b") == {fact}
    assert httpx.delete(base + "/gsp", params={"graph": EX + "b"}, headers=WRITE).status_code == 204
    assert count(base) == 0


def test_dropping_a_graph_leaves_exactly_what_the_others_state(served: tuple[str, Store]) -> None:
    base, _ = served
    one, both = f"<{EX}x> <{EX}p> 1", f"<{EX}y> <{EX}p> 2"
    assert update(base, f"INSERT DATA {{ GRAPH <{EX}a> {{ {one} . {both} }} }}").status_code == 204
    assert update(base, f"INSERT DATA {{ GRAPH <{EX}b> {{ {both} }} }}").status_code == 204
    assert count(base) == 2
    assert update(base, f"DROP GRAPH <{EX}a>").status_code == 204
    assert count(base) == 1 and select(base, f'SELECT ?o WHERE {{ ?s <{EX}p> ?o }}') == [{"o": "2"}]
    assert count(base, f"GRAPH <{EX}b> {{ ?s ?p ?o }}") == 1  # b holds it now


def test_a_raw_write_repeating_a_loaded_bundle_counts_once_and_cannot_change_the_bundle(
        make_store: Callable[[], Store], tmp_path: Path) -> None:
    store = make_store()
    load_all(store, [write_bundle(tmp_path / "mini", MINI)], with_ontology=False)
    for base in serve(store):
        trades = f"SELECT (COUNT(?t) AS ?n) WHERE {{ ?t a <{BEP}Transaction> }}"
        row = select(base, f"SELECT ?s ?p ?o WHERE {{ ?s a <{BEP}Transaction> ; ?p ?o }} LIMIT 1")[0]
        copied = f"<{row['s']}> a <{BEP}Transaction>"
        assert update(base, f"INSERT DATA {{ GRAPH <{EX}mine> {{ {copied} }} }}").status_code == 204
        assert select(base, trades) == [{"n": "2"}]
        assert gsp_get(base, EX + "mine") == {f"<{row['s']}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{BEP}Transaction>"}
        bundle = bundle_graph(tmp_path / "mini")
        refused = update(base, f"DELETE DATA {{ GRAPH <{bundle}> {{ {copied} }} }}")
        assert refused.status_code == 400 and "bepgraph load" in refused.text
        refused = update(base, f"DELETE WHERE {{ GRAPH ?g {{ ?s a <{BEP}Transaction> }} }}")
        assert refused.status_code == 400 and "variable" in refused.text
        assert select(base, trades) == [{"n": "2"}]
    store.close()


def test_loading_a_bundle_that_states_what_a_raw_graph_holds_counts_it_once(tmp_path: Path) -> None:
    store = EmbeddedStore()
    tables = copy.deepcopy(MINI)
    folder = write_bundle(tmp_path / "mini", tables)
    load_all(store, [folder], with_ontology=False)
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{bundle_graph(folder)}> {{ ?s ?p ?o }} }} LIMIT 5")
    data = " ".join(f"{r['s']} {r['p']} {r['o']} ." for r in rows)  # type: ignore[union-attr,index]
    fresh = EmbeddedStore()
    fresh.update(f"INSERT DATA {{ GRAPH <{EX}raw> {{ {data} }} }}")  # written raw before the load
    load_all(fresh, [folder], with_ontology=False)
    union = list(fresh.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }"))
    assert len(union) == len({(str(r["s"]), str(r["p"]), str(r["o"])) for r in union})  # type: ignore[index]
    # the bundle holds them (a re-export's rows are read from it); the raw graph repeats them
    assert fresh.count(EX + "raw") == 0 and len(Holdings.read(fresh).repeats[EX + "raw"]) == 5
