"""`bepgraph serve --store DIR` serves what the store holds: it loads only the bundles named, and says what it serves."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import httpx
import pyoxigraph as ox

from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import BEP
from bepgraph.resources import example_bundle
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .servers import free_port

BEPGRAPH = Path(sys.executable).with_name("bepgraph")


def serve_lines(*args: str) -> tuple[subprocess.Popen[str], list[str], str]:
    """Start `bepgraph serve`, read its start-up lines up to "serving on", return (process, lines, url)."""
    port = free_port()
    proc = subprocess.Popen([str(BEPGRAPH), "serve", "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:  # the service reports each graph, then the address, once it answers
        lines.append(line.rstrip("\n"))
        if "serving on" in line:
            break
    else:
        raise AssertionError(f"serve ended before serving: {lines}")
    return proc, lines, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.communicate(timeout=30)  # reads what is left of stderr and closes it


def test_serving_a_store_on_disk_adds_nothing_to_it(tmp_path: Path) -> None:
    own = write_bundle(tmp_path / "ours", copy.deepcopy(MINI))
    folder = tmp_path / "store"
    store = EmbeddedStore(folder)
    load_all(store, [own])
    before = store.dump(ox.RdfFormat.N_QUADS)
    store.close()

    proc, lines, url = serve_lines("--store", str(folder))
    try:
        served = [line for line in lines if "serving https://" in line]
        assert any(bundle_graph(own) in line for line in served)
        assert not any(bundle_graph(example_bundle()) in line for line in lines)
        answer = httpx.get(url + "/sparql", params={"query": f"SELECT (COUNT(?t) AS ?n) WHERE {{ ?t a <{BEP}Transaction> }}"},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
        assert answer["results"]["bindings"][0]["n"]["value"] == "2"
    finally:
        stop(proc)
    reopened = EmbeddedStore(folder)
    assert reopened.dump(ox.RdfFormat.N_QUADS) == before
    reopened.close()


def test_serving_memory_without_bundles_serves_the_example(tmp_path: Path) -> None:
    proc, lines, _ = serve_lines()
    try:
        assert any(bundle_graph(example_bundle()) in line for line in lines)
        assert any("/graph/filing:" in line for line in lines)
    finally:
        stop(proc)


def test_serving_an_empty_store_on_disk_says_it_holds_nothing(tmp_path: Path) -> None:
    proc, lines, _ = serve_lines("--store", str(tmp_path / "empty"))
    try:
        assert any("holds no loaded source" in line for line in lines)
    finally:
        stop(proc)
