"""A load killed half-way on a SPARQL server is never counted: its readers are refused until it is dropped.

On disk the next opening drops what a killed load wrote; a server is read by
other processes while a load runs, so they cannot tell a load under way from
one killed. What the load wrote before its commit is in the server's union
default graph, so every door reading the server refuses (naming the way out)
while the load's journal is open, and `bepgraph load --recover` drops it.
Real parts: `oxigraph serve`, the real `bepgraph` command killed with SIGKILL,
the SPARQL door over HTTP.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from bepgraph.errors import LoadUnderWay
from bepgraph.http.app import create_app
from bepgraph.settings import Settings
from bepgraph.store import RemoteStore
from bepgraph.store.journal import JOURNAL

from .servers import OxigraphServer, free_port, oxigraph_server, oxigraph_servers  # noqa: F401  (fixtures)
from .test_load_atomic import generate
from .w3c.runner import running

BEPGRAPH = Path(sys.executable).with_name("bepgraph")
AS_OF = "2004-06-30"
DEADLINE_S = 120.0
BUNDLES = "https://w3id.org/bepgraph/graph/bundle/"
FINDINGS = '{ findings(asOf: "2004-06-30", first: 5) { findings { totalCount } } }'


def bepgraph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BEPGRAPH), *args], capture_output=True, text=True, timeout=600)


def journal_holds_a_graph_with_triples(server: OxigraphServer) -> bool:
    """The load has begun writing: its journal names a graph the server already holds triples of."""
    answer = httpx.post(server.query_url, data={"query": (
        f"ASK {{ GRAPH <{JOURNAL}> {{ ?j ?p ?g }} GRAPH ?g {{ ?s ?q ?o }} }}")},
        headers={"accept": "application/sparql-results+json"}, timeout=30)
    return bool(ox.parse_query_results(answer.content, format=ox.QueryResultsFormat.JSON))


def mid_load(server: OxigraphServer, bundle: Path) -> subprocess.Popen[str]:
    """A real `bepgraph load` of *bundle*, returned once it has begun writing."""
    loader = subprocess.Popen([str(BEPGRAPH), "load", str(bundle), "--store", server.query_url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    until = time.monotonic() + DEADLINE_S
    try:
        while not journal_holds_a_graph_with_triples(server):
            assert loader.poll() is None, "the load ended before it could be caught half-way"
            assert time.monotonic() < until, "the load never began writing"
    except BaseException:
        loader.kill()
        loader.communicate()
        raise
    return loader


def kill_mid_load(server: OxigraphServer, bundle: Path) -> None:
    loader = mid_load(server, bundle)
    loader.send_signal(signal.SIGKILL)
    loader.communicate()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("remote-kill")
    return generate(root / "first", 500, seed=3), generate(root / "second", 4_000, seed=4)


def test_every_door_refuses_a_server_holding_a_killed_load_until_it_is_recovered(
    oxigraph_server: OxigraphServer, bundles: tuple[Path, Path]
) -> None:
    first, second = bundles
    url = oxigraph_server.query_url
    assert bepgraph("load", str(first), "--store", url).returncode == 0
    before = bepgraph("validate", "--store", url, "--as-of", AS_OF, "--format", "json")
    assert before.returncode in (0, 1) and before.stdout

    kill_mid_load(oxigraph_server, second)

    refused = bepgraph("validate", "--store", url, "--as-of", AS_OF, "--format", "json")
    assert refused.returncode == LoadUnderWay.exit_code and not refused.stdout
    assert "has not committed" in refused.stderr and "bepgraph load --recover" in refused.stderr
    assert "Traceback" not in refused.stderr
    store = RemoteStore(url)
    try:
        with pytest.raises(LoadUnderWay):
            store.generation()
        with running(create_app(Settings(load_on_start=False), store=store), free_port()) as base:
            answer = httpx.get(base + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                               timeout=60)
            assert answer.status_code == 503 and answer.json()["error"] == "LoadUnderWay"
            board = httpx.get(base + "/viz/data", params={"view": "structure", "asOf": AS_OF}, timeout=60)
            assert board.status_code == 503 and "has not committed" in board.json()["detail"]
            graphql = httpx.post(base + "/graphql", json={"query": FINDINGS}, timeout=60)
            assert graphql.status_code in (200, 503), graphql.text
            body = graphql.json()
            assert not body.get("data") and "has not committed" in str(body), body
    finally:
        store.close()
    writable = RemoteStore(url)
    with running(create_app(Settings(load_on_start=False, allow_updates=True, token="t"), store=writable),
                 free_port()) as base:
        update = httpx.post(base + "/sparql", data={"update": "INSERT DATA { <urn:x> <urn:y> 1 }"},
                            headers={"authorization": "Bearer t"}, timeout=60)
        assert update.status_code == 503 and update.json()["error"] == "LoadUnderWay", update.text
        for method in ("GET", "PUT"):
            graph = httpx.request(method, base + "/gsp", params={"graph": f"{BUNDLES}first"}, timeout=60,
                                  content=b"<urn:x> <urn:y> 1 ." if method == "PUT" else None,
                                  headers={"authorization": "Bearer t", "content-type": "application/n-triples"})
            assert graph.status_code == 503 and "has not committed" in graph.json()["detail"], (method, graph.text)
    writable.close()
    load_again = bepgraph("load", str(second), "--store", url)  # a new load refuses too: it would hide the leftovers
    assert load_again.returncode == LoadUnderWay.exit_code and "--recover" in load_again.stderr

    recovered = bepgraph("load", "--recover", "--store", url)
    assert recovered.returncode == 0 and "dropped" in recovered.stdout
    after = bepgraph("validate", "--store", url, "--as-of", AS_OF, "--format", "json")
    assert (after.returncode, after.stdout) == (before.returncode, before.stdout)
    untouched = RemoteStore(url)
    try:
        assert not bool(untouched.query("ASK { GRAPH ?g { <urn:x> ?p ?o } }"))  # the refused writes wrote nothing
    finally:
        untouched.close()
    assert "/bundle/second" not in bepgraph("load", "--recover", "--store", url).stdout  # nothing left to drop


def test_a_load_reads_what_it_has_written_and_commits_on_a_server(
    oxigraph_server: OxigraphServer, bundles: tuple[Path, Path]
) -> None:
    first, _ = bundles
    loaded = bepgraph("load", str(first), "--store", oxigraph_server.query_url)
    assert loaded.returncode == 0, loaded.stderr
    store = RemoteStore(oxigraph_server.query_url)
    try:
        assert JOURNAL not in store.named_graphs()
        assert any(graph.endswith("/bundle/first") for graph in store.named_graphs())
        store.generation()  # the journal is closed: readers are served
    finally:
        store.close()


def test_a_load_whose_journal_is_recovered_under_it_commits_nothing(
    oxigraph_server: OxigraphServer, tmp_path: Path
) -> None:
    url = oxigraph_server.query_url
    # large enough that the load is still running when the recover, a process of its own, has started
    big = generate(tmp_path / "big", 30_000, seed=5)
    loader = mid_load(oxigraph_server, big)
    recovered = bepgraph("load", "--recover", "--store", url)  # wrongly, while that load runs
    _, stderr = loader.communicate(timeout=600)

    assert recovered.returncode == 0 and "written by a load that never committed" in recovered.stdout
    assert loader.returncode == 3 and "was dropped while it ran" in stderr and "Traceback" not in stderr, stderr
    store = RemoteStore(url)
    try:
        assert store.named_graphs() == []  # no partial bundle vouched for by a provenance record, no journal
    finally:
        store.close()
