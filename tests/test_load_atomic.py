"""A load is all or nothing, even when the loader is killed with SIGKILL half-way (on-disk store).

The loader (`bepgraph load … --store DIR`, the real command) is killed at
points spread over a multi-second load; the store reopened afterwards must
hold exactly the state before the load or exactly the state after it, graph
by graph and in graph/meta (load times aside).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore

BEPGRAPH = Path(sys.executable).with_name("bepgraph")
KILL_POINTS = 5


def state(folder: Path) -> list[str]:
    """The store's quads, sorted, without load times (which differ from one run to the next)."""
    store = EmbeddedStore(folder)  # reopening recovers from a load that never committed
    try:
        lines = store.dump(ox.RdfFormat.N_QUADS).decode().splitlines()
    finally:
        store.close()
    return sorted(line for line in lines if "generatedAtTime" not in line)


def generate(folder: Path, trades: int, seed: int) -> Path:
    subprocess.run([sys.executable, "-m", "bepgraph.examples.generate", "--out", str(folder),
                    "--trades", str(trades), "--seed", str(seed)], check=True, capture_output=True)
    return folder


def load(folder: Path, bundle: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BEPGRAPH), "load", str(bundle), "--store", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("atomic")
    first = generate(root / "one" / "blotter", 2_500, seed=1)
    second = generate(root / "two" / "blotter", 2_500, seed=2)  # the same folder name: a replacement
    return first, second


def kill_campaign(tmp_path: Path, before_dir: Path, bundle: Path) -> dict[str, int]:
    before = state(before_dir)
    full = tmp_path / "full"
    shutil.copytree(before_dir, full)
    started = time.monotonic()
    assert load(full, bundle).wait(timeout=300) == 0
    duration = time.monotonic() - started
    after = state(full)
    assert after != before
    seen = {"before": 0, "after": 0}
    for k in range(KILL_POINTS):
        work = tmp_path / f"kill-{k}"
        shutil.copytree(before_dir, work)
        proc = load(work, bundle)
        try:
            proc.wait(timeout=duration * (k + 0.5) / KILL_POINTS)  # the kill point, not a wait for a state
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.wait(timeout=60)
        now = state(work)
        assert now in (before, after), f"kill {k} at {(k + 0.5) / KILL_POINTS:.0%} left a partial store"
        seen["before" if now == before else "after"] += 1
    return seen


def test_a_killed_new_bundle_load_leaves_the_store_before_or_after(tmp_path: Path, bundles: tuple[Path, Path]) -> None:
    before_dir = tmp_path / "before"
    store = EmbeddedStore(before_dir)
    load_all(store, [])  # the filing and the ontology
    store.close()
    seen = kill_campaign(tmp_path, before_dir, bundles[0])
    assert seen["before"] >= 1  # some kills really landed before the commit


def test_a_killed_replacement_leaves_the_old_bundle_or_the_new(tmp_path: Path, bundles: tuple[Path, Path]) -> None:
    before_dir = tmp_path / "before"
    store = EmbeddedStore(before_dir)
    load_all(store, [bundles[0]])
    store.close()
    seen = kill_campaign(tmp_path, before_dir, bundles[1])
    assert seen["before"] >= 1
