"""Splits facts bundles into partitions by streaming their CSV files: the blotter is never held whole.

Why partitions are built this way: every rule judges one entity against
the small governance graph, so a partition needs the governance tables
whole (copied into each) and, of the blotter, the rows it *owns* plus the
rows those rows' rules read (carried, their own findings dropped at the
merge):

* a transaction is owned by the partition of its key (its series' group,
  or the year of its date);
* a benefit likewise (its generating series, or its year); it brings its
  transaction, and every expenditure it funds (BEP-2.2 sums them);
* an expenditure by its own year, or (by series) by the first of its
  funding benefits' partitions; it brings every benefit that funds it
  (BEP-4.1 reads their series) and so their transactions.

Each CSV is read in order (benefits twice), with only routing maps in
memory: the partition of each benefit id, the extra partitions a row is
carried to, and a hash of each blotter id (a duplicate id whose copies
land in different partitions would escape the partitions' own readers).
The hashes are kept in arrays, 8 bytes a row, per partition and bucket,
and compared once the split is written (:class:`_Ids`); a map of hash to
partition, the exact check that words a conflict, is built only when
they show one, by splitting again.
A row is copied byte for byte (only its leading cells are parsed); the
bundle's line of each copied row is kept beside the partition
(``lines/``) so that a partition's error names the bundle's line.

The split is the serial part of a partitioned run, so its passes are
written for speed on one core: a file is read a large piece at a time,
and a piece whose lines are each a whole record (no quote, and one line
end throughout, LF or CRLF: the blotter as generated and as most systems
export it) is split on its line ends and handled by a tight loop that routes, notes and
buffers each row with no per-row object beyond its cells; any other piece,
and any row that loop does not handle (a blank line, a short row, a key or
partition met for the first time, a row carried to other partitions), goes
through the general per-record path, which is the reference: the loop only
does what that path would do, in the same order.
"""

from __future__ import annotations

import csv
import functools
import io
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO

from ..errors import BundleError, Problem
from ..sources.files import irregular_bundle_files
from ..sources.tables import TABLES

__all__ = ["BLOTTER", "MODES", "Partition", "Split", "split_bundles"]

BLOTTER = ("transactions", "benefits", "expenditures")
MODES = ("series", "year")
CARRIED_FILE = "carried.txt"  # "table/id" of the rows a partition holds but does not own
LINES_DIR = "lines"  # lines/BUNDLE/FILE.bin: (partition line, bundle line) of each written row, int32 pairs


@dataclass
class Partition:
    """One partition: its key, its folder (one sub-bundle per input bundle) and what it holds."""

    key: str
    folder: Path
    bundles: list[Path] = field(default_factory=list)  # the sub-bundles, named as the input bundles
    members: list[str] = field(default_factory=list)  # the series (or the year) it holds
    rows: dict[str, int] = field(default_factory=dict)  # blotter table -> rows written (owned and carried)
    carried: int = 0


@dataclass
class Split:
    """The partitions of one run, and the input bundles they came from."""

    mode: str
    bundles: list[Path]
    partitions: list[Partition]


class _Suspect(Exception):
    """The split met something only the bundle reader can word exactly (a duplicate id across partitions)."""


class _Out:
    """One open partition file: the bundle's records copied byte for byte, with where each one starts.

    Records of one line ending in *end* are buffered (without that end,
    which the write puts back) with their bundle lines; any other record
    first writes what is buffered, so the file keeps the bundle's order.
    """

    def __init__(self, path: Path, header: str, end: str) -> None:
        self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by _Writers.close
        self.fh.write(header)
        self.lines = header.count("\n") or 1
        self.pairs = array("i")  # (line in this file, line in the bundle's) of each record
        self.text: list[str] = []  # buffered one-line records, each ended by *end* in the bundle
        self.at: list[int] = []  # their lines in the bundle's file
        self.end = end

    def flush(self) -> None:
        n = len(self.text)
        if not n:
            return
        self.fh.write(self.end.join(self.text))
        self.fh.write(self.end)
        both = array("i", bytes(8 * n))
        both[0::2] = array("i", range(self.lines + 1, self.lines + 1 + n))
        both[1::2] = array("i", self.at)
        self.pairs.extend(both)
        self.lines += n
        self.text, self.at = [], []

    def put(self, record: _Record) -> None:
        line, _, raw, physical = record
        if physical == 1 and raw.endswith(self.end):
            self.text.append(raw[:-len(self.end)])
            self.at.append(line)
            if len(self.text) >= BUFFERED:
                self.flush()
            return
        self.flush()
        self.pairs.append(self.lines + 1)
        self.pairs.append(line)
        self.fh.write(raw)
        self.lines += physical

    def ending(self, end: str) -> None:
        """Records ending in *end* come next: what is buffered with the old end is written first."""
        if end != self.end:
            self.flush()
            self.end = end


