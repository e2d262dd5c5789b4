"""Splits facts bundles into partitions by streaming their CSV files: the blotter is never held whole.

Why partitions are built this way: every rule judges one entity against
the small governance graph, so a partition needs the governance tables
whole (copied into each) and, of the blotter, the rows it *owns* plus the
rows those rows' rules read (carried, their own findings dropped at the
merge):

* a transaction is owned by the partition of its key (its series, or the
  year of its date);
* a benefit likewise (its generating series, or its year); it brings its
  transaction, and every expenditure it funds (BEP-2.2 sums them);
* an expenditure by its own year, or (by series) by the first of its
  funding benefits' partitions; it brings every benefit that funds it
  (BEP-4.1 reads their series) and so their transactions.

Each CSV is read in order (benefits twice), with only routing maps in
memory: the partition of each benefit id, the extra partitions a row is
carried to, and a hash of each blotter id (a duplicate id whose copies
land in different partitions would escape the partitions' own readers).
A row is written exactly as the reader will read it (``csv`` module,
RFC 4180); the original line of each written row is kept beside the
partition (``lines/``) so a partition's error names the bundle's line.
"""

from __future__ import annotations

import csv
import shutil
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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


class _Counter:
    """A file wrapper that counts the physical lines written (a quoted cell may hold a newline)."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh, self.lines = fh, 1  # the header

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return self.fh.write(text)


class _Writers:
    """The open CSV writers of every (partition, bundle, blotter table), created on first use."""

    def __init__(self, root: Path, headers: dict[tuple[int, str], list[str]], router: _Router) -> None:
        self.root, self.headers, self.router = root, headers, router
        self.open: dict[tuple[str, int, str], tuple[IO[str], _Counter, Any]] = {}
        self.lines: dict[str, dict[str, dict[str, array[int]]]] = {}  # part -> bundle -> file -> line pairs
        self.rows: dict[str, dict[str, int]] = {}

    def part_folder(self, part: str) -> Path:
        """A partition's folder, named by its number: a key is a cell of the bundle, never a path."""
        return self.root / f"p{self.router.index[self.router.own(part)]:04d}"

    def folder(self, part: str, bundle: Path) -> Path:
        return self.part_folder(part) / bundle.name

    def write(self, part: str, b: int, bundle: Path, table: str, record: list[str], line: int) -> None:
        key = (part, b, table)
        entry = self.open.get(key)
        if entry is None:
            folder = self.folder(part, bundle)
            folder.mkdir(parents=True, exist_ok=True)
            fh = open(folder / f"{table}.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()
            counter = _Counter(fh)
            writer = csv.writer(counter)
            writer.writerow(self.headers[(b, table)])
            entry = self.open[key] = (fh, counter, writer)
        fh, counter, writer = entry
        pairs = self.lines.setdefault(part, {}).setdefault(bundle.name, {}).setdefault(f"{table}.csv", array("i"))
        pairs.append(counter.lines + 1)  # where the row starts in the partition's file
        pairs.append(line)  # and in the bundle's
        writer.writerow(record)
        rows = self.rows.setdefault(part, {})
        rows[table] = rows.get(table, 0) + 1

    def close(self) -> None:
        for fh, _, _ in self.open.values():
            fh.close()
        self.open.clear()


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(start line, cells) of each non-blank record of *path* after the header, as the reader counts lines."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, strict=True)
        next(reader, None)
        line = 1
        for record in reader:
            start = line + 1
            line = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            yield start, record


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [h.strip() for h in next(csv.reader(handle, strict=True), [])]


def _cell(record: list[str], index: int | None) -> str:
    return record[index].strip() if index is not None and index < len(record) else ""


class _Router:
    """Which partition owns a row, and which partitions it is carried to."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.index: dict[str, int] = {}  # key -> its number (one string object per key, however many rows)
        self.keys: list[str] = []

    def own(self, key: str) -> str:
        key = key or "unkeyed"
        if key not in self.index:
            self.index[key] = len(self.keys)
            self.keys.append(key)
        return self.keys[self.index[key]]

    def by_row(self, record: list[str], series: int | None, day: int | None) -> str:
        if self.mode == "series":
            return self.own(_cell(record, series))
        return self.own(_cell(record, day)[:4])


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


def split_bundles(bundles: Sequence[Path], mode: str, root: Path,
                  check: Callable[[Path], None]) -> Split:
    """Write the partitions of *bundles* under *root*; *check* raises the reader's exact error for a bundle.

    Raises BundleError when a bundle is malformed in a way the split itself
    meets (the error is the reader's own, from *check*).
    """
    if mode not in MODES:
        raise ValueError(f"unknown partition mode {mode!r}")
    for folder in bundles:
        if not folder.is_dir() or irregular_bundle_files(folder, [p for p in folder.iterdir() if p.suffix.lower() == ".csv"]):
            check(folder)  # the reader's own refusal (not a folder, a symlink out of it, a FIFO)
    router = _Router(mode)
    headers: dict[tuple[int, str], list[str]] = {}
    carried: dict[str, set[str]] = {}
    seen: dict[int, int] = {}
    writers = _Writers(root, headers, router)
    try:
        for b, folder in enumerate(bundles):
            try:
                _split_one(b, bundles, router, headers, writers, carried, seen)
            except (_Suspect, csv.Error, UnicodeDecodeError, IndexError, KeyError):
                check(folder)  # the reader words it (a duplicate id, malformed CSV)
                raise
    finally:
        writers.close()
    keys = sorted(router.keys) or ["all"]
    partitions = []
    for key in keys:
        part = Partition(key=key, folder=writers.part_folder(key))
        for folder in bundles:
            sub = writers.folder(key, folder)
            sub.mkdir(parents=True, exist_ok=True)
            _copy_governance(folder, sub)
            part.bundles.append(sub)
        part.rows = writers.rows.get(key, {})
        names = sorted(carried.get(key, set()))
        part.carried = len(names)
        (part.folder / CARRIED_FILE).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        for bundle_name, files in writers.lines.get(key, {}).items():
            where = part.folder / LINES_DIR / bundle_name
            where.mkdir(parents=True, exist_ok=True)
            for file, pairs in files.items():
                with open(where / f"{file}.bin", "wb") as fh:
                    pairs.tofile(fh)
        partitions.append(part)
    return Split(mode, list(bundles), partitions)


def _copy_governance(folder: Path, sub: Path) -> None:
    """Every CSV but the blotter's, as it is (line numbers and all); a blotter table with no row here, as its header."""
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".csv":
            continue
        if path.stem in BLOTTER:
            target = sub / path.name
            if not target.exists():
                target.write_text(",".join(_quoted(_header(path))) + "\r\n", encoding="utf-8")
            continue
        shutil.copyfile(path, sub / path.name)


def _quoted(cells: list[str]) -> list[str]:
    return [f'"{c}"' if any(ch in c for ch in ',"\r\n') else c for c in cells]


def _split_one(b: int, bundles: Sequence[Path], router: _Router, headers: dict[tuple[int, str], list[str]],
               writers: _Writers, carried: dict[str, set[str]], seen: dict[int, int]) -> None:
    folder = bundles[b]
    paths = {t: _blotter_path(folder, t) for t in BLOTTER}
    cols: dict[str, dict[str, int]] = {}
    for table, path in paths.items():
        if path is not None:
            headers[(b, table)] = _header(path)
            cols[table] = {name: i for i, name in enumerate(headers[(b, table)]) if name in {c.name for c in TABLES[table].columns}}

    def put(part: str, table: str, record: list[str], line: int, ident: str, owned: bool) -> None:
        writers.write(part, b, folder, table, record, line)
        if not owned:
            carried.setdefault(part, set()).add(f"{table}/{ident}")

    # 1. benefits: the owner of each benefit id
    owner: dict[str, str] = {}
    if (path := paths["benefits"]) is not None:
        c = cols["benefits"]
        for _, record in _records(path):
            ident = _cell(record, c.get("id"))
            owner[ident] = router.by_row(record, c.get("generating_series"), c.get("date"))
    # 2. expenditures: written to their owner and to every funding benefit's owner
    extra: dict[str, set[str]] = {}  # benefit id -> partitions it is carried to
    if (path := paths["expenditures"]) is not None:
        c = cols["expenditures"]
        for line, record in _records(path):
            ident = _cell(record, c.get("id"))
            funded = [p.strip() for p in _cell(record, c.get("funded_by")).split(";") if p.strip()]
            theirs = sorted({owner.get(f) or router.own("unkeyed") for f in funded})
            mine = theirs[0] if router.mode == "series" and theirs else router.by_row(record, None, c.get("date"))
            _check_id(seen, router, b, bundles, "expenditures", ident, mine)
            for part in sorted({mine, *theirs}):
                put(part, "expenditures", record, line, ident, part == mine)
                for f in funded:
                    if owner.get(f) != part:
                        extra.setdefault(f, set()).add(part)
    del owner
    # 3. benefits: written to their owner and wherever an expenditure carried them
    needs: dict[str, str | frozenset[str]] = {}  # transaction id -> partition(s) its benefits are in
    if (path := paths["benefits"]) is not None:
        c = cols["benefits"]
        for line, record in _records(path):
            ident = _cell(record, c.get("id"))
            mine = router.by_row(record, c.get("generating_series"), c.get("date"))
            _check_id(seen, router, b, bundles, "benefits", ident, mine)
            parts = {mine} | extra.get(ident, set())
            for part in sorted(parts):
                put(part, "benefits", record, line, ident, part == mine)
            if tx := _cell(record, c.get("transaction")):
                _add(needs, tx, parts)
    del extra
    # 4. transactions: written to their owner and wherever a benefit carried them
    if (path := paths["transactions"]) is not None:
        c = cols["transactions"]
        for line, record in _records(path):
            ident = _cell(record, c.get("id"))
            mine = router.by_row(record, c.get("series"), c.get("date"))
            _check_id(seen, router, b, bundles, "transactions", ident, mine)
            for part in sorted({mine} | _parts(needs.pop(ident, frozenset()))):
                put(part, "transactions", record, line, ident, part == mine)
