"""GraphQL over HTTP against a real uvicorn serving the filing and the example bundle.

Answers are checked against the bundle's CSV files; the number of SPARQL
queries a request makes is counted on the real store underneath.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bepgraph.graphql.schema import LIMITS
from bepgraph.loading import load_all
from bepgraph.namespaces import entity_iri
from bepgraph.resources import example_bundle

from .graphql_server import CountingStore, Served, serve

SERIES = "ppm-america-jnl-value-fund"
AS_OF = "2004-12-31"

DASHBOARD = """
query Dashboard($id: String!, $asOf: Date!) {
  series(id: $id) {
    __typename
    ... on Series {
      id name
      planStatus(asOf: $asOf) { inEffect since nextContinuanceDue lapsedOn terminatedOn history { start until } }
      trades(first: 20) { pageInfo { hasNextPage endCursor }
        edges { cursor node { id date commission directed executingBroker { id name } } } }
      findings(asOf: $asOf, first: 50) { edges { node { rule severity series focus { table id } } } }
    }
    ... on NotFound { kind id message }
  }
}
"""


def _rows(table: str) -> list[dict[str, str]]:
    with (example_bundle() / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    store = CountingStore()
    load_all(store)
    with serve(store) as running:
        yield running


def ask(served: Served, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(served.url + "/graphql", json={"query": query, "variables": variables}, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def data(served: Served, query: str, **variables: Any) -> dict[str, Any]:
    body = ask(served, query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def counted(served: Served, query: str, **variables: Any) -> tuple[dict[str, Any], int]:
    store = served.store
    assert isinstance(store, CountingStore)
    before = len(store.queries)
    answer = data(served, query, **variables)
    return answer, len(store.queries) - before


def _trades_of(series: str) -> list[dict[str, str]]:
    """The series' trades, newest first, ties broken by IRI as the service does."""
    rows = [r for r in _rows("transactions") if r["series"] == series]
    return sorted(rows, key=lambda r: (r["date"], entity_iri("transactions", r["id"])), reverse=True)


def test_dashboard_returns_the_last_20_trades_of_the_series_from_the_bundle(served: Served) -> None:
    series = data(served, DASHBOARD, id=SERIES, asOf=AS_OF)["series"]
    assert series["__typename"] == "Series" and series["name"] == "PPM America/JNL Value Fund"
    expected = _trades_of(SERIES)[:20]
    got = [e["node"] for e in series["trades"]["edges"]]
    assert [t["id"] for t in got] == [r["id"] for r in expected]
    assert [Decimal(t["commission"]) for t in got] == [Decimal(r["commission"]) for r in expected]
    assert [t["executingBroker"]["id"] for t in got] == [r["executing_broker"] for r in expected]
    assert series["trades"]["pageInfo"]["hasNextPage"] is (len(_trades_of(SERIES)) > 20)


