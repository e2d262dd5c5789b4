"""Every scan of SPARQL text reads strings, comments and IRIs the same way (``bepgraph.sparql_lexer``).

The store binds values at the head of the WHERE group, the endpoint caps
a SELECT and places an update's USING, the guard looks for SERVICE, a raw
write names the graphs it writes, the remote client picks the Accept header
by the query form: a keyword inside a long string that itself holds a quote,
or in a comment, is text for all of them, never a keyword for one.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from bepgraph.endpoint.guard import GuardError, check_query
from bepgraph.endpoint.results import capped_select
from bepgraph.endpoint.updates import rewrite_update
from bepgraph.raw_writes import ALL, DEFAULT, written_graphs
from bepgraph.remote import query_form
from bepgraph.sparql_lexer import declares_dataset
from bepgraph.store import EmbeddedStore, bind_values

TRICKY = '"""a " WHERE { LIMIT 5 SERVICE <http://elsewhere/> FROM <http://g> """'


def test_a_value_is_bound_at_the_real_where_not_inside_a_long_string_of_the_template() -> None:
    query = f"CONSTRUCT {{ ?x <http://e/label> {TRICKY} }} WHERE {{ ?x <http://e/p> ?o }}"
    bound = bind_values(query, {"x": ox.NamedNode("http://e/a")})
    assert bound.index("VALUES") > bound.index("} WHERE {")
    store = EmbeddedStore()
    store.update('INSERT DATA { GRAPH <http://e/g> { <http://e/a> <http://e/p> 1 . <http://e/b> <http://e/p> 2 } }')
    triples = list(store.query(query, {"x": ox.NamedNode("http://e/a")}))  # type: ignore[arg-type]
    assert [t.subject.value for t in triples] == ["http://e/a"]  # type: ignore[union-attr]


def test_the_result_cap_and_the_dataset_scan_skip_a_long_string_with_a_quote() -> None:
    query = f"SELECT * WHERE {{ ?s ?p {TRICKY} }}"
    assert capped_select(query, 10) == query + "\nLIMIT 11"
    assert not declares_dataset(query)


def test_an_update_gets_its_using_before_the_real_where_only() -> None:
    update = f"INSERT {{ ?s <http://e/q> {TRICKY} }} WHERE {{ ?s ?p ?o }}"
    rewritten = rewrite_update(update, ["http://e/g"], [])
    assert rewritten.count("USING <http://e/g>") == 1
    assert rewritten.index("USING") > rewritten.index('"""', rewritten.index('"""') + 3)


def test_the_guard_reads_service_in_a_long_string_as_text_and_refuses_a_real_one() -> None:
    check_query(f"SELECT * WHERE {{ ?s ?p {TRICKY} }}", None, ())
    with pytest.raises(GuardError):
        check_query("SELECT * WHERE { SERVICE <http://elsewhere/> { ?s ?p ?o } }", None, ())


def test_a_raw_write_counts_a_graph_written_after_a_long_string_holding_a_quote() -> None:
    update = (f"INSERT DATA {{ GRAPH <urn:a> {{ <urn:s> <urn:p> {TRICKY} }} }} ;\n"
              'INSERT DATA { GRAPH <urn:b> { <urn:s> <urn:p> "z" } }')
    assert written_graphs(update) == {DEFAULT, "urn:a", "urn:b"}


def test_a_raw_write_reads_a_hash_inside_an_iri_as_part_of_it_not_as_a_comment() -> None:
    assert written_graphs("DROP GRAPH <urn:x#y> ; DROP GRAPH <urn:b>") == {DEFAULT, "urn:x#y", "urn:b"}


def test_a_raw_write_reads_graph_variables_in_strings_and_comments_as_text_and_a_real_one_as_any_graph() -> None:
    update = ('# GRAPH ?g and DROP ALL are only words here\n'
              'INSERT DATA { GRAPH <urn:a> { <urn:s> <urn:p> """it\'s "GRAPH ?g" """ } }')
    assert written_graphs(update) == {DEFAULT, "urn:a"}
    assert written_graphs("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }") == {ALL, DEFAULT}


def test_the_query_form_is_the_first_form_keyword_outside_comments_and_prefix_names() -> None:
    assert query_form("PREFIX construct: <http://example.org/> SELECT * WHERE { ?s ?p ?o }") == "SELECT"
    assert query_form("# CONSTRUCT { } WHERE { }\nPREFIX ask: <http://example.org/ask#>\n"
                      "describe <http://example.org/x>") == "DESCRIBE"
    assert query_form('ASK { FILTER("SELECT" = """a " CONSTRUCT""") }') == "ASK"
