"""Every client mistake at /sparql is a 4xx that says what went wrong, and the worker pool survives it.

Update errors follow SPARQL 1.1 Update: an operation on a graph that does
not exist (CLEAR, DROP, MOVE) or already exists (CREATE) fails the request
unless it says SILENT; queries nested past the documented bound are refused
before parsing (they killed their worker); unknown functions are a 400.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.endpoint.guard import MAX_NESTING, MAX_OPERATORS
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .servers import free_port
from .w3c.runner import running

TOKEN = "mistakes-test-token"
MISSING = "http://example.org/no-such-graph"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EmbeddedStore]]:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)])
    settings = Settings(load_on_start=False, allow_updates=True, token=TOKEN, query_timeout_s=5.0)
    with running(create_app(settings, store=store), free_port()) as base:
        yield base, store


def _update(base: str, text: str) -> httpx.Response:
    return httpx.post(base + "/sparql", content=text.encode(),
                      headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/sparql-update"})


def _query(base: str, text: str) -> httpx.Response:
    return httpx.post(base + "/sparql", content=text.encode(), headers={"content-type": "application/sparql-query"},
                      timeout=30)


@pytest.mark.server
@pytest.mark.parametrize("operation", [f"CLEAR GRAPH <{MISSING}>", f"DROP GRAPH <{MISSING}>",
                                       f"MOVE <{MISSING}> TO <http://example.org/b>"])
def test_an_operation_on_a_missing_graph_is_a_400_unless_silent(app: tuple[str, EmbeddedStore], operation: str) -> None:
    base, store = app
    before = store.count()
    refused = _update(base, operation)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "UpdateError" and "does not exist" in refused.json()["detail"]
    silent = operation.replace("CLEAR ", "CLEAR SILENT ").replace("DROP ", "DROP SILENT ").replace("MOVE ", "MOVE SILENT ")
    assert _update(base, silent).status_code == 204
    assert store.count() == before


@pytest.mark.server
def test_creating_a_graph_twice_is_a_400_unless_silent(app: tuple[str, EmbeddedStore]) -> None:
    base, _ = app
    graph = "http://example.org/created"
    assert _update(base, f"CREATE GRAPH <{graph}>").status_code == 204
    again = _update(base, f"CREATE GRAPH <{graph}>")
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    assert _update(base, f"CREATE SILENT GRAPH <{graph}>").status_code == 204
    assert _update(base, f"DROP GRAPH <{graph}>").status_code == 204


@pytest.mark.server
def test_a_failed_update_changes_nothing(app: tuple[str, EmbeddedStore]) -> None:
    base, store = app
    before = store.count()
    answer = _update(base, f"INSERT DATA {{ <urn:x> <urn:y> <urn:z> }} ; DROP GRAPH <{MISSING}>")
    assert answer.status_code == 400
    assert store.count() == before


@pytest.mark.server
@pytest.mark.parametrize("name, text", [
    ("groups 5,000 deep", "SELECT * WHERE " + "{" * 5000 + "?s ?p ?o" + "}" * 5000),
    ("OPTIONALs 10,000 deep", "SELECT * WHERE { " + "OPTIONAL { ?s ?p ?o " * 10000 + "}" * 10000 + " }"),
    ("parentheses 10,000 deep", "SELECT (" + "(" * 10000 + "1" + ")" * 10000 + " AS ?x) {}"),
    ("10,000 negations", "SELECT * { FILTER(" + "!" * 10000 + "true) }"),
    ("10,000 UNIONs", "SELECT * { " + " UNION ".join(["{ ?s ?p ?o }"] * 10001) + " }"),
    ("a 10,000-term sum", "SELECT (" + "+".join(["1"] * 10001) + " AS ?x) {}"),
])
def test_a_query_nested_past_the_bound_is_a_400_and_the_workers_survive(
        app: tuple[str, EmbeddedStore], name: str, text: str) -> None:
    base, _ = app
    answer = _query(base, text)
    assert answer.status_code == 400, (name, answer.text[:300])
    assert answer.json()["error"] == "QueryTooComplex"
    assert str(MAX_NESTING) in answer.json()["detail"] or str(MAX_OPERATORS) in answer.json()["detail"]
    assert _query(base, "ASK { ?s ?p ?o }").json()["boolean"] is True


@pytest.mark.server
def test_queries_within_the_bounds_are_answered(app: tuple[str, EmbeddedStore]) -> None:
    base, _ = app
    deep = "SELECT * WHERE " + "{" * MAX_NESTING + "?s ?p ?o" + "}" * MAX_NESTING + " LIMIT 1"
    assert _query(base, deep).status_code == 200
    negations = "SELECT * { FILTER(" + "!" * (MAX_OPERATORS - 2) + "true) }"
    assert _query(base, negations).status_code == 200


@pytest.mark.server
@pytest.mark.parametrize("text, expected", [
    ("SELECT (<urn:f>(1) AS ?x) {}", "custom function <urn:f>"),
    ("SELECT * { SERVICE SILENT ?nowhere { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * WHERE { ?s ?p }", "syntax"),
])
def test_unknown_functions_and_other_evaluation_errors_are_400(app: tuple[str, EmbeddedStore], text: str,
                                                               expected: str) -> None:
    base, _ = app
    answer = _query(base, text)
    assert answer.status_code == 400, answer.text
    assert expected.lower() in answer.json()["detail"].lower()
