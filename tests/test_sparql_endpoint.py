"""The /sparql door as clients see it: SPARQLWrapper and plain HTTP against the running app.

Covers content negotiation, the union default graph and protocol datasets,
the service description and YASGUI page, the read-only default and the
bearer token for updates, the query timeout and the result cap, and the same
answers when the store is a remote Oxigraph server.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from SPARQLWrapper import CSV, JSON, TURTLE, SPARQLWrapper

from bepgraph.errors import ParameterError
from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore, RemoteStore, Store

from .bundles import write_bundle
from .processes import children, state
from .servers import OxigraphServer, free_port, oxigraph_server, oxigraph_servers  # noqa: F401  (fixtures)
from .w3c.runner import running

TOKEN = "endpoint-test-token"
EX = "http://example.org/"
COUNT_TRADES = "PREFIX bep: <https://w3id.org/bepgraph/ontology#> SELECT (COUNT(?t) AS ?n) WHERE { ?t a bep:Transaction }"
CLIENT_TIMEOUT_S = 60.0  # generous: a loaded CI machine may take seconds where a quiet one takes milliseconds
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


def loaded_store(mini_bundle: Path, store: Store | None = None) -> Store:
    store = store or EmbeddedStore()
    load_all(store, [mini_bundle])
    return store


@pytest.fixture(scope="module")
def mini_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .bundles import MINI

    return write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)


@pytest.fixture(scope="module")
def readonly(mini_folder: Path) -> Iterator[str]:
    """A read-only app on the mini bundle, with a short timeout and a small result cap."""
    store = loaded_store(mini_folder)
    settings = Settings(load_on_start=False, query_timeout_s=1.0, result_limit=50)
    with running(create_app(settings, store=store), free_port()) as base:
        yield base


@pytest.fixture
def writable(mini_folder: Path) -> Iterator[tuple[str, Store]]:
    store = loaded_store(mini_folder)
    settings = Settings(load_on_start=False, allow_updates=True, token=TOKEN)
    with running(create_app(settings, store=store), free_port()) as base:
        yield base, store


# --- real clients ---------------------------------------------------------------------------------

@pytest.mark.server
def test_sparqlwrapper_gets_json_csv_and_turtle(readonly: str) -> None:
    client = SPARQLWrapper(readonly + "/sparql")
    client.setQuery(COUNT_TRADES)
    client.setReturnFormat(JSON)
    answer = client.query().convert()
    assert answer["results"]["bindings"][0]["n"]["value"] == "2"  # type: ignore[index]
    client.setReturnFormat(CSV)
    rows = list(csv.reader(io.StringIO(client.query().convert().decode())))  # type: ignore[union-attr]
    assert rows == [["n"], ["2"]]
    client.setQuery("CONSTRUCT { ?t a ?c } WHERE { ?t a ?c FILTER(?c = <https://w3id.org/bepgraph/ontology#Transaction>) }")
    client.setReturnFormat(TURTLE)
    graph = client.query().convert()
    assert len(list(ox.parse(graph, format=ox.RdfFormat.TURTLE))) == 2  # type: ignore[arg-type]


@pytest.mark.server
def test_get_form_post_and_direct_post_give_the_same_answer(readonly: str) -> None:
    url = readonly + "/sparql"
    answers = [
        httpx.get(url, params={"query": COUNT_TRADES}),
        httpx.post(url, data={"query": COUNT_TRADES}),
        httpx.post(url, content=COUNT_TRADES, headers={"content-type": "application/sparql-query"}),
    ]
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["results"]["bindings"][0]["n"]["value"] for a in answers} == {"2"}


@pytest.mark.server
@pytest.mark.parametrize("accept, media", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("*/*", "application/sparql-results+json"),
])
def test_select_answers_in_the_format_asked_for(readonly: str, accept: str, media: str) -> None:
    answer = httpx.get(readonly + "/sparql", params={"query": COUNT_TRADES}, headers={"accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media
    if media == "text/csv":  # lossy, so Oxigraph will not parse it back
        assert list(csv.reader(io.StringIO(answer.text))) == [["n"], ["2"]]
        return
    parsed = ox.parse_query_results(answer.content, format=ox.QueryResultsFormat.from_media_type(media))
    assert [row["n"].value for row in parsed] == ["2"]  # type: ignore[union-attr, index]


@pytest.mark.server
@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"])
def test_construct_and_describe_answer_in_every_rdf_format(readonly: str, accept: str) -> None:
    for query in ("CONSTRUCT WHERE { <https://w3id.org/bepgraph/id/transaction/T-1> ?p ?o }",
                  "DESCRIBE <https://w3id.org/bepgraph/id/transaction/T-1>"):
        answer = httpx.get(readonly + "/sparql", params={"query": query}, headers={"accept": accept})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(accept)
        triples = list(ox.parse(answer.content, format=ox.RdfFormat.from_media_type(accept)))
        assert len(triples) >= 9


@pytest.mark.server
def test_an_answer_no_accepted_type_can_carry_is_406(readonly: str) -> None:
    answer = httpx.get(readonly + "/sparql", params={"query": COUNT_TRADES}, headers={"accept": "image/png"})
    assert answer.status_code == 406 and "sparql-results+json" in answer.json()["detail"]


@pytest.mark.server
def test_default_graph_is_the_union_unless_the_request_names_a_dataset(readonly: str) -> None:
    url = readonly + "/sparql"
    union = httpx.get(url, params={"query": COUNT_TRADES}).json()
    assert union["results"]["bindings"][0]["n"]["value"] == "2"
    only_filing = httpx.get(url, params=[("query", COUNT_TRADES),
                                         ("default-graph-uri", "https://w3id.org/bepgraph/graph/filing")]).json()
    assert only_filing["results"]["bindings"][0]["n"]["value"] == "0"


@pytest.mark.server
def test_bad_syntax_is_a_located_400_not_a_traceback(readonly: str) -> None:
    answer = httpx.get(readonly + "/sparql", params={"query": "SELECT ?x WHERE { ?x"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "QuerySyntaxError" and "1:" in body["detail"] and "Traceback" not in answer.text


@pytest.mark.server
def test_a_graph_parameter_that_is_not_an_iri_is_a_400_naming_it(readonly: str) -> None:
    answer = httpx.get(readonly + "/sparql", params=[("query", COUNT_TRADES), ("default-graph-uri", "not an iri")])
    assert answer.status_code == 400
    assert "default-graph-uri" in answer.json()["detail"] and "Traceback" not in answer.text


# --- service description and YASGUI ---------------------------------------------------------------

@pytest.mark.server
def test_service_description_names_the_endpoint_and_its_formats(readonly: str) -> None:
    answer = httpx.get(readonly + "/sparql", headers={"accept": "text/turtle"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    triples = list(ox.parse(answer.content, format=ox.RdfFormat.TURTLE))
    endpoints = {t.object.value for t in triples if t.predicate.value == sd + "endpoint"}
    assert endpoints == {readonly + "/sparql"}
    assert not any(t.object.value == sd + "SPARQL11Update" for t in triples)  # read-only


@pytest.mark.server
def test_a_browser_gets_yasgui_served_locally(readonly: str) -> None:
    page = httpx.get(readonly + "/sparql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and "new Yasgui(" in page.text and 'src="yasgui/yasgui.min.js"' in page.text
    script = httpx.get(readonly + "/yasgui/yasgui.min.js")
    assert script.status_code == 200, "YASGUI is not installed: run `make install` (node and npm)"
    assert "Yasgui" in script.text[:200_000]
    assert httpx.get(readonly + "/yasgui/yasgui.min.css").status_code == 200
    assert httpx.get(readonly + "/yasgui/..%2F..%2Fapp.py").status_code == 404


# --- read-only by default; updates need the token -------------------------------------------------

@pytest.mark.server
def test_updates_and_the_graph_store_are_refused_when_read_only(readonly: str) -> None:
    update = httpx.post(readonly + "/sparql", data={"update": f"INSERT DATA {{ <{EX}s> <{EX}p> 1 }}"},
                        headers={"authorization": f"Bearer {TOKEN}"})
    assert update.status_code == 403 and "--allow-updates" in update.json()["detail"]
    assert httpx.get(readonly + "/gsp", params={"default": ""}).status_code == 403
    assert httpx.put(readonly + "/gsp", params={"graph": EX + "g"}, content=b"",
                     headers={"content-type": "text/turtle"}).status_code == 403


@pytest.mark.server
def test_updates_need_the_bearer_token_and_later_queries_see_them(writable: tuple[str, Store]) -> None:
    base, _ = writable
    update = f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 42 }} }}"
    ask = f"ASK {{ <{EX}s> <{EX}p> 42 }}"
    sparql = base + "/sparql"
    assert httpx.post(sparql, data={"update": update}).status_code == 401
    assert httpx.post(sparql, data={"update": update}, headers={"authorization": "Bearer wrong"}).status_code == 403
    assert httpx.get(sparql, params={"query": ask}).json()["boolean"] is False
    done = httpx.post(sparql, content=update, headers={"content-type": "application/sparql-update",
                                                       "authorization": f"Bearer {TOKEN}"})
    assert done.status_code == 204
    assert httpx.get(sparql, params={"query": ask}).json()["boolean"] is True  # the forked query sees it
    sd = httpx.get(sparql, headers={"accept": "application/n-triples"}).text
    assert "SPARQL11Update" in sd


@pytest.mark.server
def test_an_update_naming_a_using_graph_that_is_not_an_iri_is_a_400_and_changes_nothing(
        writable: tuple[str, Store]) -> None:
    base, store = writable
    before = store.dump(ox.RdfFormat.N_QUADS)
    answer = httpx.post(base + "/sparql", headers={"authorization": f"Bearer {TOKEN}"},
                        data={"update": f"INSERT {{ <{EX}s> <{EX}p> 1 }} WHERE {{}}", "using-graph-uri": "not an iri"})
    assert answer.status_code == 400 and "using-graph-uri" in answer.json()["detail"]
    assert store.dump(ox.RdfFormat.N_QUADS) == before


@pytest.mark.server
def test_graph_store_writes_with_the_token_reach_queries(writable: tuple[str, Store]) -> None:
    base, store = writable
    auth = {"authorization": f"Bearer {TOKEN}"}
    put = httpx.put(base + "/gsp", params={"graph": EX + "people"}, content=f"<{EX}ann> <{EX}name> \"Ann\" .",
                    headers={**auth, "content-type": "application/n-triples"})
    assert put.status_code == 201
    assert EX + "people" in store.named_graphs()
    got = httpx.get(base + "/gsp", params={"graph": EX + "people"}, headers={**auth, "accept": "text/turtle"})
    assert got.status_code == 200 and '"Ann"' in got.text
    ask = httpx.get(base + "/sparql", params={"query": f'ASK {{ <{EX}ann> <{EX}name> "Ann" }}'}).json()
    assert ask["boolean"] is True
    assert httpx.get(base + "/gsp", params={"graph": EX + "people"}).status_code == 401
    bad = httpx.put(base + "/gsp", params={"graph": EX + "x"}, content=b"not turtle <",
                    headers={**auth, "content-type": "text/turtle"})
    assert bad.status_code == 400 and "does not parse" in bad.json()["detail"]


def test_allow_updates_without_a_token_refuses_to_start() -> None:
    with pytest.raises(ParameterError, match="BEPGRAPH_TOKEN"):
        create_app(Settings(allow_updates=True, token=None, load_on_start=False), store=EmbeddedStore())


# --- protection -----------------------------------------------------------------------------------

@pytest.mark.server
def test_an_explosive_query_is_stopped_within_the_timeout_while_others_are_answered(readonly: str) -> None:
    outcome: dict[str, object] = {}

    def explode() -> None:
        start = time.monotonic()
        outcome["answer"] = httpx.get(readonly + "/sparql", params={"query": EXPLOSIVE}, timeout=30)
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=explode)
    thread.start()
    quick: list[float] = []
    while thread.is_alive():
        start = time.monotonic()
        assert httpx.get(readonly + "/sparql", params={"query": COUNT_TRADES}, timeout=5).status_code == 200
        quick.append(time.monotonic() - start)
    thread.join()
    answer = outcome["answer"]
    assert isinstance(answer, httpx.Response) and answer.status_code == 503
    assert answer.json()["error"] == "QueryTimeout"
    assert float(outcome["seconds"]) < 1.0 + 1.0  # type: ignore[arg-type]
    assert quick and max(quick) < 0.9, "other queries were answered while the explosive one ran"
    # the killed worker is reaped in the background: give the kernel a moment to tear it down
    until = time.monotonic() + 1.0
    while True:
        running_now = [pid for pid in children() if state(pid) in "RD"]
        if not running_now or time.monotonic() > until:
            break
        time.sleep(0.02)  # poll interval, bounded by the deadline
    assert not running_now, "the query process was not stopped"


@pytest.mark.server
def test_the_query_processes_end_when_the_app_stops(mini_folder: Path) -> None:
    store = loaded_store(mini_folder)
    before = children()
    with running(create_app(Settings(load_on_start=False), store=store), free_port()) as base:
        answer = httpx.get(base + "/sparql", params={"query": COUNT_TRADES}, timeout=CLIENT_TIMEOUT_S)
        assert answer.status_code == 200
        workers = children() - before
        assert workers, "the query was answered in a forked query process"
    until = time.monotonic() + 10.0
    while workers & children() and time.monotonic() < until:
        time.sleep(0.02)  # poll interval, bounded by the deadline
    assert not workers & children(), "a query process outlived the app"


@pytest.mark.server
def test_results_beyond_the_cap_are_refused_with_a_clear_error(readonly: str) -> None:
    many = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    answer = httpx.get(readonly + "/sparql", params={"query": many})
    assert answer.status_code == 413 and "50" in answer.json()["detail"]
    limited = httpx.get(readonly + "/sparql", params={"query": many + " LIMIT 50"}, headers={"accept": "text/csv"})
    assert limited.status_code == 200 and len(limited.text.strip().splitlines()) == 51


# --- the same over a remote store -----------------------------------------------------------------

@pytest.mark.server
def test_the_endpoint_answers_the_same_over_a_remote_oxigraph_server(
    oxigraph_server: OxigraphServer, mini_folder: Path, readonly: str
) -> None:
    remote = loaded_store(mini_folder, RemoteStore(oxigraph_server.query_url))
    settings = Settings(load_on_start=False, query_timeout_s=1.0, result_limit=50)
    query = ("PREFIX bep: <https://w3id.org/bepgraph/ontology#> "
             "SELECT ?t ?c WHERE { ?t a bep:Transaction ; bep:commission ?c } ORDER BY ?t")
    with running(create_app(settings, store=remote), free_port()) as base:
        for accept in ("application/sparql-results+json", "text/csv", "application/sparql-results+xml"):
            here = httpx.get(readonly + "/sparql", params={"query": query}, headers={"accept": accept},
                             timeout=CLIENT_TIMEOUT_S)
            there = httpx.get(base + "/sparql", params={"query": query}, headers={"accept": accept},
                              timeout=CLIENT_TIMEOUT_S)
            assert there.status_code == 200 and there.headers["content-type"] == here.headers["content-type"]
            assert there.content == here.content
        client = SPARQLWrapper(base + "/sparql")
        client.setTimeout(int(CLIENT_TIMEOUT_S))
        client.setQuery(COUNT_TRADES)
        client.setReturnFormat(JSON)
        assert client.query().convert()["results"]["bindings"][0]["n"]["value"] == "2"  # type: ignore[index]
        dataset = httpx.get(base + "/sparql", params=[("query", COUNT_TRADES),
                                                      ("default-graph-uri", "https://w3id.org/bepgraph/graph/filing")],
                            timeout=CLIENT_TIMEOUT_S)
        assert json.loads(dataset.content)["results"]["bindings"][0]["n"]["value"] == "0"
        assert httpx.get(base + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                         timeout=CLIENT_TIMEOUT_S).status_code == 413
        start = time.monotonic()
        timed_out = httpx.get(base + "/sparql", params={"query": EXPLOSIVE}, timeout=30)
        assert timed_out.status_code == 503 and time.monotonic() - start < 2.0
    remote.close()