def test_following_cursors_walks_every_trade_once_in_order(served: Served) -> None:
    query = """query($id: String!, $after: String) { series(id: $id) { ... on Series {
      trades(first: 37, after: $after, orderBy: DATE, direction: ASC) {
        pageInfo { hasNextPage endCursor } nodes { id } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = data(served, query, id=SERIES, after=after)["series"]["trades"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [r["id"] for r in reversed(_trades_of(SERIES))]


def test_trade_filters_keep_only_matching_trades(served: Served) -> None:
    broker = _trades_of(SERIES)[0]["executing_broker"]
    query = """query($id: String!, $broker: String!) { transactions(series: $id, first: 100,
      filter: {from: "2003-01-01", to: "2003-12-31", broker: $broker, directed: false}) { nodes { id } } }"""
    got = {n["id"] for n in data(served, query, id=SERIES, broker=broker)["transactions"]["nodes"]}
    expected = {r["id"] for r in _trades_of(SERIES) if r["executing_broker"] == broker
                and "2003-01-01" <= r["date"] <= "2003-12-31" and r["directed"] == "false"}
    assert got == expected and got


def test_dashboard_queries_are_bounded_by_depth_not_by_results(served: Served) -> None:
    data(served, DASHBOARD, id=SERIES, asOf=AS_OF)  # warm the as-of cache (a validation run)
    _, queries = counted(served, DASHBOARD, id=SERIES, asOf=AS_OF)
    # series, trades page, the 20 trades, their brokers, and the as-of cache's generation check
    assert queries <= 6, queries
    nested = """query($n: Int!) { allSeries(first: $n) { nodes { name subAdviser { name }
      trades(first: 5) { nodes { commission executingBroker { name } } } } } }"""
    few, few_queries = counted(served, nested, n=2)
    many, many_queries = counted(served, nested, n=40)
    assert len(many["allSeries"]["nodes"]) > 2 * len(few["allSeries"]["nodes"])
    assert few_queries == many_queries <= 6, (few_queries, many_queries)


def test_the_brokers_of_a_page_of_trades_cost_one_query(served: Served) -> None:
    page = """query($id: String!, $n: Int!) { series(id: $id) { ... on Series {
      trades(first: $n) { edges { node { id ... on Transaction { executingBroker { id name } } } } } } } }"""
    without = """query($id: String!, $n: Int!) { series(id: $id) { ... on Series {
      trades(first: $n) { edges { node { id } } } } } }"""
    data(served, page, id=SERIES, n=20)  # the trade calendar is read once per loaded data
    twenty, twenty_queries = counted(served, page, id=SERIES, n=20)
    _, bare_queries = counted(served, without, id=SERIES, n=20)
    assert twenty_queries == bare_queries + 1, (twenty_queries, bare_queries)  # one query for every broker
    names = {r["id"]: r["name"] for r in _rows("organizations")}
    trades = {r["id"]: r for r in _rows("transactions")}
    edges = twenty["series"]["trades"]["edges"]
    assert len(edges) == 20
    for edge in edges:
        broker = edge["node"]["executingBroker"]
        assert broker["id"] == trades[edge["node"]["id"]]["executing_broker"]
        assert broker["name"] == names[broker["id"]]


def test_entities_reached_without_their_properties_read_them_when_asked(served: Served) -> None:
    row = _rows("agreements")[0]
    query = """query($id: String!) { agreement(id: $id) { ... on Agreement { parties { id name lei } } } }"""
    parties = data(served, query, id=row["id"])["agreement"]["parties"]
    organizations = {r["id"]: r for r in _rows("organizations")}
    assert sorted(p["id"] for p in parties) == sorted(row["parties"].split(";"))
    for party in parties:
        assert party["name"] == organizations[party["id"]]["name"]
        assert party["lei"] == (organizations[party["id"]]["lei"] or None)


def test_an_unknown_series_is_a_typed_not_found(served: Served) -> None:
    series = data(served, DASHBOARD, id="no-such-fund", asOf=AS_OF)["series"]
    assert series == {"__typename": "NotFound", "kind": "series", "id": "no-such-fund",
                      "message": "no Series has the id 'no-such-fund'"}
    status = data(served, '{ planStatus(series: "no-such-fund") { __typename } }')["planStatus"]
    assert status["__typename"] == "NotFound"


def test_plan_status_agrees_with_its_history(served: Served) -> None:
    status = data(served, DASHBOARD, id=SERIES, asOf=AS_OF)["series"]["planStatus"]
    assert status["history"], "the example adopts the plan for every Schedule A series"
    last = status["history"][-1]
    assert status["inEffect"] is (last["until"] is None or last["until"] > AS_OF)
    if status["inEffect"]:
        assert status["since"] == last["start"] and status["nextContinuanceDue"] > AS_OF


def _all_findings(served: Served, **filters: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report's counts and every finding, walking the pages (the report may hold more than one page)."""
    query = """query($asOf: Date!, $rule: String, $series: String, $severity: Severity, $after: String) {
      findings(asOf: $asOf, rule: $rule, series: $series, severity: $severity, first: 100, after: $after) {
        conforms counts { violation warning info }
        findings { totalCount pageInfo { hasNextPage endCursor } nodes { rule severity series } } } }"""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        report = data(served, query, asOf=AS_OF, after=after, **filters)["findings"]
        nodes += report["findings"]["nodes"]
        if not report["findings"]["pageInfo"]["hasNextPage"]:
            assert report["findings"]["totalCount"] == len(nodes)
            return report, nodes
        after = report["findings"]["pageInfo"]["endCursor"]


def test_findings_filters_and_counts_agree(served: Served) -> None:
    every, nodes = _all_findings(served)
    assert {n["severity"] for n in nodes} <= {"violation", "warning", "info"}  # findings.md's own strings
    for severity in ("violation", "warning", "info"):
        assert every["counts"][severity] == sum(1 for n in nodes if n["severity"] == severity)
    assert every["conforms"] is (every["counts"]["violation"] == 0)
    rule = nodes[0]["rule"]
    _, only = _all_findings(served, rule=rule)
    assert only and all(n["rule"] == rule for n in only)
    assert len(only) == sum(1 for n in nodes if n["rule"] == rule)
    warnings, _ = _all_findings(served, severity="warning")
    assert warnings["counts"] == {"violation": 0, "warning": every["counts"]["warning"], "info": 0}
    _, mine = _all_findings(served, series=SERIES)
    assert mine and all(SERIES in n["series"] for n in mine)


