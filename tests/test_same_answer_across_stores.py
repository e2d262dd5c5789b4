"""Same facts, same answer: `validate --format json` is byte-identical on every store kind.

The example bundle is loaded into the embedded memory store, an on-disk
store and a live `oxigraph serve`; the findings JSON (messages that list
several affiliations or interests included) and the set semantics of a
bundle loaded twice must not depend on which store holds the graph.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bepgraph.resources import example_bundle

from .servers import OxigraphServer, oxigraph_server, oxigraph_servers  # noqa: F401  (pytest fixtures)

BEPGRAPH = Path(sys.executable).with_name("bepgraph")


def validate_json(store: str, *bundles: Path) -> str:
    out = subprocess.run([str(BEPGRAPH), "validate", *map(str, bundles), "--as-of", "2005-07-31",
                          "--format", "json", "--store", store],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 1, out.stderr  # the example has violations
    return out.stdout


@pytest.mark.server
def test_findings_are_byte_identical_on_memory_disk_and_server(tmp_path: Path, oxigraph_server: OxigraphServer) -> None:
    memory = validate_json("memory", example_bundle())
    assert validate_json(str(tmp_path / "disk"), example_bundle()) == memory
    assert validate_json(oxigraph_server.query_url, example_bundle()) == memory
    assert "; " in memory  # a BEP-3.2 message listing several affiliations is among them


@pytest.mark.server
def test_a_re_export_on_a_server_counts_once(tmp_path: Path, oxigraph_server: OxigraphServer) -> None:
    twice = [shutil.copytree(example_bundle(), tmp_path / name) for name in ("export-q1", "export-q2")]
    assert validate_json(oxigraph_server.query_url, *twice) == validate_json("memory", example_bundle())
