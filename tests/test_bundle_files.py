"""Bundle files and the filing must be regular files: anything else is a located refusal, before any is opened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bepgraph.cli import main
from bepgraph.errors import BundleError
from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle

BEPGRAPH = Path(sys.executable).with_name("bepgraph")


def _bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle", MINI)


def _replace(path: Path, make: object) -> None:
    path.unlink()
    make(path)  # type: ignore[operator]


@pytest.mark.parametrize("case, make, reason", [
    ("directory", lambda p: p.mkdir(), "is a directory"),
    ("broken symlink", lambda p: p.symlink_to(p.parent / "gone.csv"), "symbolic link to nowhere"),
    ("symlink out of the bundle", lambda p: p.symlink_to("/etc/hostname"), "symbolic link out of the bundle"),
    ("symlink to a device", lambda p: p.symlink_to("/dev/zero"), "out of the bundle"),
    ("fifo", lambda p: os.mkfifo(p), "named pipe"),
])
def test_a_bundle_file_that_is_not_a_regular_file_is_refused_with_its_name(
        tmp_path: Path, case: str, make: object, reason: str) -> None:
    bundle = _bundle(tmp_path)
    _replace(bundle / "matters.csv", make)
    store = EmbeddedStore()
    with pytest.raises(BundleError) as refused:
        load_all(store, [bundle])
    assert any(p.file == "matters.csv" and reason in p.reason for p in refused.value.problems), refused.value.problems
    assert store.count() == 0, "nothing was loaded"


def test_a_fifo_in_a_bundle_does_not_block_the_command(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    _replace(bundle / "trustees.csv", os.mkfifo)
    done = subprocess.run([str(BEPGRAPH), "load", str(bundle)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "trustees.csv: is a named pipe (FIFO), not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_symlink_to_another_file_of_the_bundle_is_read(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    (bundle / "kept.txt").write_bytes((bundle / "matters.csv").read_bytes())
    _replace(bundle / "matters.csv", lambda p: p.symlink_to("kept.txt"))
    report = load_all(EmbeddedStore(), [bundle])
    assert any("matters" in rows for rows in report.rows.values())


def test_a_filing_that_is_a_fifo_or_a_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = _bundle(tmp_path)
    fifo = tmp_path / "filing.txt"
    os.mkfifo(fifo)
    assert main(["load", str(bundle), "--plan", str(fifo)]) == 2
    assert "named pipe" in capsys.readouterr().err
    assert main(["load", str(bundle), "--plan", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