def test_broker_flows_total_the_bundle_commissions_by_series(served: Served) -> None:
    query = """{ brokerFlows(asOf: "2004-12-31", from: "2003-01-01", groupBy: SERIES) {
      group trades commissions directedCommissions payments credits expenditures } }"""
    flows = {f["group"]: f for f in data(served, query)["brokerFlows"]}
    commissions: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for r in _rows("transactions"):
        if "2003-01-01" <= r["date"] <= "2004-12-31":
            commissions[r["series"]] += Decimal(r["commission"])
            counts[r["series"]] += 1
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for r in _rows("benefits"):
        if "2003-01-01" <= r["date"] <= "2004-12-31" and r["kind"] == "credit":
            credits[r["generating_series"]] += Decimal(r["amount"])
    assert {g: Decimal(f["commissions"]) for g, f in flows.items() if f["trades"]} == dict(commissions)
    assert {g: f["trades"] for g, f in flows.items() if f["trades"]} == dict(counts)
    assert {g: Decimal(f["credits"]) for g, f in flows.items() if Decimal(f["credits"])} == \
        {g: c for g, c in credits.items() if c}


def test_relations_can_be_followed_both_ways(served: Served) -> None:
    query = """{ trustees(first: 100) { nodes { id
        ballots(first: 100) { pageInfo { hasNextPage } nodes { vote trustee { id } matter { id meeting { date } } } }
        relationships(first: 100) { nodes { relation subject { kind trustee { id } } object { kind } } }
        status(asOf: "2004-12-31") { inOffice isInterestedPerson isRule12b1Trustee reasons } } } }"""
    trustees = data(served, query)["trustees"]["nodes"]
    ballots = _rows("ballots")
    assert {t["id"] for t in trustees} == {r["id"] for r in _rows("trustees")}
    for t in trustees:
        mine = [b for b in ballots if b["trustee"] == t["id"]]
        page = [b["matter"]["id"] for b in t["ballots"]["nodes"]]
        assert len(page) == min(100, len(mine)) and set(page) <= {b["matter"] for b in mine}
        assert t["ballots"]["pageInfo"]["hasNextPage"] is (len(mine) > 100)
        assert all(b["trustee"]["id"] == t["id"] for b in t["ballots"]["nodes"])
        assert all(r["subject"]["trustee"]["id"] == t["id"] for r in t["relationships"]["nodes"])
        status = t["status"]
        if status and status["isRule12b1Trustee"]:
            assert not status["isInterestedPerson"] and status["inOffice"]
        if status and status["isInterestedPerson"]:
            assert status["reasons"], "an interested trustee comes with its reasons"
    org = data(served, '{ organization(id: "ppm-america") { ... on Organization { roles '
                       'subAdvisedSeries(first: 100) { nodes { id subAdviser { id } } } } } }')["organization"]
    assert "sub_adviser" in org["roles"]
    assert SERIES in {s["id"] for s in org["subAdvisedSeries"]["nodes"]}
    assert all(s["subAdviser"]["id"] == "ppm-america" for s in org["subAdvisedSeries"]["nodes"])


def test_an_agreement_shows_parties_events_and_status(served: Served) -> None:
    event = _rows("agreement_events")[0]
    query = """query($id: String!) { agreement(id: $id) { ... on Agreement { id kind parties { id }
        events(first: 10) { nodes { id event date agreement { id } } }
        status(asOf: "2005-06-30") { inForce since endedOn endReason } } } }"""
    agreement = data(served, query, id=event["agreement"])["agreement"]
    row = next(r for r in _rows("agreements") if r["id"] == event["agreement"])
    assert sorted(p["id"] for p in agreement["parties"]) == sorted(row["parties"].split(";"))
    assert event["id"] in {e["id"] for e in agreement["events"]["nodes"]}
    assert all(e["agreement"]["id"] == row["id"] for e in agreement["events"]["nodes"])
    assert agreement["status"]["since"] is None or agreement["status"]["since"] >= row["effective"]


