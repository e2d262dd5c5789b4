"""Loads handed to the server's own bulk loader (``bulk_load.py``), against a real Virtuoso and ``oxigraph serve``.

The promise is the one of any load: the same graph as a load through the
Graph Store Protocol (one holder per fact, conflicts refused before anything
is written), all or nothing (a loader that fails, dies or skips a line
leaves the store as it was), and a clear error when the loader is
misconfigured.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph import bulk_load
from bepgraph.bulk_load import BulkLoadError
from bepgraph.errors import BundleError, ParameterError
from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import BEP, PROV
from bepgraph.settings import BulkSettings, RemoteSettings
from bepgraph.store import RemoteStore, Store

from .bundles import MINI, write_bundle
from .servers import (ISQL, OxigraphServer, VirtuosoServer, _virtuoso_module, oxigraph_server,  # noqa: F401
                      oxigraph_servers, virtuoso_server, virtuoso_servers, virtuoso_template)
from .test_remote_store import snapshot

pytestmark = pytest.mark.server
BEPGRAPH = Path(sys.executable).with_name("bepgraph")
TOTAL = f"SELECT (COUNT(?t) AS ?n) WHERE {{ ?t a <{BEP}Transaction> }}"


def graph_of(store: Store) -> ox.Dataset:
    """Every quad but the load times, blank nodes canonicalized: equal for equal loads on any server."""
    kept = [q for q in ox.parse(store.dump(ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
            if q.predicate.value != PROV + "generatedAtTime"]
    dataset = ox.Dataset(kept)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def total(store: Store) -> int:
    return int(next(iter(store.query(TOTAL)))["n"].value)  # type: ignore[call-overload]


def leftovers(store: Store) -> list[str]:
    return [g for g in store.named_graphs() if "/graph/staging/" in g or g.endswith("/graph/journal")]


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "mini", copy.deepcopy(MINI))


@pytest.fixture
def no_graph_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk load must not write through the Graph Store: any chunk sent that way fails the test."""
    def refuse(self: RemoteStore, graph: str, ntriples: bytes) -> None:
        raise AssertionError(f"a chunk of <{graph}> went through the Graph Store")
    monkeypatch.setattr(RemoteStore, "append_graph", refuse)


@pytest.fixture
def kept() -> Iterator[list[Store]]:
    """Stores a test opens, closed when it ends."""
    stores: list[Store] = []
    yield stores
    for store in stores:
        store.close()


def keep(stores: list[Store], store: RemoteStore) -> RemoteStore:
    stores.append(store)
    return store


def script(folder: Path, name: str, body: str) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


# --- Virtuoso ---------------------------------------------------------------------------------------


@pytest.fixture
def bulk(virtuoso_server: VirtuosoServer) -> Iterator[RemoteStore]:
    store = virtuoso_server.store(virtuoso_server.bulk)
    yield store
    store.close()


def test_virtuoso_bulk_load_gives_the_graph_of_a_graph_store_load(
        virtuoso_server: VirtuosoServer, mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        kept: list[Store]) -> None:
    again = write_bundle(tmp_path / "again", copy.deepcopy(MINI))  # a re-export: one holder per fact
    plain = keep(kept, virtuoso_server.store())
    load_all(plain, [mini, again])
    expected, expected_total = graph_of(plain), total(plain)
    virtuoso_server.clear()
    calls = tmp_path / "isql-calls"
    logging = script(tmp_path, "isql", f'echo called >> {calls}\nexec {ISQL} "$@"\n')
    store = keep(kept, virtuoso_server.store(replace(virtuoso_server.bulk, isql_command=logging)))
    with monkeypatch.context() as patch:
        patch.setattr(RemoteStore, "append_graph", lambda *a: pytest.fail("a chunk went through the Graph Store"))
        load_all(store, [mini, again])
    assert calls.read_text().count("called") >= 1
    assert graph_of(store) == expected
    assert total(store) == expected_total == 2
    assert leftovers(store) == []
    assert list(virtuoso_server.bulk_dir.iterdir()) == []  # the N-Quads files are removed once loaded


def test_virtuoso_bulk_replacement_keeps_the_other_bundles(
        bulk: RemoteStore, mini: Path, tmp_path: Path, no_graph_store: None) -> None:
    again = write_bundle(tmp_path / "again", copy.deepcopy(MINI))
    load_all(bulk, [mini, again])
    smaller = copy.deepcopy(MINI)
    del smaller["transactions"][1]
    load_all(bulk, [write_bundle(mini, smaller)])  # T-2 is still in "again"
    assert total(bulk) == 2 and bulk.count(bundle_graph(again)) > 0


