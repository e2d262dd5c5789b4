"""Nothing unknown passes silently: an id the loaded facts don't know is an error at every door,
and a known filter that matches nothing says so instead of "the graph conforms"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bepgraph.cli import main
from bepgraph.known_ids import nearest

from .graphql_server import Served, serve_example


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve_example() as s:
        yield s


def graphql(served: Served, query: str) -> dict[str, Any]:
    response = httpx.post(served.url + "/graphql", json={"query": query}, timeout=300)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("argv", "said"), [
    (["validate", "--as-of", "2004-06-30", "--series", "ppm-america-jnl-value-fnd"],
     "unknown series 'ppm-america-jnl-value-fnd'; nearest known: ppm-america-jnl-value-fund"),
    (["validate", "--as-of", "2004-06-30", "--rule", "BEP-99.9"], "unknown rule 'BEP-99.9'; nearest known: BEP-9."),
    (["query", "benefits-overspent", "--param", "series=no-such-fund"], "unknown series 'no-such-fund'"),
    (["query", "commissions-and-credits-by-broker-series-quarter", "--param", "broker=no-such-broker"], "unknown organization 'no-such-broker'"),
])
def test_the_cli_exits_2_naming_the_unknown_id_and_the_nearest_known(
        argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert said in captured.err and captured.out == ""


def test_a_known_filter_that_matches_nothing_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--as-of", "2002-06-30", "--rule", "BEP-2.1"]) == 0
    out = capsys.readouterr().out
    assert out == "No findings for BEP-2.1 as of 2002-06-30.\n" and "conforms" not in out


def test_graphql_findings_with_an_unknown_series_or_rule_is_a_not_found_error(served: Served) -> None:
    answer = graphql(served, '{ findings(asOf: "2004-06-30", series: "ppm-america-jnl-value-fnd") { conforms } }')
    error = answer["errors"][0]
    assert answer["data"] is None and "unknown series 'ppm-america-jnl-value-fnd'" in error["message"]
    assert error["extensions"] == {"code": "NOT_FOUND", "kind": "series", "id": "ppm-america-jnl-value-fnd",
                                   "nearest": error["extensions"]["nearest"]}
    assert error["extensions"]["nearest"][0] == "ppm-america-jnl-value-fund"
    answer = graphql(served, '{ findings(asOf: "2004-06-30", rule: "BEP-99.9") { conforms } }')
    assert answer["errors"][0]["extensions"]["kind"] == "rule"
    answer = graphql(served, '{ transactions(series: "no-such-fund") { edges { node { id } } } }')
    assert "unknown series 'no-such-fund'" in answer["errors"][0]["message"]


def test_graphql_findings_of_a_known_filter_that_matches_nothing_carry_a_note(served: Served) -> None:
    answer = graphql(served, '{ findings(asOf: "2002-06-30", rule: "BEP-2.1") { note findings { totalCount } } }')
    report = answer["data"]["findings"]
    assert report == {"note": "no findings for BEP-2.1 as of 2002-06-30", "findings": {"totalCount": 0}}
    every = graphql(served, '{ findings(asOf: "2004-06-30") { note findings { totalCount } } }')["data"]["findings"]
    assert every["note"] is None and every["findings"]["totalCount"] > 0


def test_viz_data_refuses_a_parameter_it_does_not_take(served: Served) -> None:
    response = httpx.get(served.url + "/viz/data", params={"view": "money", "series": "no-such-fund"}, timeout=60)
    assert response.status_code == 400 and "parameter series" in response.json()["detail"]


def test_nearest_prefers_close_ids_and_always_suggests_some() -> None:
    assert nearest("jnl-valu", ["jnl-value", "zzz", "jnl-growth"])[0] == "jnl-value"
    assert nearest("qqqq", ["a", "b"]) != []
