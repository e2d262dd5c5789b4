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
"""

from __future__ import annotations

import csv
import functools
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

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
    """One open partition file: the bundle's records copied byte for byte, with where each one starts."""

    def __init__(self, path: Path, header: str) -> None:
        self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by _Writers.close
        self.fh.write(header)
        self.lines = header.count("\n") or 1
        self.pairs = array("i")  # (line in this file, line in the bundle's) of each record


class _Writers:
    """The open files of every (partition, bundle, blotter table), created on first use."""

    def __init__(self, root: Path, headers: dict[tuple[int, str], str], router: _Router) -> None:
        self.root, self.headers, self.router = root, headers, router
        self.open: dict[tuple[str, int, str], _Out] = {}
        self.rows: dict[str, dict[str, int]] = {}

    def part_folder(self, part: str) -> Path:
        """A partition's folder, named by its number: a key is a cell of the bundle, never a path."""
        return self.root / f"p{self.router.index[self.router.named(part)]:04d}"

    def folder(self, part: str, bundle: Path) -> Path:
        return self.part_folder(part) / bundle.name

    def write(self, part: str, b: int, bundle: Path, table: str, record: _Record) -> None:
        out = self.open.get((part, b, table))
        if out is None:
            folder = self.folder(part, bundle)
            folder.mkdir(parents=True, exist_ok=True)
            out = self.open[(part, b, table)] = _Out(folder / f"{table}.csv", self.headers[(b, table)])
        line, _, raw, physical = record
        out.pairs.append(out.lines + 1)
        out.pairs.append(line)
        out.fh.write(raw)
        out.lines += physical

    def lines(self, part: str, b: int) -> dict[str, array[int]]:
        """File name -> line pairs of partition *part*'s copy of bundle *b*."""
        return {f"{t}.csv": o.pairs for (p, bb, t), o in self.open.items() if p == part and bb == b}

    def counts(self, part: str) -> dict[str, int]:
        return {t: len(o.pairs) // 2 for (p, _, t), o in self.open.items() if p == part}

    def close(self) -> None:
        for out in self.open.values():
            out.fh.close()


class _Record(NamedTuple):
    line: int  # where it starts in the bundle's file
    cells: list[str]  # (with a *width*, the cells up to it; the last holds the rest of the line)
    raw: str  # its text, line ends included
    physical: int  # the lines it spans


def _raw_records(path: Path, width: int = -1) -> Iterator[_Record]:
    """Every record of *path*, header first, as the bundle reader (``csv``, strict) splits and numbers them.

    A line without a quote is split on commas as it is; a quoted record is
    handed to ``csv`` whole, however many lines it spans. The record's own
    text is kept, so a partition's file holds the very bytes of the bundle's.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        line = 0
        pending: list[str] = []
        for text in handle:
            line += 1
            if not pending and '"' not in text:
                yield _Record(line, text.rstrip("\r\n").split(",", width), text, 1)
                continue
            pending.append(text)
            joined = "".join(pending)
            if joined.count('"') % 2:
                continue  # a quoted cell goes on on the next line
            cells = next(csv.reader([joined], strict=True), [])
            yield _Record(line - len(pending) + 1, cells, joined, len(pending))
            pending = []
        if pending:
            raise csv.Error(f"{path.name}: unexpected end of data in a quoted cell")


def _records(path: Path, columns: Iterable[int | None] = ()) -> Iterator[_Record]:
    """The non-blank records of *path* after its header; a last line without its end gets one.

    With *columns*, only the cells up to the last of them are split out (a
    trade's id, series and date come first: the rest of its line is copied
    as it is, never parsed).
    """
    wanted = [c for c in columns if c is not None]
    records = _raw_records(path, max(wanted) + 1 if wanted else -1)
    next(records, None)
    for record in records:
        if not record.raw.endswith(("\n", "\r")):
            record = record._replace(raw=record.raw + "\r\n")
        if len(record.cells) == 1 and not record.cells[0].strip():
            continue
        yield record


def _header(path: Path) -> str:
    header = next(_raw_records(path), None)
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


SAMPLE_ROWS = 50_000  # trades read ahead to see the series' shares of the blotter


def _sample(bundles: Sequence[Path]) -> tuple[dict[str, int], int]:
    """Series -> trades among the first rows of each bundle's blotter, and the blotter's estimated trades."""
    counts: dict[str, int] = {}
    estimate = 0
    for folder in bundles:
        path = _blotter_path(folder, "transactions")
        if path is None:
            continue
        names = [n.strip() for n in next(_raw_records(path)).cells]
        at = names.index("series") if "series" in names else None
        read = size = 0
        for record in _records(path, (at,)):
            key = _cell(record.cells, at)
            counts[key] = counts.get(key, 0) + 1
            read, size = read + 1, size + len(record.raw)
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
        h = hash((table, ident))
        i = self.router.index[part]
        try:
            buckets = self.parts[i]
        except IndexError:
            while len(self.parts) <= i:
                self.parts.append([array("q") for _ in range(BUCKETS)])
            buckets = self.parts[i]
        buckets[h & (BUCKETS - 1)].append(h)

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


def _add(needs: dict[str, str | frozenset[str]], key: str, parts: set[str]) -> None:
    """Note *parts* for *key*: one partition as a plain string (most rows), several as a frozenset."""
    had = needs.get(key)
    merged = parts | _parts(had) if had is not None else parts
    needs[key] = next(iter(merged)) if len(merged) == 1 else frozenset(merged)


def _parts(value: str | frozenset[str]) -> frozenset[str]:
    return frozenset((value,)) if isinstance(value, str) else value


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
    _split_all(bundles, router, writers, carried, check, lambda b: ids.note)
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
               check: Callable[[Path], None], noting: Callable[[int], Callable[[str, str, str], None]]) -> None:
    """Route every bundle's blotter into *writers*' files; ``noting(b)`` notes bundle *b*'s ids."""
    try:
        for b, folder in enumerate(bundles):
            try:
                _split_one(b, bundles, router, writers.headers, writers, carried, noting(b))
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


def _split_one(b: int, bundles: Sequence[Path], router: _Router, headers: dict[tuple[int, str], str],
               writers: _Writers, carried: dict[str, set[str]], note: Callable[[str, str, str], None]) -> None:
    folder = bundles[b]
    paths = {t: _blotter_path(folder, t) for t in BLOTTER}
    cols: dict[str, dict[str, int]] = {}
    for table, path in paths.items():
        if path is not None:
            headers[(b, table)] = _header(path)
            names = next(_raw_records(path)).cells
            known = {c.name for c in TABLES[table].columns}
            cols[table] = {name.strip(): i for i, name in enumerate(names) if name.strip() in known}

    def put(part: str, table: str, record: _Record, ident: str, owned: bool) -> None:
        writers.write(part, b, folder, table, record)
        if not owned:
            carried.setdefault(part, set()).add(f"{table}/{ident}")

    # 1. benefits: the owner of each benefit id
    owner: dict[str, str] = {}
    if (path := paths["benefits"]) is not None:
        c = cols["benefits"]
        for record in _records(path):
            ident = _cell(record.cells, c.get("id"))
            owner[ident] = router.by_row(record.cells, c.get("generating_series"), c.get("date"))
    # 2. expenditures: written to their owner and to every funding benefit's owner
    extra: dict[str, set[str]] = {}  # benefit id -> partitions it is carried to
    if (path := paths["expenditures"]) is not None:
        c = cols["expenditures"]
        for record in _records(path):
            ident = _cell(record.cells, c.get("id"))
            funded = [p.strip() for p in _cell(record.cells, c.get("funded_by")).split(";") if p.strip()]
            theirs = sorted({owner.get(f) or router.own("unkeyed") for f in funded})
            mine = theirs[0] if router.mode == "series" and theirs else router.by_row(record.cells, None, c.get("date"))
            note("expenditures", ident, mine)
            for part in sorted({mine, *theirs}):
                put(part, "expenditures", record, ident, part == mine)
                for f in funded:
                    if owner.get(f) != part:
                        extra.setdefault(f, set()).add(part)
    del owner
    # 3. benefits: written to their owner and wherever an expenditure carried them
    needs: dict[str, str | frozenset[str]] = {}  # transaction id -> partition(s) its benefits are in
    if (path := paths["benefits"]) is not None:
        c = cols["benefits"]
        for record in _records(path):
            ident = _cell(record.cells, c.get("id"))
            mine = router.by_row(record.cells, c.get("generating_series"), c.get("date"))
            note("benefits", ident, mine)
            parts = {mine} | extra.get(ident, set())
            for part in sorted(parts):
                put(part, "benefits", record, ident, part == mine)
            if tx := _cell(record.cells, c.get("transaction")):
                _add(needs, tx, parts)
    del extra
    # 4. transactions: written to their owner and wherever a benefit carried them
    if (path := paths["transactions"]) is not None:
        c = cols["transactions"]
        at_id, at_series, at_date = c.get("id"), c.get("series"), c.get("date")
        for record in _records(path, (at_id, at_series, at_date)):  # the hot loop: most go to their own partition
            ident = _cell(record.cells, at_id)
            mine = router.by_row(record.cells, at_series, at_date)
            note("transactions", ident, mine)
            more = needs.pop(ident, None)
            if more is None or more == mine:
                writers.write(mine, b, folder, "transactions", record)
                continue
            for part in sorted({mine} | _parts(more)):
                put(part, "transactions", record, ident, part == mine)