class _Writers:
    """The open files of every (partition, bundle, blotter table), created on first use."""

    def __init__(self, root: Path, headers: dict[tuple[int, str], str], router: _Router) -> None:
        self.root, self.headers, self.router = root, headers, router
        self.open: dict[tuple[str, int, str], _Out] = {}
        self.by_number: dict[tuple[int, str], dict[int, _Out]] = {}  # (bundle, table) -> partition number -> file
        self.end = "\n"  # the line end of the piece being split (see :meth:`begin`)

    def part_folder(self, part: str) -> Path:
        """A partition's folder, named by its number: a key is a cell of the bundle, never a path."""
        return self.root / f"p{self.router.index[self.router.named(part)]:04d}"

    def folder(self, part: str, bundle: Path) -> Path:
        return self.part_folder(part) / bundle.name

    def files(self, b: int, table: str) -> dict[int, _Out]:
        """Partition number -> its open file of bundle *b*'s *table* (the fast path's view; filled by :meth:`write`)."""
        return self.by_number.setdefault((b, table), {})

    def begin(self, b: int, table: str, end: str) -> None:
        """A piece whose records end with *end* is about to be buffered into bundle *b*'s *table* files."""
        self.end = end
        for out in self.files(b, table).values():
            out.ending(end)

    def write(self, part: str, b: int, bundle: Path, table: str, record: _Record) -> None:
        out = self.open.get((part, b, table))
        if out is None:
            folder = self.folder(part, bundle)
            folder.mkdir(parents=True, exist_ok=True)
            out = self.open[(part, b, table)] = _Out(folder / f"{table}.csv", self.headers[(b, table)], self.end)
            self.files(b, table)[self.router.index[part]] = out
        out.put(record)

    def lines(self, part: str, b: int) -> dict[str, array[int]]:
        """File name -> line pairs of partition *part*'s copy of bundle *b*."""
        return {f"{t}.csv": o.pairs for (p, bb, t), o in self.open.items() if p == part and bb == b}

    def counts(self, part: str) -> dict[str, int]:
        return {t: len(o.pairs) // 2 for (p, _, t), o in self.open.items() if p == part}

    def close(self) -> None:
        for out in self.open.values():
            out.flush()
            out.fh.close()


class _Record(NamedTuple):
    line: int  # where it starts in the bundle's file
    cells: list[str]  # (with a *width*, the cells up to it; the last holds the rest of the line)
    raw: str  # its text, line ends included
    physical: int  # the lines it spans


PIECE = 1 << 20  # characters read at a time
BUFFERED = 1 << 12  # records a partition file holds before writing them (the fast path writes at each piece's end)


def _pieces(handle: TextIO, size: int) -> Iterator[str]:
    """The text of *handle* in pieces that each end where a line ends (the last one wherever the file ends).

    A carriage return that ends a read is not a cut: a line feed may follow it in the next read.
    """
    carry = ""
    while block := handle.read(size):
        text = carry + block if carry else block
        cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1))
        if cut < 0:
            carry = text
            continue
        yield text[:cut + 1]
        carry = text[cut + 1:]
    if carry:
        yield carry