def test_virtuoso_bulk_conflict_is_refused_before_anything_is_written(
        bulk: RemoteStore, mini: Path, tmp_path: Path, virtuoso_server: VirtuosoServer) -> None:
    load_all(bulk, [mini])
    before = snapshot(bulk)
    tables = copy.deepcopy(MINI)
    tables["transactions"][0]["commission"] = "1300.00"
    with pytest.raises(BundleError, match="column commission: '1300' conflicts with '1250'"):
        load_all(bulk, [write_bundle(tmp_path / "other", tables)])
    assert snapshot(bulk) == before and leftovers(bulk) == []
    assert list(virtuoso_server.bulk_dir.iterdir()) == []


_QUADS = bulk_load.quads
BROKEN = {  # the second line of every chunk spoiled: Virtuoso reports the first, and takes the second silently
    "reported": (b"> <", b'> "broken <', "SP029: NQuads RDF loader, line 2: syntax error"),
    "silent": (b"> <", b" <", "triples in .* where .* were sent: the load is undone"),
}


def spoiled(how: str) -> Callable[[bytes, str], bytes]:
    old, new, _ = BROKEN[how]

    def quads(chunk: bytes, graph: str) -> bytes:
        lines = _QUADS(chunk, graph).splitlines(keepends=True)
        if len(lines) > 1:
            lines[1] = lines[1].replace(old, new, 1)
        return b"".join(lines)
    return quads


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_line_virtuoso_cannot_load_undoes_the_load(
        bulk: RemoteStore, mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    load_all(bulk, [mini])
    before = snapshot(bulk)
    monkeypatch.setattr(bulk_load, "quads", spoiled(how))
    with pytest.raises(BulkLoadError, match=BROKEN[how][2]):
        load_all(bulk, [write_bundle(tmp_path / "other", copy.deepcopy(MINI))])
    assert snapshot(bulk) == before and leftovers(bulk) == []


def test_a_killed_virtuoso_loader_leaves_the_store_as_it_was(
        virtuoso_server: VirtuosoServer, mini: Path, tmp_path: Path, kept: list[Store]) -> None:
    plain = keep(kept, virtuoso_server.store())
    load_all(plain, [mini])
    before = snapshot(plain)
    dies = script(tmp_path, "isql", f'{ISQL} "$@"\nkill -9 $$\n')  # loads its file, then is killed
    store = keep(kept, virtuoso_server.store(replace(virtuoso_server.bulk, isql_command=dies)))
    with pytest.raises(BulkLoadError, match="status -9"):
        load_all(store, [write_bundle(tmp_path / "other", copy.deepcopy(MINI))])
    assert snapshot(plain) == before and leftovers(plain) == []


@pytest.mark.parametrize("wrong, says", [
    ("server-dir", "cannot read the bulk-load folder .*DirsAllowed"),
    ("other-folder", "registered nothing.*BEPGRAPH_STORE_BULK_SERVER_DIR"),
    ("password", "BEPGRAPH_STORE_ISQL_PASSWORD"),
    ("port", "BEPGRAPH_STORE_ISQL"),
    ("command", "BEPGRAPH_STORE_ISQL_COMMAND"),
    ("missing", "BEPGRAPH_STORE_BULK_DIR"),
])
def test_a_misconfigured_virtuoso_loader_is_a_clear_error_and_changes_nothing(
        virtuoso_server: VirtuosoServer, mini: Path, tmp_path: Path, wrong: str, says: str, kept: list[Store]) -> None:
    plain = keep(kept, virtuoso_server.store())
    load_all(plain, [mini])
    before = snapshot(plain)
    elsewhere = tmp_path / "elsewhere"  # a folder, but not the one this process writes to
    elsewhere.mkdir()
    settings = {
        "server-dir": replace(virtuoso_server.bulk, server_folder=str(tmp_path / "not-on-the-server")),
        "other-folder": replace(virtuoso_server.bulk, server_folder=str(elsewhere)),
        "password": replace(virtuoso_server.bulk, password="wrong"),
        "port": replace(virtuoso_server.bulk, isql="127.0.0.1:1"),
        "command": replace(virtuoso_server.bulk, isql_command="no-such-isql"),
        "missing": replace(virtuoso_server.bulk, folder=tmp_path / "absent"),
    }[wrong]
    store = keep(kept, virtuoso_server.store(settings))
    with pytest.raises(BulkLoadError, match=says):
        load_all(store, [write_bundle(tmp_path / "other", copy.deepcopy(MINI))])
    assert snapshot(plain) == before and leftovers(plain) == []


def test_cli_bulk_loads_into_virtuoso_from_the_environment(
        virtuoso_server: VirtuosoServer, mini: Path, kept: list[Store]) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEPGRAPH_STORE")}, **virtuoso_server.env,
           "BEPGRAPH_STORE_BULK": "virtuoso", "BEPGRAPH_STORE_BULK_DIR": str(virtuoso_server.bulk_dir),
           "BEPGRAPH_STORE_ISQL": f"127.0.0.1:{virtuoso_server.sql_port}", "BEPGRAPH_STORE_ISQL_COMMAND": ISQL}
    done = subprocess.run([str(BEPGRAPH), "load", str(mini)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert total(keep(kept, virtuoso_server.store())) == 2
    virtuoso_server.clear()
    wrong = subprocess.run([str(BEPGRAPH), "load", str(mini)], env={**env, "BEPGRAPH_STORE_ISQL_PASSWORD": "wrong"},
                           capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 3 and "BEPGRAPH_STORE_ISQL_PASSWORD" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert keep(kept, virtuoso_server.store()).named_graphs() == []


# --- oxigraph serve ---------------------------------------------------------------------------------


def test_oxigraph_bulk_load_gives_the_graph_of_a_graph_store_load(
        oxigraph_servers: object, mini: Path, tmp_path: Path, no_graph_store: None, kept: list[Store]) -> None:
    start = oxigraph_servers  # a factory
    again = write_bundle(tmp_path / "again", copy.deepcopy(MINI))
    plain_server, bulk_server = start(), start()  # type: ignore[operator]
    plain = keep(kept, RemoteStore(plain_server.query_url))
    _plain_load(plain, [mini, again])
    store = keep(kept, RemoteStore(bulk_server.query_url, remote=RemoteSettings(bulk=BulkSettings("oxigraph"))))
    load_all(store, [mini, again])
    assert graph_of(store) == graph_of(plain)
    assert total(store) == 2 and leftovers(store) == []


def _plain_load(store: RemoteStore, folders: list[Path]) -> None:
    """A load through the Graph Store even while the test refuses it for bulk stores."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RemoteStore, "append_graph", _graph_store_append)
        load_all(store, folders)


def _graph_store_append(self: RemoteStore, graph: str, ntriples: bytes) -> None:
    self.client.graph_request("POST", {"graph": graph}, content=ntriples,
                              headers={"Content-Type": "application/n-triples"})


def test_a_line_oxigraph_refuses_undoes_the_load(
        oxigraph_server: OxigraphServer, mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        kept: list[Store]) -> None:
    store = keep(kept, RemoteStore(oxigraph_server.query_url, remote=RemoteSettings(bulk=BulkSettings("oxigraph"))))
    load_all(store, [mini])
    before = snapshot(store)
    monkeypatch.setattr(bulk_load, "quads", spoiled("reported"))
    with pytest.raises(BulkLoadError, match="Oxigraph's bulk loader"):
        load_all(store, [write_bundle(tmp_path / "other", copy.deepcopy(MINI))])
    assert snapshot(store) == before and leftovers(store) == []


# --- settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("env, says", [
    ({"BEPGRAPH_STORE_BULK": "blazegraph"}, "not one of virtuoso, oxigraph"),
    ({"BEPGRAPH_STORE_BULK": "virtuoso", "BEPGRAPH_STORE_USER": "u", "BEPGRAPH_STORE_PASSWORD": "p"},
     "needs BEPGRAPH_STORE_BULK_DIR"),
    ({"BEPGRAPH_STORE_BULK": "virtuoso", "BEPGRAPH_STORE_BULK_DIR": "/tmp"}, "BEPGRAPH_STORE_ISQL_USER"),
])
def test_bulk_settings_refuse_what_cannot_work(env: dict[str, str], says: str) -> None:
    with pytest.raises(ParameterError, match=says):
        RemoteSettings.from_env(env)


def test_bulk_settings_read_the_password_from_the_environment_and_hide_it() -> None:
    settings = RemoteSettings.from_env({"BEPGRAPH_STORE_BULK": "virtuoso", "BEPGRAPH_STORE_BULK_DIR": "/srv/load",
                                        "BEPGRAPH_STORE_ISQL": "db:1111", "BEPGRAPH_STORE_USER": "dba",
                                        "BEPGRAPH_STORE_PASSWORD": "s3cret"}).bulk
    assert settings == BulkSettings("virtuoso", Path("/srv/load"), None, "db:1111", "isql-vt", "dba", "s3cret")
    assert "s3cret" not in repr(settings)
    assert RemoteSettings.from_env({}).bulk is None
