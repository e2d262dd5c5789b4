"""Named queries: the banner declares typed parameters; user text becomes a typed term, bound, never query text."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.errors import ParameterError, QueryError
from bepgraph.loading import load_all
from bepgraph.namespaces import BEP, entity_iri
from bepgraph.sparql import Parameter, find_query, named_queries, parse_banner, run, to_term
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle

XSD = "http://www.w3.org/2001/XMLSchema#"

TRADES = f"""# Title: Trades of a series
# Purpose: Commissions of one series' trades from a date on,
#   for the tests of the named-query runner.
# Parameters:
#   ?series  series      the series, by bundle id
#   ?from    xsd:date    first trade date counted (optional)
# Columns:
#   ?trade       the transaction
#   ?commission  its commission
PREFIX bep: <{BEP}>
SELECT ?trade ?commission WHERE {{
  ?trade bep:series ?series ; bep:commission ?commission ; bep:date ?date .
  FILTER(!BOUND(?from) || ?date >= ?from)
}} ORDER BY ?trade
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path_factory.mktemp("nq") / "mini", MINI)], with_ontology=False)
    return store


@pytest.fixture
def trades(tmp_path: Path) -> Path:
    path = tmp_path / "trades.rq"
    path.write_text(TRADES, encoding="utf-8")
    return path


def test_banner_gives_title_purpose_parameters_and_columns(trades: Path) -> None:
    q = parse_banner("trades", trades, TRADES)
    assert q.title == "Trades of a series"
    assert q.purpose == "Commissions of one series' trades from a date on, for the tests of the named-query runner."
    assert q.parameters == (
        Parameter("series", "series", "the series, by bundle id", False),
        Parameter("from", "xsd:date", "first trade date counted (optional)", True),
    )
    assert q.columns == {"trade": "the transaction", "commission": "its commission"}


def test_unknown_parameter_type_is_an_error_of_the_file(tmp_path: Path) -> None:
    text = "# Title: x\n# Parameters:\n#   ?n  xsd:float  a number\nSELECT * WHERE { ?s ?p ?n }\n"
    with pytest.raises(QueryError, match="unknown type 'xsd:float'"):
        parse_banner("x", tmp_path / "x.rq", text)


def test_every_query_file_of_the_project_has_a_banner_and_is_valid_sparql() -> None:
    queries = named_queries()
    assert queries, "queries/ holds the named queries"
    empty = EmbeddedStore()
    for name, q in queries.items():
        assert q.title, f"{name} has no '# Title:'"
        body = "\n".join(line for line in q.text.splitlines() if not line.lstrip().startswith("#"))
        for p in q.parameters:
            assert f"?{p.name}" in body, f"{name} declares ?{p.name} but never uses it"
        result = empty.query(q.text)  # parses and runs on an empty graph
        if not isinstance(result, ox.QueryBoolean):
            list(result)


def test_find_query_by_name_last_part_or_file(trades: Path) -> None:
    some = next(iter(named_queries()))
    assert find_query(some).name == some
    assert find_query(str(trades)).title == "Trades of a series"
    with pytest.raises(QueryError, match="no query named 'no-such-query'"):
        find_query("no-such-query")


@pytest.mark.parametrize(("kind", "raw", "term"), [
    ("xsd:date", "2002-07-01", ox.Literal("2002-07-01", datatype=ox.NamedNode(XSD + "date"))),
    ("xsd:decimal", "1250.00", ox.Literal("1250.00", datatype=ox.NamedNode(XSD + "decimal"))),
    ("xsd:decimal", "-0.5", ox.Literal("-0.5", datatype=ox.NamedNode(XSD + "decimal"))),
    ("xsd:integer", "42", ox.Literal("42", datatype=ox.NamedNode(XSD + "integer"))),
    ("xsd:boolean", "true", ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))),
    ("xsd:string", '"} } ; DROP ALL #', ox.Literal('"} } ; DROP ALL #')),
    ("iri", "https://example.org/x", ox.NamedNode("https://example.org/x")),
    ("series", "ppm-america-jnl-value-fund", ox.NamedNode(entity_iri("series", "ppm-america-jnl-value-fund"))),
    ("organization", "a b/c", ox.NamedNode(entity_iri("organizations", "a b/c"))),
])
def test_user_text_becomes_a_typed_term(kind: str, raw: str, term: ox.NamedNode | ox.Literal) -> None:
    assert to_term(Parameter("p", kind, "", False), raw) == term


@pytest.mark.parametrize(("kind", "raw"), [
    ("xsd:date", "2003-02-30"), ("xsd:date", "16/05/2003"),
    ("xsd:decimal", "1,250.00"), ("xsd:decimal", "1e3"), ("xsd:decimal", "NaN"), ("xsd:decimal", "Infinity"),
    ("xsd:integer", "4.5"), ("xsd:boolean", "yes"), ("iri", "not an iri"),
])
def test_malformed_value_is_a_parameter_error_naming_it(kind: str, raw: str) -> None:
    with pytest.raises(ParameterError, match=f"parameter p: '{raw}' is not a valid {kind}"):
        to_term(Parameter("p", kind, "", False), raw)


def test_run_binds_typed_values(store: EmbeddedStore, trades: Path) -> None:
    q = find_query(str(trades))
    every = list(run(store, q, {"series": "ppm-america-jnl-value-fund"}))
    assert [r["trade"].value.rsplit("/", 1)[-1] for r in every] == ["T-1", "T-2"]
    later = list(run(store, q, {"series": "ppm-america-jnl-value-fund", "from": "2002-07-02"}))
    assert [r["trade"].value.rsplit("/", 1)[-1] for r in later] == ["T-2"]
    assert list(run(store, q, {"series": '"} } ; DROP ALL #'})) == []


def test_run_rejects_unknown_and_missing_parameters(store: EmbeddedStore, trades: Path) -> None:
    q = find_query(str(trades))
    with pytest.raises(ParameterError, match="has no parameter broker"):
        run(store, q, {"series": "x", "broker": "y"})
    with pytest.raises(ParameterError, match="needs --param series="):
        run(store, q, {})