class _Splitter:
    """Splits a file's pieces into records as the bundle reader (``csv``, strict) splits and numbers them.

    A line without a quote is split on commas as it is; a quoted record is
    handed to ``csv`` whole, however many lines it spans. The record's own
    text is kept, so a partition's file holds the very bytes of the bundle's.
    """

    def __init__(self, name: str, width: int) -> None:
        self.name, self.width = name, width
        self.line = 0  # the last line read
        self.pending: list[str] = []  # the lines of a quoted record not yet closed

    def records(self, piece: str) -> Iterator[_Record]:
        for text in io.StringIO(piece, newline=""):  # the line ends the file's own reading sees
            self.line += 1
            if not self.pending and '"' not in text:
                yield _Record(self.line, text.rstrip("\r\n").split(",", self.width), text, 1)
                continue
            self.pending.append(text)
            joined = "".join(self.pending)
            if joined.count('"') % 2:
                continue  # a quoted cell goes on on the next line
            cells = next(csv.reader([joined], strict=True), [])
            yield _Record(self.line - len(self.pending) + 1, cells, joined, len(self.pending))
            self.pending = []

    def plain_lines(self, piece: str) -> tuple[list[str], str] | None:
        """The piece's lines without their ends, and that end, when each line is a record of its own and all
        end alike (a line feed, or a carriage return and a line feed); else None."""
        if self.pending or '"' in piece:
            return None
        end = "\n" if "\r" not in piece else "\r\n"
        if not piece.endswith(end):
            return None
        lines = piece.split(end)
        lines.pop()
        if end == "\r\n" and not piece.count("\r") == piece.count("\n") == len(lines):
            return None  # a carriage return or a line feed alone, inside a line
        self.line += len(lines)
        return lines, end

    def end(self) -> None:
        if self.pending:
            raise csv.Error(f"{self.name}: unexpected end of data in a quoted cell")


def _raw_records(path: Path, width: int = -1, size: int | None = None) -> Iterator[_Record]:
    """Every record of *path*, header first (see :class:`_Splitter`), read *size* characters at a time."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        splitter = _Splitter(path.name, width)
        for piece in _pieces(handle, size or PIECE):
            yield from splitter.records(piece)
        splitter.end()


class _Lines(NamedTuple):
    first: int  # the bundle line of lines[0]
    lines: list[str]  # one record each, without its line end; blank ones included
    end: str  # their line end ("\n" or "\r\n")


def _blocks(path: Path, width: int) -> Iterator[_Lines | _Record]:
    """The records of *path* after its header: a plain piece as :class:`_Lines`, any other record by itself.

    A record by itself is as the general path wants it: not blank, and a
    last line without its end given one. The lines of a :class:`_Lines`
    are not checked for blanks: the caller's loop sends a line it cannot
    read whole to the general path, which skips it.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        splitter = _Splitter(path.name, width)
        header = True
        for piece in _pieces(handle, PIECE):
            first = splitter.line + 1
            plain = splitter.plain_lines(piece)
            if plain is not None:
                lines, end = plain
                if header:
                    header, first, lines = False, first + 1, lines[1:]
                yield _Lines(first, lines, end)
                continue
            for record in splitter.records(piece):
                if header:
                    header = False
                    continue
                if not record.raw.endswith(("\n", "\r")):
                    record = record._replace(raw=record.raw + "\r\n")
                if _blank(record.cells):
                    continue
                yield record
        splitter.end()


def _blank(cells: list[str]) -> bool:
    return len(cells) == 1 and not cells[0].strip()


def _sized(path: Path, width: int) -> Iterator[tuple[list[str], int]]:
    """The cells of every record of *path* after its header, blank ones skipped, with the record's length."""
    for block in _blocks(path, width):
        if isinstance(block, _Record):
            yield block.cells, len(block.raw)
            continue
        ending = len(block.end)
        for text in block.lines:
            cells = text.split(",", width)
            if not _blank(cells):
                yield cells, len(text) + ending


def _head(path: Path) -> _Record | None:
    """The header record of *path*, None for an empty file (read in a small piece: only its first line is wanted)."""
    return next(_raw_records(path, size=1 << 16), None)


def _named_head(path: Path) -> _Record:
    """The header record of *path*; StopIteration for an empty file, which the split hands to the reader."""
    head = _head(path)
    if head is None:
        raise StopIteration(f"{path.name} has no header")
    return head


def _header(path: Path) -> str:
    header = _head(path)
    if header is None:
        return ""
    return header.raw if header.raw.endswith(("\n", "\r")) else header.raw + "\r\n"


def _cell(record: list[str], index: int | None) -> str:
    return record[index].strip() if index is not None and index < len(record) else ""


