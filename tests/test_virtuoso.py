"""The remote store against a live OpenLink Virtuoso (Debian's virtuoso-opensource), started by the tests.

Virtuoso is the server users most often already run: its endpoints are not
Oxigraph's (updates and the Graph Store Protocol behind digest auth), its
default graph holds its own system graphs, and it cuts answers at its
ResultSetMaxRows with a 200. Each of these is pinned here against the real
server.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from bepgraph.errors import StoreError
from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import BEP, entity_iri, graph_iri
from bepgraph.remote import TruncatedAnswer
from bepgraph.store import EmbeddedStore, RemoteStore

from .bundles import MINI, write_bundle
from .graphql_server import serve
from .servers import (VirtuosoServer, _virtuoso_module, virtuoso_server, virtuoso_servers,  # noqa: F401
                      virtuoso_template)
from .test_remote_store import assert_holds_what_the_embedded_store_holds, snapshot

pytestmark = pytest.mark.server
XSD = "http://www.w3.org/2001/XMLSchema#"
BEPGRAPH = Path(sys.executable).with_name("bepgraph")


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "mini", copy.deepcopy(MINI))


@pytest.fixture
def remote(virtuoso_server: VirtuosoServer, mini: Path) -> RemoteStore:
    store = virtuoso_server.store()
    load_all(store, [mini])
    yield store
    store.close()


def test_virtuoso_holds_what_the_embedded_store_holds(remote: RemoteStore, mini: Path) -> None:
    assert_holds_what_the_embedded_store_holds(remote, mini)


def test_virtuoso_system_graphs_are_neither_listed_nor_unioned(remote: RemoteStore, mini: Path) -> None:
    embedded = EmbeddedStore()
    load_all(embedded, [mini])
    # the server holds graphs of its own (virtrdf:, LDP...): they are there, but not the user's
    raw = remote.client.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert b"openlinksw.com/schemas/virtrdf" in raw.body
    assert all(g.startswith(graph_iri("")) for g in remote.named_graphs())
    every = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert next(iter(remote.query(every)))["n"].value == next(iter(embedded.query(every)))["n"].value  # type: ignore[call-overload]
    assert remote.count() == embedded.count()


def test_virtuoso_booleans_come_back_as_loaded(remote: RemoteStore) -> None:
    """Virtuoso keeps true as 1 and writes "1"^^xsd:boolean in JSON results: read back as true."""
    t2 = ox.NamedNode(entity_iri("transactions", "T-2"))
    rows = list(remote.query(f"SELECT ?d WHERE {{ ?t <{BEP}directed> ?d }}", {"t": t2}))
    assert [r["d"] for r in rows] == [ox.Literal("false", datatype=ox.NamedNode(XSD + "boolean"))]
    triples = list(remote.query("CONSTRUCT { ?t ?p ?o } WHERE { ?t ?p ?o }", {"t": t2}))
    assert ox.Triple(t2, ox.NamedNode(BEP + "directed"), ox.Literal("false", datatype=ox.NamedNode(XSD + "boolean"))) \
        in triples


def test_a_bad_bundle_leaves_virtuoso_unchanged(remote: RemoteStore, tmp_path: Path) -> None:
    tables = copy.deepcopy(MINI)
    tables["transactions"][0]["commission"] = "1300.00"
    before = snapshot(remote)
    with pytest.raises(Exception, match="conflicts"):
        load_all(remote, [write_bundle(tmp_path / "other", tables)])
    assert snapshot(remote) == before


def test_wrong_credentials_are_a_store_error_naming_the_settings(virtuoso_server: VirtuosoServer) -> None:
    with closing(RemoteStore(remote=replace(virtuoso_server.remote, password="not-the-password"))) as store, \
            pytest.raises(StoreError, match="BEPGRAPH_STORE_PASSWORD"):
        store.update(f"INSERT DATA {{ GRAPH <{graph_iri('x')}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    with closing(virtuoso_server.store()) as right:
        assert right.named_graphs() == []


def _fill(store: RemoteStore, n: int) -> None:
    body = " ".join(f"<urn:s{i}> <urn:p> {i} ." for i in range(n))
    store.update(f"INSERT DATA {{ GRAPH <{graph_iri('many')}> {{ {body} }} }}")


@pytest.fixture(scope="module")
def capped(virtuoso_servers) -> VirtuosoServer:  # type: ignore[no-untyped-def]
    """A Virtuoso whose ResultSetMaxRows is 5, holding 12 triples in one of the project's graphs."""
    server = virtuoso_servers(max_rows=5)
    with closing(RemoteStore(remote=replace(server.remote, max_rows=None))) as store:
        _fill(store, 12)
    return server


