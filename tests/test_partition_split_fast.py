"""The split's fast path writes the very partitions its general path writes, and bad rows are still refused.

Why it matters: the split is the serial part of a partitioned run, so its
passes split plain pieces of a file (each line a record, one line end) on
their line ends and route them in a tight loop, leaving every other row to
the general per-record path. Both must give the same bytes, line pairs,
carried rows and partition numbers, whatever a file holds: line feeds alone,
carriage returns alone, quoted and multi-line cells, blank lines, spaces
around cells, a byte-order mark, a last line without its end, columns in
another order, expenditures funded by several, unknown or no benefits. And
a malformed row met after pieces the fast path took must be refused as the
bundle reader refuses it (file, line, column, reason).
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bepgraph.cli import main
from bepgraph.partition import split as splitting
from bepgraph.partition.split import split_bundles
from bepgraph.resources import example_bundle

AS_OF = "2005-06-30"


def _refuse(folder: Path) -> None:
    raise AssertionError(f"the split asked the reader about {folder}: it should have split it")


def _rewrite(path: Path, change: Callable[[list[list[str]]], list[list[str]]]) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    out = io.StringIO()
    csv.writer(out).writerows(change(rows))
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _edit(path: Path, change: Callable[[bytes], bytes]) -> None:
    path.write_bytes(change(path.read_bytes()))


def _odd(i: int) -> bool:
    """Whether row *i* is in a stretch of odd rows (a hundred in three hundred: the others make plain pieces)."""
    return (i // 100) % 3 == 1


def _ends(data: bytes) -> bytes:
    """Line ends of every kind: CRLF, and in the odd stretches some LF alone and some CR alone."""
    lines = data.split(b"\r\n")
    return b"".join(line + (b"\r\n" if not _odd(i) else b"\n" if i % 7 == 3 else b"\r" if i % 11 == 5 else b"\r\n")
                    for i, line in enumerate(lines[:-1])) + lines[-1]


def _oddities(data: bytes) -> bytes:
    """Spaces around cells, quoted ids, blank and white lines, a byte-order mark, no end on the last line."""
    lines = data.split(b"\r\n")
    for i in range(1, len(lines) - 1):
        if not _odd(i):
            continue
        if i % 5 == 0:
            lines[i] = b" " + lines[i].replace(b",", b" ,\t", 3)
        if i % 13 == 0:
            first, rest = lines[i].split(b",", 1)
            lines[i] = b'"' + first + b'",' + rest
        if i % 19 == 0:
            lines[i] += b"\r\n   \r\n"
    return b"\xef\xbb\xbf" + b"\r\n".join(lines).rstrip(b"\r\n")


def _funders(rows: list[list[str]]) -> list[list[str]]:
    at = rows[0].index("funded_by")
    for i, row in enumerate(rows[1:], 1):
        row[at] = {3: row[at] + ";B-UNKNOWN", 5: "", 7: f" ; {row[at]} ;"}.get(i % 8, row[at])
    return rows


def _multiline(rows: list[list[str]]) -> list[list[str]]:
    at = rows[0].index("kind")
    for i, row in enumerate(rows[1:], 1):
        if _odd(i) and i % 31 == 0:
            row[at] = "credit,\r\nsecond line"
    return rows


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example bundle with every oddity above, in its three blotter files."""
    folder = tmp_path_factory.mktemp("odd") / "odd"
    shutil.copytree(example_bundle(), folder)
    _rewrite(folder / "expenditures.csv", _funders)
    _rewrite(folder / "benefits.csv", _multiline)
    _rewrite(folder / "benefits.csv", lambda rows: [list(reversed(row)) for row in rows])  # columns reordered
    _edit(folder / "transactions.csv", _oddities)
    _edit(folder / "expenditures.csv", _ends)
    _edit(folder / "benefits.csv", lambda data: data.replace(b"\r\n", b"\n"))  # LF alone (inside the quotes too)
    return folder


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _split(folder: Path, out: Path, mode: str) -> tuple[dict[str, bytes], list[tuple[object, ...]]]:
    done = split_bundles([folder], mode, out, _refuse, at_least=4, trades_each=300_000)
    return _tree(out), [(p.key, p.folder.name, p.members, p.rows, list(p.rows), p.carried) for p in done.partitions]


@pytest.mark.parametrize("mode", ["series", "year"])
@pytest.mark.parametrize("piece", [4096, 97])
def test_the_fast_path_writes_the_partitions_the_general_path_writes(monkeypatch: pytest.MonkeyPatch, odd: Path,
                                                                     tmp_path: Path, mode: str, piece: int) -> None:
    monkeypatch.setattr(splitting, "PIECE", piece)  # pieces end inside records (97: inside lines too)
    plain: list[int] = []
    real = splitting._Splitter.plain_lines

    def counted(self: splitting._Splitter, text: str) -> tuple[list[str], str] | None:
        found = real(self, text)
        plain.append(len(found[0]) if found else 0)
        return found

    monkeypatch.setattr(splitting._Splitter, "plain_lines", counted)
    fast = _split(odd, tmp_path / "fast", mode)
    assert sum(plain) > 1000  # the fast path took most rows
    monkeypatch.setattr(splitting._Splitter, "plain_lines", lambda self, text: None)
    general = _split(odd, tmp_path / "general", mode)
    assert fast[1] == general[1]
    assert fast[0].keys() == general[0].keys()
    assert [name for name in fast[0] if fast[0][name] != general[0][name]] == []
    carried = sum(p[5] for p in fast[1])  # type: ignore[misc]
    assert carried > 0 and any(name.endswith("benefits.csv.bin") for name in fast[0])


@pytest.mark.parametrize(("damage", "says"), [
    (lambda data: data[:-200] + b'T-BAD,"2004-01-01,S\r\n' + data[-200:], "transactions.csv"),  # a quote never closed
    (lambda data: data[:len(data) // 2] + b"\xff" + data[len(data) // 2:], "transactions.csv"),  # not UTF-8
])
def test_a_malformed_row_after_plain_pieces_is_refused_as_the_reader_refuses_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        damage: Callable[[bytes], bytes], says: str) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(example_bundle(), bad)
    _edit(bad / "transactions.csv", damage)
    monkeypatch.setattr(splitting, "PIECE", 4096)  # the pieces before the bad one take the fast path
    plain = main(["validate", str(bad), "--as-of", AS_OF]), capsys.readouterr()
    split = main(["validate", str(bad), "--as-of", AS_OF, "--partition", "series"]), capsys.readouterr()
    assert plain[0] == split[0] == 2
    assert says in plain[1].err and "Traceback" not in split[1].err
    assert split[1].err == plain[1].err and split[1].out == plain[1].out == ""