class _Router:
    """Which partition owns a row: its key's (a series, a year), or the group its key was put in.

    With *groups*, series are grouped so that each partition is big enough
    to be worth its fixed cost (a store, the governance, 26 queries) and
    small enough for memory: the series a sample of the blotter shows are
    dealt, largest first, to the least loaded group; a series the sample
    missed goes to the least loaded group when it is first met. The same
    bundles give the same groups.
    """

    def __init__(self, mode: str, groups: int | None = None, sample: dict[str, int] | None = None) -> None:
        self.mode = mode
        self.index: dict[str, int] = {}  # partition name -> its number (one string object per name)
        self.keys: list[str] = []
        self.members: dict[str, set[str]] = {}  # partition name -> the keys it holds
        self._name: dict[str, str] = {}  # key -> partition name
        self.route: dict[str, int] = {}  # key cell (a year: the date cell's first four characters) -> number, once met
        self._groups = groups if mode == "series" and groups else None
        self._load = [0] * (self._groups or 0)
        self._plan: dict[str, int] = {}
        for key, count in sorted((sample or {}).items(), key=lambda kv: (-kv[1], kv[0])):
            if self._groups:
                g = self._load.index(min(self._load))
                self._plan[key], self._load[g] = g, self._load[g] + count

    def own(self, key: str) -> str:
        key = key or "unkeyed"
        name = self._name.get(key)
        if name is None:
            name = key
            if self._groups:
                g = self._plan.get(key)
                if g is None:
                    g = self._plan[key] = self._load.index(min(self._load))
                    self._load[g] += 1
                name = f"series-group-{g + 1:02d}"
            name = self._name[key] = self.named(name)
            self.members.setdefault(name, set()).add(key)
        return name

    def named(self, name: str) -> str:
        """The partition called *name* (made if new), as the one string object every row of it shares."""
        if name not in self.index:
            self.index[name] = len(self.keys)
            self.keys.append(name)
        return self.keys[self.index[name]]

    def by_row(self, record: list[str], series: int | None, day: int | None) -> str:
        if self.mode == "series":
            return self.own(_cell(record, series))
        return self.own(_cell(record, day)[:4])

    def number(self, key: str) -> int:
        """The number of the partition that owns *key* (as :meth:`own` makes it), kept for the fast path."""
        number = self.route.get(key)
        if number is None:
            number = self.route[key] = self.index[self.own(key)]
        return number


SAMPLE_ROWS = 50_000  # trades read ahead to see the series' shares of the blotter


def _sample(bundles: Sequence[Path]) -> tuple[dict[str, int], int]:
    """Series -> trades among the first rows of each bundle's blotter, and the blotter's estimated trades."""
    counts: dict[str, int] = {}
    estimate = 0
    for folder in bundles:
        path = _blotter_path(folder, "transactions")
        if path is None:
            continue
        names = [n.strip() for n in _named_head(path).cells]
        at = names.index("series") if "series" in names else None
        read = size = 0
        width = -1 if at is None else at + 1
        for cells, length in _sized(path, width):
            key = _cell(cells, at)
            counts[key] = counts.get(key, 0) + 1
            read, size = read + 1, size + length
            if read >= SAMPLE_ROWS:
                break
        if read:
            estimate += round(path.stat().st_size / (size / read))
    return counts, estimate


def _check_id(seen: dict[int, int], router: _Router, b: int, bundles: Sequence[Path], table: str, ident: str,
              part: str) -> None:
    """A blotter id given again, owned by another partition: a duplicate or a conflict no partition would see.

    In one bundle it is a duplicate id (the reader words it); in two, rows
    whose values route them apart differ, so they conflict. The same id in
    the same partition is left to that partition's load (one fact, or a
    conflict it reports). Ids are kept as hashes: a collision only costs
    a check by the reader.
    """
    h = hash((table, ident))
    code = b << 20 | router.index[part]
    before = seen.get(h)
    if before is None:
        seen[h] = code
    elif before != code and before & 0xFFFFF != code & 0xFFFFF:
        other = router.keys[before & 0xFFFFF]
        if before >> 20 == b:
            raise _Suspect(f"{table} id '{ident}' is owned by two partitions")
        raise BundleError([Problem(
            f"{table}.csv", 0, "",
            f"{table} '{ident}' is given by {bundles[before >> 20]} and by {bundles[b]} with values that put it in "
            f"different partitions ({other}, {part}): the rows conflict (validate without --partition "
            "to see every differing column)")])


BUCKETS = 16  # the hashes are compared a sixteenth at a time: the sets built for it stay small
# an id's hash is the hash of its text mixed with its table's, so that one id in two tables is two ids
# (what hash((table, id)) gave, without a tuple a row)
SALT = {table: hash(f"bepgraph-split:{table}") for table in BLOTTER}