def test_an_answer_cut_at_virtuoso_s_row_cap_is_an_error_naming_result_set_max_rows(capped: VirtuosoServer) -> None:
    # the server's header alone tells
    with closing(RemoteStore(remote=replace(capped.remote, max_rows=None))) as store:
        with pytest.raises(TruncatedAnswer, match="ResultSetMaxRows"):
            list(store.query("SELECT ?s WHERE { ?s <urn:p> ?o }"))
        assert len(list(store.query("SELECT ?s WHERE { ?s <urn:p> ?o } LIMIT 4"))) == 4  # under the cap: whole


def test_a_construct_virtuoso_cuts_without_saying_is_refused(capped: VirtuosoServer) -> None:
    """Virtuoso cuts a CONSTRUCT at its cap with no header: the configured cap and the dump's count tell."""
    construct = "CONSTRUCT { ?s <urn:p> ?o } WHERE { ?s <urn:p> ?o }"
    with closing(RemoteStore(remote=capped.remote)) as configured, \
            pytest.raises(TruncatedAnswer, match="BEPGRAPH_STORE_MAX_ROWS=5"):
        list(configured.query(construct))
    with closing(RemoteStore(remote=replace(capped.remote, max_rows=None))) as unset:
        assert 0 < len(list(unset.query(construct))) < 12  # what a client without the setting would get
        with pytest.raises(TruncatedAnswer, match="ResultSetMaxRows"):
            unset.dump(ox.RdfFormat.N_TRIPLES, graph_iri("many"))
        with pytest.raises(TruncatedAnswer, match="ResultSetMaxRows"):
            unset.dump(ox.RdfFormat.N_QUADS)


def test_a_partial_answer_at_virtuoso_s_time_limit_is_an_error_naming_max_query_execution_time(
        virtuoso_servers) -> None:  # type: ignore[no-untyped-def]
    server = virtuoso_servers(max_seconds=1)
    slow = ("SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:p> ?x . ?b <urn:p> ?y . ?c <urn:p> ?z "
            "FILTER(?x + ?y + ?z > -1) }")
    with closing(server.store()) as store:
        _fill(store, 3000)
        with pytest.raises(TruncatedAnswer, match="MaxQueryExecutionTime"):
            list(store.query(slow))


def test_the_cli_loads_into_and_exports_from_virtuoso_with_credentials_from_the_environment(
        virtuoso_server: VirtuosoServer, mini: Path, tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEPGRAPH_STORE")}, **virtuoso_server.env}
    load = subprocess.run([str(BEPGRAPH), "load", str(mini)], env=env, capture_output=True, text=True, timeout=300)
    assert load.returncode == 0, load.stderr
    out = tmp_path / "export.nq"
    export = subprocess.run([str(BEPGRAPH), "export", "--format", "nquads", "-o", str(out)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stderr
    graphs = {q.graph_name.value for q in ox.parse(out.read_bytes(), format=ox.RdfFormat.N_QUADS)}
    assert bundle_graph(mini) in graphs and graph_iri("filing") in graphs
    assert all(g.startswith(graph_iri("")) for g in graphs)  # none of Virtuoso's own graphs
    wrong = subprocess.run([str(BEPGRAPH), "load", str(mini)], capture_output=True, text=True, timeout=300,
                           env={**env, "BEPGRAPH_STORE_PASSWORD": "wrong"})
    assert wrong.returncode == 3 and "BEPGRAPH_STORE_PASSWORD" in wrong.stderr and "Traceback" not in wrong.stderr


def test_sparql_door_forwards_to_virtuoso_and_refuses_a_cut_answer(capped: VirtuosoServer) -> None:
    store = RemoteStore(remote=replace(capped.remote, max_rows=None))
    with closing(store), serve(store) as served:
        whole = httpx.post(served.url + "/sparql", data={"query": "SELECT ?s WHERE { ?s <urn:p> ?o } LIMIT 3"},
                           headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert whole.status_code == 200 and len(whole.json()["results"]["bindings"]) == 3
        cut = httpx.post(served.url + "/sparql", data={"query": "SELECT ?s WHERE { ?s <urn:p> ?o }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert cut.status_code == 502 and "ResultSetMaxRows" in cut.text
