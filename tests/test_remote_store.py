"""The remote store against a live ``oxigraph serve``: the same graph as the embedded store, over HTTP."""

from __future__ import annotations

import copy
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.cli import main
from bepgraph.errors import BundleError, StoreError
from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import BEP, entity_iri, graph_iri
from bepgraph.sources.tables import TABLES
from bepgraph.store import EmbeddedStore, RemoteStore, Store

from .bundles import MINI, write_bundle
from .servers import OxigraphServer, free_port, oxigraph_server, oxigraph_servers  # noqa: F401

pytestmark = pytest.mark.server

COUNT = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } }"


def per_table_counts(store: Store, graph: str) -> dict[str, int]:
    return {
        name: int(next(iter(store.query(COUNT, {"g": ox.NamedNode(graph),
                                                "class": ox.NamedNode(BEP + t.cls)})))["n"].value)
        for name, t in TABLES.items()
    }


def snapshot(store: Store) -> list[bytes]:
    return sorted(store.dump(ox.RdfFormat.N_QUADS).splitlines())


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "mini", copy.deepcopy(MINI))


@pytest.fixture
def remote(oxigraph_server: OxigraphServer, mini: Path) -> RemoteStore:
    store = RemoteStore(oxigraph_server.query_url)
    load_all(store, [mini])
    yield store
    store.close()


def test_remote_store_holds_what_the_embedded_store_holds(remote: RemoteStore, mini: Path) -> None:
    assert_holds_what_the_embedded_store_holds(remote, mini)


def assert_holds_what_the_embedded_store_holds(remote: RemoteStore, mini: Path) -> None:
    """Per table, per graph and (for graphs without blank nodes or load times) triple for triple."""
    embedded = EmbeddedStore()
    load_all(embedded, [mini])
    graph = bundle_graph(mini)
    assert per_table_counts(remote, graph) == per_table_counts(embedded, graph)
    assert per_table_counts(remote, graph)["transactions"] == 2
    assert remote.named_graphs() == embedded.named_graphs()
    for g in embedded.named_graphs():
        assert remote.count(g) == embedded.count(g), g
    for g in (graph_iri("filing"), graph):  # no blank nodes and no load times: equal triple for triple
        assert sorted(remote.dump(ox.RdfFormat.N_TRIPLES, g).splitlines()) == \
            sorted(embedded.dump(ox.RdfFormat.N_TRIPLES, g).splitlines()), g


def test_remote_query_binds_values(remote: RemoteStore) -> None:
    query = "SELECT ?c WHERE { ?t <" + BEP + "commission> ?c }"
    rows = list(remote.query(query, {"t": ox.NamedNode(entity_iri("transactions", "T-2"))}))
    assert [r["c"].value for r in rows] == ["99.1"]
    assert list(remote.query(query, {"t": ox.Literal('"} } ; DROP ALL #')})) == []
    assert bool(remote.query("ASK { ?s ?p ?o }"))
    triples = list(remote.query("CONSTRUCT { ?t ?p ?o } WHERE { ?t ?p ?o }",
                                {"t": ox.NamedNode(entity_iri("transactions", "T-2"))}))
    assert ox.Triple(ox.NamedNode(entity_iri("transactions", "T-2")), ox.NamedNode(BEP + "directed"),
                     ox.Literal("false", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))) \
        in triples


@pytest.mark.parametrize("fmt", [ox.RdfFormat.N_QUADS, ox.RdfFormat.TURTLE, ox.RdfFormat.JSON_LD])
def test_remote_dump_parses_back(remote: RemoteStore, fmt: ox.RdfFormat) -> None:
    parsed = list(ox.parse(remote.dump(fmt), format=fmt))
    if fmt is ox.RdfFormat.TURTLE:
        assert 0 < len(parsed) <= remote.count()
    else:
        assert len(parsed) == remote.count()


def test_drop_graph_removes_only_that_graph(remote: RemoteStore, mini: Path) -> None:
    graph = bundle_graph(mini)
    others = {g: remote.count(g) for g in remote.named_graphs() if g != graph}
    remote.drop_graph(graph)
    assert graph not in remote.named_graphs()
    assert {g: remote.count(g) for g in remote.named_graphs()} == others


def test_bad_bundle_leaves_the_remote_store_unchanged(remote: RemoteStore, tmp_path: Path) -> None:
    tables = copy.deepcopy(MINI)
    tables["transactions"][0]["commission"] = "1,250.00"
    before = snapshot(remote)
    with pytest.raises(BundleError):
        load_all(remote, [write_bundle(tmp_path / "bad", tables)])
    assert snapshot(remote) == before


def test_unreachable_server_is_a_store_error(mini: Path) -> None:
    store = RemoteStore(f"http://127.0.0.1:{free_port()}/query", timeout=5)
    with pytest.raises(StoreError, match="could not be reached"):
        store.query("ASK { ?s ?p ?o }")
    with pytest.raises(StoreError, match="could not be reached"):
        load_all(store, [mini])


def test_cli_exits_3_with_a_message_when_the_server_is_unreachable(
    mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    assert main(["load", str(mini), "--store", url]) == 3
    err = capsys.readouterr().err
    assert "could not be reached" in err and "Traceback" not in err


def test_cli_loads_into_and_exports_from_a_server(oxigraph_server: OxigraphServer, mini: Path,
                                                  tmp_path: Path) -> None:
    assert main(["load", str(mini), "--store", oxigraph_server.query_url]) == 0
    out = tmp_path / "export.nq"
    assert main(["export", "--store", oxigraph_server.query_url, "--format", "nquads", "-o", str(out)]) == 0
    graphs = {q.graph_name.value for q in ox.parse(out.read_bytes(), format=ox.RdfFormat.N_QUADS)}
    assert bundle_graph(mini) in graphs and graph_iri("filing") in graphs


def test_a_conflicting_bundle_leaves_the_remote_store_unchanged(remote: RemoteStore, tmp_path: Path) -> None:
    tables = copy.deepcopy(MINI)
    tables["transactions"][0]["commission"] = "1300.00"
    before = snapshot(remote)
    with pytest.raises(BundleError, match="column commission: '1300' conflicts with '1250'"):
        load_all(remote, [write_bundle(tmp_path / "other", tables)])
    assert snapshot(remote) == before  # no staging graph left behind either
    assert not [g for g in remote.named_graphs() if "/graph/staging/" in g or g.endswith("/graph/journal")]


def test_a_re_export_on_the_server_counts_once_and_a_replacement_keeps_the_others(
        remote: RemoteStore, mini: Path, tmp_path: Path) -> None:
    again = write_bundle(tmp_path / "again", copy.deepcopy(MINI))
    load_all(remote, [again])
    total = f"SELECT (COUNT(?t) AS ?n) WHERE {{ ?t a <{BEP}Transaction> }}"
    assert next(iter(remote.query(total)))["n"].value == "2"  # type: ignore[call-overload]
    smaller = copy.deepcopy(MINI)
    del smaller["transactions"][1]
    load_all(remote, [write_bundle(mini, smaller)])  # the first export corrected: T-2 is still in "again"
    assert next(iter(remote.query(total)))["n"].value == "2"  # type: ignore[call-overload]
    assert remote.count(bundle_graph(again)) > 0