class _Ids:
    """The hashes of the blotter ids, per partition and per bucket of the hash, compared at the end.

    Why not the dict of hash to partition that :func:`_check_id` keeps: it
    costs about 90 bytes a row, the split's largest map by far; an array
    costs 8. A hash in two partitions' arrays is a conflict (or, by one
    chance in 2**64, two ids with one hash); a hash twice in one partition is
    that partition's load's to judge, as in the exact check.
    """

    def __init__(self, router: _Router) -> None:
        self.router = router
        self.parts: list[list[array[int]]] = []  # partition number -> bucket -> hashes

    def note(self, table: str, ident: str, part: str) -> None:
        h = hash(ident) ^ SALT[table]
        self.of(self.router.index[part])[h & (BUCKETS - 1)].append(h)

    def of(self, number: int) -> list[array[int]]:
        """The buckets of partition *number* (made if new)."""
        while len(self.parts) <= number:
            self.parts.append([array("q") for _ in range(BUCKETS)])
        return self.parts[number]

    def conflict(self) -> bool:
        """Whether a hash is in the arrays of two partitions (set operations, a bucket at a time)."""
        for k in range(BUCKETS):
            held: set[int] = set()
            for buckets in self.parts:
                mine = set(buckets[k])
                if not held.isdisjoint(mine):
                    return True
                held |= mine
        return False


def _add(needs: dict[str, int | frozenset[int]], key: str, parts: set[int]) -> None:
    """Note partitions *parts* (numbers) for *key*: one as a plain number (most rows), several as a frozenset."""
    had = needs.get(key)
    merged = parts | _parts(had) if had is not None else parts
    needs[key] = next(iter(merged)) if len(merged) == 1 else frozenset(merged)


def _parts(value: int | frozenset[int]) -> frozenset[int]:
    return frozenset((value,)) if isinstance(value, int) else value


def _blotter_path(folder: Path, table: str) -> Path | None:
    path = folder / f"{table}.csv"
    return path if path.is_file() else None


