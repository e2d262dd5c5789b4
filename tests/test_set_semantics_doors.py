"""Every door answers a re-export as it answers the export once: SPARQL, GraphQL, /viz/data.

Two services, one holding the example bundle, the other holding it twice
under two folder names (a monthly export with overlapping windows), are
asked the same questions over HTTP; the answers must be equal.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bepgraph.loading import load_all
from bepgraph.namespaces import BEP
from bepgraph.resources import example_bundle
from bepgraph.sparql import named_queries
from bepgraph.store import EmbeddedStore

from .graphql_server import Served, serve


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    root = tmp_path_factory.mktemp("exports")
    once, twice = EmbeddedStore(), EmbeddedStore()
    load_all(once, [example_bundle()])
    load_all(twice, [shutil.copytree(example_bundle(), root / n) for n in ("export-q1", "export-q2")])
    with serve(once) as a, serve(twice) as b:
        yield a, b


def sparql(served: Served, query: str) -> Any:
    response = httpx.post(served.url + "/sparql", data={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    return sorted(sorted((k, v["value"]) for k, v in row.items()) for row in rows)


def graphql(served: Served, query: str) -> Any:
    response = httpx.post(served.url + "/graphql", json={"query": query}, timeout=60)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_sparql_counts_and_sums_once(pair: tuple[Served, Served]) -> None:
    query = (f"SELECT (COUNT(?t) AS ?n) (SUM(?c) AS ?sum) WHERE {{ ?t a <{BEP}Transaction> ; "
             f"<{BEP}commission> ?c }}")
    assert sparql(pair[1], query) == sparql(pair[0], query) == [[("n", "2000"), ("sum", "1231264.33")]]


@pytest.mark.parametrize("name", ["commissions-and-credits-by-broker-series-quarter", "money-trail",
                                  "series-overview", "expenditures-by-plan-category", "affiliated-brokerage",
                                  "benefits-overspent"])
def test_curated_queries_answer_once(pair: tuple[Served, Served], name: str) -> None:
    text = named_queries()["analyst/" + name].text
    assert sparql(pair[1], text) == sparql(pair[0], text)


def test_graphql_flows_and_counts_answer_once(pair: tuple[Served, Served]) -> None:
    query = """{ brokerFlows(asOf: "2005-07-31", groupBy: BROKER) {
                   group trades commissions directedCommissions payments credits expenditures }
                 findings(asOf: "2005-07-31", first: 100) { conforms counts { violation warning info }
                   findings { totalCount nodes { rule message } } } }"""
    assert graphql(pair[1], query) == graphql(pair[0], query)


@pytest.mark.parametrize("view", ["money", "structure", "control", "governance"])
def test_board_views_answer_once(pair: tuple[Served, Served], view: str) -> None:
    params = {"view": view, "asOf": "2005-07-31", "from": "2004-08-01", "to": "2005-07-31"}
    answers = [httpx.get(s.url + "/viz/data", params=params, timeout=60) for s in pair]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].json() == answers[0].json()