def test_limits_refuse_deep_wide_and_oversized_requests(served: Served) -> None:
    deep = "{ plan { trust { " + "subAdvisedSeries { nodes { subAdviser { " * 5 + "name" + " } } }" * 5 + " } } }"
    assert "exceeds maximum operation depth" in ask(served, deep)["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: plan {{ name }}" for i in range(LIMITS["max_aliases"] + 1)) + " }"
    assert "aliases" in ask(served, aliases)["errors"][0]["message"]
    tokens = "{ " + " ".join("plan { name }" for _ in range(LIMITS["max_tokens"] // 4)) + " }"
    assert "token" in ask(served, tokens)["errors"][0]["message"].lower()
    # fragment spreads do not get round the alias limit (strawberry-graphql >= 0.315.7)
    fragment = ("fragment F on Query { " + " ".join(f"a{i}: plan {{ name }}" for i in range(20)) + " } "
                "{ ...F b: plan { ... on Plan { " + " ".join(f"c{i}: name" for i in range(15)) + " } } }")
    assert "aliases" in ask(served, fragment)["errors"][0]["message"]
    too_many = ask(served, "{ allSeries(first: 1000) { nodes { id } } }")
    assert "`first` must be between 0 and 100" in too_many["errors"][0]["message"]
    bad_cursor = ask(served, '{ allSeries(after: "bm90IGEgY3Vyc29y") { nodes { id } } }')
    assert "cursor" in bad_cursor["errors"][0]["message"]


def test_a_cursor_of_another_ordering_is_refused(served: Served) -> None:
    page = data(served, "{ allSeries(first: 1) { pageInfo { endCursor } } }")["allSeries"]["pageInfo"]
    wrong = ask(served, "query($c: String!) { allSeries(after: $c, orderBy: NAME) { nodes { id } } }",
                c=page["endCursor"])
    assert "another list or ordering" in wrong["errors"][0]["message"]


def test_introspection_stays_on(served: Served) -> None:
    types = data(served, "{ __schema { types { name } } }")["__schema"]["types"]
    assert {"Series", "Transaction", "PlanStatus", "Finding", "BrokerFlow"} <= {t["name"] for t in types}


def test_user_text_is_bound_not_spliced_into_sparql(served: Served) -> None:
    evil = 'x" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o '
    body = data(served, DASHBOARD, id=evil, asOf=AS_OF)
    assert body["series"]["__typename"] == "NotFound"
    assert data(served, '{ allSeries(first: 1) { nodes { id } } }')["allSeries"]["nodes"]


def test_graphiql_and_the_index_are_served_from_local_files(served: Served) -> None:
    page = httpx.get(served.url + "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert "https://" not in page.text and "unpkg" not in page.text
    for name in ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css"):
        assert f"/graphql/static/{name}" in page.text
        asset = httpx.get(served.url + f"/graphql/static/{name}")
        assert asset.status_code == 200 and len(asset.content) > 1000, name
    assert httpx.get(served.url + "/graphql/static/..%2Fgraphiql.html").status_code == 404
    index = httpx.get(served.url + "/")
    assert index.status_code == 200
    for door in ('href="/graphql"', 'href="/sparql"', 'href="/viz"', 'href="/healthz"'):
        assert door in index.text


def test_schema_graphql_is_the_served_schema() -> None:
    from bepgraph.graphql.schema import schema_sdl

    snapshot = Path(__file__).resolve().parent.parent / "schema.graphql"
    assert snapshot.read_text(encoding="utf-8") == schema_sdl(), (
        "the GraphQL schema changed: if on purpose, run "
        "`python -c 'from bepgraph.graphql.schema import write_sdl; write_sdl(\"schema.graphql\")'`")


class _BrokenStore(CountingStore):
    """A real store whose entity reads fail, as a disk or a server can."""

    def query(self, text, bindings=None, *, default_graphs=None, named_graphs=None, rows=None):  # type: ignore[override]
        if "Properties of a batch of entities" in text:
            raise RuntimeError("secret detail of /var/lib/store")
        return super().query(text, bindings, default_graphs=default_graphs, named_graphs=named_graphs, rows=rows)


def test_internal_faults_are_masked() -> None:
    store = _BrokenStore()
    load_all(store)
    with serve(store) as broken:
        body = ask(broken, DASHBOARD, id=SERIES, asOf=AS_OF)
    assert body["errors"] and all(e["message"] == "Internal error: the service logged it." for e in body["errors"])
    assert "secret" not in str(body)
