"""The embedded store: in memory and on disk, named graphs, dumps, and bound values that stay values."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.errors import QueryError, StoreError
from bepgraph.loading import load_all
from bepgraph.namespaces import graph_iri
from bepgraph.store import EmbeddedStore, bind_values, open_store

from .bundles import MINI, write_bundle

G1, G2 = graph_iri("test/one"), graph_iri("test/two")
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
NT_A = b'<https://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "a" .\n'
NT_B = b'<https://example.org/b> <http://www.w3.org/2000/01/rdf-schema#label> "b" .\n'
INJECTION = '"} } ; DROP ALL #'


@pytest.fixture
def loaded(tmp_path: Path) -> EmbeddedStore:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "mini", MINI)])
    return store


def test_open_store_chooses_the_backend_by_location(tmp_path: Path) -> None:
    assert open_store(None).location == "memory"
    assert open_store("memory").location == "memory"
    on_disk = open_store(str(tmp_path / "db"))
    assert isinstance(on_disk, EmbeddedStore) and on_disk.location == str(tmp_path / "db")
    on_disk.close()
    assert open_store("http://127.0.0.1:9/query").location == "http://127.0.0.1:9/query"


def test_on_disk_store_keeps_its_data_after_close_and_reopen(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    store = EmbeddedStore(folder)
    load_all(store, [write_bundle(tmp_path / "mini", MINI)])
    graphs, quads = store.named_graphs(), store.count()
    store.close()
    again = EmbeddedStore(folder)
    try:
        assert again.named_graphs() == graphs
        assert again.count() == quads > 0
    finally:
        again.close()


def test_a_folder_that_cannot_hold_a_store_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the store"):
        EmbeddedStore(blocker / "db")


def test_named_graphs_are_listed_and_replace_graph_replaces() -> None:
    store = EmbeddedStore()
    store.replace_graph(G1, NT_A)
    store.replace_graph(G2, NT_A + NT_B)
    assert store.named_graphs() == sorted([G1, G2])
    store.replace_graph(G2, NT_B)
    assert store.count(G2) == 1
    labels = store.query(f"SELECT ?l WHERE {{ GRAPH ?g {{ ?s <{LABEL}> ?l }} }}", {"g": ox.NamedNode(G2)})
    assert [r["l"].value for r in labels] == ["b"]
    assert store.count(G1) == 1
    store.drop_graph(G1)
    assert store.named_graphs() == [G2]


def test_default_graph_is_the_union_of_the_named_graphs() -> None:
    store = EmbeddedStore()
    store.replace_graph(G1, NT_A)
    store.replace_graph(G2, NT_B)
    rows = store.query(f"SELECT ?l WHERE {{ ?s <{LABEL}> ?l }} ORDER BY ?l")
    assert [r["l"].value for r in rows] == ["a", "b"]
    only_one = store.query(f"SELECT ?l WHERE {{ ?s <{LABEL}> ?l }}", default_graphs=[G1])
    assert [r["l"].value for r in only_one] == ["a"]


def test_bad_n_triples_is_a_store_error_naming_the_graph() -> None:
    store = EmbeddedStore()
    with pytest.raises(StoreError, match=G1):
        store.replace_graph(G1, b"<https://example.org/a> not-a-term .\n")


@pytest.mark.parametrize(("name", "fmt", "per_graph"), [
    ("nquads", ox.RdfFormat.N_QUADS, True),
    ("jsonld", ox.RdfFormat.JSON_LD, True),
    ("trig", ox.RdfFormat.TRIG, True),
    ("turtle", ox.RdfFormat.TURTLE, False),
    ("ntriples", ox.RdfFormat.N_TRIPLES, False),
])
def test_dump_parses_back_to_the_same_count(loaded: EmbeddedStore, name: str, fmt: ox.RdfFormat,
                                            per_graph: bool) -> None:
    data = loaded.dump(fmt)
    parsed = list(ox.parse(data, format=fmt))
    if per_graph:
        assert len(parsed) == loaded.count()
        assert {q.graph_name.value for q in parsed} == set(loaded.named_graphs())
    else:  # a graph-only format holds the union: each distinct triple once
        union = next(iter(loaded.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o "
                                       "WHERE { GRAPH ?g { ?s ?p ?o } } }")))
        assert len(parsed) == int(union["n"].value)


def test_dump_of_one_graph_holds_only_that_graph(loaded: EmbeddedStore) -> None:
    graph = graph_iri("filing")
    parsed = list(ox.parse(loaded.dump(ox.RdfFormat.TURTLE, graph), format=ox.RdfFormat.TURTLE))
    assert len(parsed) == loaded.count(graph)


def test_bound_value_that_looks_like_query_text_is_matched_as_data(loaded: EmbeddedStore) -> None:
    before = loaded.count()
    query = f"SELECT ?s WHERE {{ ?s <{LABEL}> ?name }}"
    bound = bind_values(query, {"name": ox.Literal(INJECTION)})
    assert "DROP ALL" in bound and bound.count("WHERE") == 1
    assert list(loaded.query(query, {"name": ox.Literal(INJECTION)})) == []
    assert loaded.count() == before

    # the same text stored as data is found by the same bound query, character for character
    loaded.replace_graph(G1, f'<https://example.org/x> <{LABEL}> "{INJECTION.replace(chr(34), chr(92) + chr(34))}" .\n'
                         .encode())
    rows = list(loaded.query(query, {"name": ox.Literal(INJECTION)}))
    assert [r["s"].value for r in rows] == ["https://example.org/x"]


def test_bound_iri_cannot_close_its_brackets(loaded: EmbeddedStore) -> None:
    with pytest.raises(ValueError):
        ox.NamedNode("https://example.org/> } ; DROP ALL #")
    rows = loaded.query(f"SELECT ?l WHERE {{ ?s <{LABEL}> ?l }}", {"s": ox.NamedNode("https://example.org/%3E%7D")})
    assert list(rows) == []


def test_binding_goes_into_a_group_opened_without_where(loaded: EmbeddedStore) -> None:
    ask = f"ASK {{ ?s <{LABEL}> ?l }}"
    assert bool(loaded.query(ask, {"l": ox.Literal("JNL Series Trust")}))
    assert not bool(loaded.query(ask, {"l": ox.Literal(INJECTION)}))


def test_binding_skips_where_inside_strings_comments_and_a_construct_template(loaded: EmbeddedStore) -> None:
    query = ("# not here: WHERE {\n"
             f'CONSTRUCT {{ ?s <{LABEL}> "WHERE {{" }} WHERE {{ ?s <{LABEL}> ?l }}')
    bound = bind_values(query, {"l": ox.Literal("JNL Series Trust")})
    assert bound.index("VALUES") > bound.rindex("WHERE {")
    assert len(list(loaded.query(query, {"l": ox.Literal("JNL Series Trust")}))) == 1


def test_bad_variable_name_or_value_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="not a SPARQL variable name"):
        bind_values("SELECT * WHERE { ?s ?p ?o }", {"s) } DROP ALL #": ox.Literal("x")})
    with pytest.raises(QueryError, match="not an RDF term"):
        bind_values("SELECT * WHERE { ?s ?p ?o }", {"s": "raw text"})  # type: ignore[dict-item]


def test_syntax_error_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="syntax"):
        EmbeddedStore().query("SELECT WHERE {")