def split_bundles(bundles: Sequence[Path], mode: str, root: Path, check: Callable[[Path], None],
                  at_least: int | None = None, trades_each: int | None = None) -> Split:
    """Write the partitions of *bundles* under *root*; *check* raises the reader's exact error for a bundle.

    By series, with *at_least* or *trades_each*, the series are grouped into
    max(*at_least*, trades / *trades_each*) partitions (see ``_Router``);
    without, each series (each year) is a partition. Raises BundleError when
    a bundle is malformed in a way the split itself meets (the error is the
    reader's own, from *check*).
    """
    if mode not in MODES:
        raise ValueError(f"unknown partition mode {mode!r}")
    for folder in bundles:
        if not folder.is_dir() or irregular_bundle_files(folder, [p for p in folder.iterdir() if p.suffix.lower() == ".csv"]):
            check(folder)  # the reader's own refusal (not a folder, a symlink out of it, a FIFO)
    groups, sample = None, None
    if mode == "series" and (at_least or trades_each):
        try:
            sample, estimate = _sample(bundles)
        except (csv.Error, UnicodeDecodeError, StopIteration):
            for folder in bundles:
                check(folder)
            raise
        groups = max(at_least or 1, -(-estimate // trades_each) if trades_each else 1)
    router = _Router(mode, groups, sample)
    writers = _Writers(root, {}, router)
    carried: dict[str, set[str]] = {}
    ids = _Ids(router)
    _split_all(bundles, router, writers, carried, check, lambda b: ids.note, ids)
    if ids.conflict():  # split again with the exact check, which words the conflict as the reader would
        again = Path(tempfile.mkdtemp(prefix="exact-", dir=root))
        try:
            seen: dict[int, int] = {}
            fresh = _Router(mode, groups, sample)
            _split_all(bundles, fresh, _Writers(again, {}, fresh), {}, check,
                       lambda b: functools.partial(_check_id, seen, fresh, b, bundles))
        finally:
            shutil.rmtree(again, ignore_errors=True)
    del ids
    keys = sorted(router.keys) or ["all"]
    partitions = []
    for key in keys:
        part = Partition(key=key, folder=writers.part_folder(key), members=sorted(router.members.get(key, {key})))
        for folder in bundles:
            sub = writers.folder(key, folder)
            sub.mkdir(parents=True, exist_ok=True)
            _copy_governance(folder, sub)
            part.bundles.append(sub)
        part.rows = writers.counts(key)
        names = sorted(carried.get(key, set()))
        part.carried = len(names)
        (part.folder / CARRIED_FILE).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        for b, folder in enumerate(bundles):
            where = part.folder / LINES_DIR / folder.name
            where.mkdir(parents=True, exist_ok=True)
            for file, pairs in writers.lines(key, b).items():
                with open(where / f"{file}.bin", "wb") as fh:
                    pairs.tofile(fh)
        partitions.append(part)
    return Split(mode, list(bundles), partitions)


def _split_all(bundles: Sequence[Path], router: _Router, writers: _Writers, carried: dict[str, set[str]],
               check: Callable[[Path], None], noting: Callable[[int], Callable[[str, str, str], None]],
               ids: _Ids | None = None) -> None:
    """Route every bundle's blotter into *writers*' files; ``noting(b)`` notes bundle *b*'s ids.

    With *ids* (the arrays ``noting`` fills), the fast path runs and notes
    into them itself; without (the exact pass), every row takes the general path.
    """
    try:
        for b, folder in enumerate(bundles):
            try:
                _split_one(_Bundle(b, folder, router, writers, carried, noting(b), ids))
            except (_Suspect, csv.Error, UnicodeDecodeError, IndexError, KeyError, StopIteration):
                check(folder)  # the reader words it (a duplicate id, malformed CSV)
                raise
    finally:
        writers.close()


def _copy_governance(folder: Path, sub: Path) -> None:
    """Every CSV but the blotter's, as it is (line numbers and all); a blotter table with no row here, as its header."""
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".csv":
            continue
        if path.stem in BLOTTER:
            target = sub / path.name
            if not target.exists():
                target.write_text(_header(path), encoding="utf-8", newline="")
            continue
        shutil.copyfile(path, sub / path.name)


@dataclass
class _Bundle:
    """One bundle's split: what its four passes share."""

    b: int
    folder: Path
    router: _Router
    writers: _Writers
    carried: dict[str, set[str]]
    note: Callable[[str, str, str], None]
    ids: _Ids | None  # the arrays the fast path notes into (None: the general path only)
    cols: dict[str, dict[str, int]] = field(default_factory=dict)

    def key(self, table: str) -> tuple[int | None, int | None]:
        """The column of *table* that routes a row, and where its key ends (a year: the date's first four)."""
        if self.router.mode == "series":
            return self.cols[table].get("series" if table == "transactions" else "generating_series"), None
        return self.cols[table].get("date"), 4

    def put(self, part: int, table: str, record: _Record, ident: str, owned: bool) -> None:
        name = self.router.keys[part]
        self.writers.write(name, self.b, self.folder, table, record)
        if not owned:
            self.carried.setdefault(name, set()).add(f"{table}/{ident}")

    def each(self, path: Path, width: int, general: Callable[[_Record], None],
             fast: Callable[[_Lines], None] | None, table: str | None = None) -> None:
        """Every record of *path* to *general*, or a plain piece's lines to *fast* when there is one (and
        then what it buffered in *table*'s files written)."""
        for block in _blocks(path, width):
            if isinstance(block, _Record):
                general(block)
            elif fast is not None:
                if table is not None:
                    self.writers.begin(self.b, table, block.end)
                fast(block)
                if table is not None:
                    for out in self.writers.files(self.b, table).values():
                        out.flush()
            else:
                for line, text in enumerate(block.lines, block.first):
                    _general(general, line, text.split(",", width), text + block.end)

    def fast_maps(self, table: str, block: _Lines) -> tuple[dict[str, int], dict[int, _Out], list[list[array[int]]],
                                                          int, str]:
        """What a fast loop over *block* of *table* reads: the keys' partitions, the partitions' files, the
        ids' arrays, the table's salt and the block's line end."""
        assert self.ids is not None  # a fast loop runs only with the arrays
        return self.router.route, self.writers.files(self.b, table), self.ids.parts, SALT[table], block.end


def _general(general: Callable[[_Record], None], line: int, cells: list[str], raw: str) -> None:
    """A one-line record of a plain piece to the general path, unless blank (as :func:`_blocks` skips them)."""
    if not _blank(cells):
        general(_Record(line, cells, raw, 1))


def _one_owner(owner: dict[str, int], funders: str) -> int:
    """The partition that owns every one of *funders* (benefit ids and ";"); KeyError when they are not
    all known and alike, or one is blank."""
    ids = [f.strip() for f in funders.split(";")]
    if not all(ids):
        raise KeyError(funders)
    owners = {owner[f] for f in ids}
    if len(owners) != 1:
        raise KeyError(funders)
    return owners.pop()


def _width(*columns: int | None) -> int:
    """How many cells to split out of a line: up to the last of *columns* (-1: all)."""
    wanted = [c for c in columns if c is not None]
    return max(wanted) + 1 if wanted else -1


def _split_one(one: _Bundle) -> None:
    paths = {t: _blotter_path(one.folder, t) for t in BLOTTER}
    for table, path in paths.items():
        if path is not None:
            one.writers.headers[(one.b, table)] = _header(path)
            names = _named_head(path).cells
            known = {c.name for c in TABLES[table].columns}
            one.cols[table] = {name.strip(): i for i, name in enumerate(names) if name.strip() in known}
    owner = _owners(one, paths["benefits"])
    extra = _expenditures(one, paths["expenditures"], owner)
    del owner
    needs = _benefits(one, paths["benefits"], extra)
    del extra
    _transactions(one, paths["transactions"], needs)


# In the fast loops below, a row whose cells cannot all be read, whose key or partition (or its
# partition's file, or its ids' arrays) is new, or that goes to more than its own partition, is handed
# to ``general`` before anything is done with it: the general path is the split's definition. It is
# given no blank record.

def _owners(one: _Bundle, path: Path | None) -> dict[str, int]:
    """1. Benefit id -> the number of the partition that owns it."""
    owner: dict[str, int] = {}
    if path is None:
        return owner
    at_id = one.cols["benefits"].get("id")
    at_key, cut = one.key("benefits")
    number = one.router.number
    width = _width(at_id, at_key)

    def general(record: _Record) -> None:
        owner[_cell(record.cells, at_id)] = number(_cell(record.cells, at_key)[:cut])

    def fast(block: _Lines) -> None:
        route, end = one.router.route, block.end
        for line, text in enumerate(block.lines, block.first):
            cells = text.split(",", width)
            try:
                owner[cells[at_id].strip()] = route[cells[at_key].strip()[:cut]]  # type: ignore[index]
            except (IndexError, KeyError):  # (a blank line too, which the general path skips)
                _general(general, line, cells, text + end)

    one.each(path, width, general, fast if one.ids is not None and None not in (at_id, at_key) else None)
    return owner


def _expenditures(one: _Bundle, path: Path | None, owner: dict[str, int]) -> dict[str, set[int]]:
    """2. Expenditures, written to their owner and to every funding benefit's owner; benefit id -> the
    partitions it is carried to."""
    extra: dict[str, set[int]] = {}
    if path is None:
        return extra
    c = one.cols["expenditures"]
    at_id, at_funded, at_date = c.get("id"), c.get("funded_by"), c.get("date")
    router, by_series = one.router, one.router.mode == "series"
    width = _width(at_id, at_funded, at_date)

    def general(record: _Record) -> None:
        cells = record.cells
        ident = _cell(cells, at_id)
        funded = [p.strip() for p in _cell(cells, at_funded).split(";") if p.strip()]
        theirs = sorted({router.keys[o] if (o := owner.get(f)) is not None else router.own("unkeyed")
                         for f in funded})
        mine = theirs[0] if by_series and theirs else router.by_row(cells, None, at_date)
        one.note("expenditures", ident, mine)
        for name in sorted({mine, *theirs}):
            part = router.index[name]
            one.put(part, "expenditures", record, ident, name == mine)
            for f in funded:
                if owner.get(f) != part:
                    extra.setdefault(f, set()).add(part)

    def fast(block: _Lines) -> None:  # funded by benefits of the expenditure's own partition only
        route, outs, idparts, salt, end = one.fast_maps("expenditures", block)
        for line, text in enumerate(block.lines, block.first):
            cells = text.split(",", width)
            try:
                ident = cells[at_id].strip()  # type: ignore[index]
                funders = cells[at_funded].strip()  # type: ignore[index]
                o = owner[funders] if ";" not in funders else _one_owner(owner, funders)
                p = o if by_series else route[cells[at_date].strip()[:4]]  # type: ignore[index]
                if p != o or not funders:
                    raise KeyError(funders)  # carried to another partition, or funded by none
                buckets, out = idparts[p], outs[p]
            except (IndexError, KeyError):  # (a blank line too, which the general path skips)
                _general(general, line, cells, text + end)
                continue
            h = hash(ident) ^ salt
            buckets[h & (BUCKETS - 1)].append(h)
            out.text.append(text)
            out.at.append(line)

    usable = one.ids is not None and None not in (at_id, at_funded) and (by_series or at_date is not None)
    one.each(path, width, general, fast if usable else None, "expenditures")
    return extra


def _benefits(one: _Bundle, path: Path | None, extra: dict[str, set[int]]) -> dict[str, int | frozenset[int]]:
    """3. Benefits, written to their owner and wherever an expenditure carried them; transaction id ->
    the partition(s) its benefits are in."""
    needs: dict[str, int | frozenset[int]] = {}
    if path is None:
        return needs
    c = one.cols["benefits"]
    at_id, at_tx = c.get("id"), c.get("transaction")
    at_key, cut = one.key("benefits")
    router = one.router
    width = _width(at_id, at_key, at_tx)

    def general(record: _Record) -> None:
        cells = record.cells
        ident = _cell(cells, at_id)
        mine = router.number(_cell(cells, at_key)[:cut])
        one.note("benefits", ident, router.keys[mine])
        parts = {mine} | extra.get(ident, set())
        for part in sorted(parts):
            one.put(part, "benefits", record, ident, part == mine)
        if tx := _cell(cells, at_tx):
            _add(needs, tx, parts)

    def fast(block: _Lines) -> None:  # a benefit no expenditure carries elsewhere
        route, outs, idparts, salt, end = one.fast_maps("benefits", block)
        for line, text in enumerate(block.lines, block.first):
            cells = text.split(",", width)
            try:
                ident = cells[at_id].strip()  # type: ignore[index]
                p = route[cells[at_key].strip()[:cut]]  # type: ignore[index]
                tx = cells[at_tx].strip()  # type: ignore[index]
                if ident in extra:
                    raise KeyError(ident)  # carried to other partitions too
                buckets, out = idparts[p], outs[p]
            except (IndexError, KeyError):  # (a blank line too, which the general path skips)
                _general(general, line, cells, text + end)
                continue
            h = hash(ident) ^ salt
            buckets[h & (BUCKETS - 1)].append(h)
            out.text.append(text)
            out.at.append(line)
            if tx:
                had = needs.get(tx)
                if had is None:
                    needs[tx] = p
                elif had != p:
                    _add(needs, tx, {p})

    one.each(path, width, general, fast if one.ids is not None and None not in (at_id, at_key, at_tx) else None,
             "benefits")
    return needs


def _transactions(one: _Bundle, path: Path | None, needs: dict[str, int | frozenset[int]]) -> None:
    """4. Transactions, written to their owner and wherever a benefit carried them (the hot loop: most go
    to their own partition only)."""
    if path is None:
        return
    at_id = one.cols["transactions"].get("id")
    at_key, cut = one.key("transactions")
    router = one.router
    width = _width(at_id, at_key)

    def spread(mine: int, more: int | frozenset[int] | None, record: _Record, ident: str) -> None:
        if more is None or more == mine:
            one.put(mine, "transactions", record, ident, True)
            return
        for part in sorted({mine} | _parts(more)):
            one.put(part, "transactions", record, ident, part == mine)

    def general(record: _Record) -> None:
        cells = record.cells
        ident = _cell(cells, at_id)
        mine = router.number(_cell(cells, at_key)[:cut])
        one.note("transactions", ident, router.keys[mine])
        spread(mine, needs.pop(ident, None), record, ident)

    def fast(block: _Lines) -> None:
        route, outs, idparts, salt, end = one.fast_maps("transactions", block)
        pop = needs.pop
        for line, text in enumerate(block.lines, block.first):
            cells = text.split(",", width)
            try:
                ident = cells[at_id].strip()  # type: ignore[index]
                p = route[cells[at_key].strip()[:cut]]  # type: ignore[index]
                buckets, out = idparts[p], outs[p]
            except (IndexError, KeyError):  # (a blank line too, which the general path skips)
                _general(general, line, cells, text + end)
                continue
            h = hash(ident) ^ salt
            buckets[h & (BUCKETS - 1)].append(h)
            more = pop(ident, None)
            if more is None or more == p:
                out.text.append(text)
                out.at.append(line)
            else:
                spread(p, more, _Record(line, cells, text + end, 1), ident)

    one.each(path, width, general, fast if one.ids is not None and None not in (at_id, at_key) else None,
             "transactions")
