"""Every scan of SPARQL text reads strings, comments and IRIs the same way (``bepgraph.sparql_lexer``).

The store binds values at the head of the WHERE group, the endpoint caps
a SELECT and places an update's USING, the guard looks for SERVICE: a
keyword inside a long string that itself holds a quote is text for all of
them, never a keyword for one.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from bepgraph.endpoint.guard import GuardError, check_query
from bepgraph.endpoint.results import capped_select
from bepgraph.endpoint.updates import rewrite_update
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
