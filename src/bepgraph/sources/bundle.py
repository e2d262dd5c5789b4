"""Reader of a facts bundle: a folder of CSV files, one per table of the contract.

The reader checks every cell (type, required, enumerated value, reference)
of every table before anything reaches the store, collects every problem
with its file, line and column, and either returns the whole bundle as
N-Triples or raises one :class:`~bepgraph.errors.BundleError` listing them
all. It writes the triples to a spooled file as it goes, so a million-trade
blotter is read in one pass without holding ten million terms in memory.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..errors import BundleError, Problem
from ..namespaces import DCTERMS, RDF, entity_iri
from .files import irregular_bundle_files
from .ntriples import bep, iri, literal, typed
from .tables import CATEGORY_CODES, TABLE_ORDER, TABLES, Column, Table

if TYPE_CHECKING:
    import _csv

__all__ = ["BundleSource", "Row", "read_bundle"]

RDF_TYPE = f"<{RDF}type>"
IDENTIFIER = f"<{DCTERMS}identifier>"
MAX_PROBLEMS = 200

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


@dataclass
class BundleSource:
    """A bundle read and checked: its triples (a spooled N-Triples file, empty when they went
    to a sink) and where they came from."""

    folder: Path
    ntriples: IO[bytes]
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    rows: dict[str, int] = field(default_factory=dict)   # table -> rows read
    triples: int = 0

    @property
    def digest(self) -> str:
        """One sha256 over the files' own digests, in name order."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(f"{name}:{self.files[name]}\n".encode())
        return h.hexdigest()

    def close(self) -> None:
        self.ntriples.close()


@dataclass(frozen=True)
class Row:
    """One checked row held back from the stream, because another source may already state it.

    The loader compares it with what the store holds (``holdings.py``): the
    same values are one fact, other values under the same key a conflict.
    """

    table: Table
    file: str
    line: int
    subject: str  # the row's IRI term, ``<…>``
    lines: tuple[str, ...]  # its N-Triples lines
    key: str = ""  # the row's key as written (``matter/trustee`` for a ballot)


class _Invalid(Exception):
    """A cell that does not fit its column; the message is the reason shown to the user."""


Converter = Callable[[str], list[str]]


def _split(cell: str, many: bool) -> list[str]:
    if not many:
        return [cell]
    parts = [p.strip() for p in cell.split(";")]
    if any(not p for p in parts):
        raise _Invalid(f"list '{cell}' has an empty item (items are separated by ';')")
    return parts


def _date_term(cell: str) -> str:
    if not _DATE.match(cell):
        raise _Invalid(f"'{cell}' is not an ISO 8601 date (YYYY-MM-DD)")
    try:
        date.fromisoformat(cell)
    except ValueError:
        raise _Invalid(f"'{cell}' is not a calendar date") from None
    return typed(cell, "date")


def _decimal_term(cell: str) -> str:
    if not _DECIMAL.match(cell):
        raise _Invalid(f"'{cell}' is not a decimal number (digits with an optional '.', no exponent, no separators)")
    return typed(cell, "decimal")


class _Converters:
    """Cell converters per column, with caches: most cells of a blotter repeat (dates, brokers, flags)."""

    def __init__(self, known: dict[str, dict[str, str]]) -> None:
        self.known = known  # table -> id -> IRI term

    def for_column(self, table: Table, col: Column) -> Converter:
        if col.type == "string":
            return lambda cell: [literal(cell)]
        if col.type == "date":
            return self._cached(_date_term, col.many)
        if col.type == "decimal":
            if col.name == "percent":
                return self._percent
            return lambda cell: [_decimal_term(cell)]
        if col.type == "boolean":
            booleans = {"true": typed("true", "boolean"), "false": typed("false", "boolean")}

            def boolean(cell: str) -> list[str]:
                try:
                    return [booleans[cell]]
                except KeyError:
                    raise _Invalid(f"'{cell}' is not a boolean (true or false)") from None

            return boolean
        if col.type == "enum":
            return self._enum(col)
        return self._ref(col)

    @staticmethod
    def _cached(convert: Callable[[str], str], many: bool) -> Converter:
        cache: dict[str, list[str]] = {}

        def run(cell: str) -> list[str]:
            hit = cache.get(cell)
            if hit is None:
                hit = cache[cell] = [convert(part) for part in _split(cell, many)]
            return hit

        return run

    @staticmethod
    def _percent(cell: str) -> list[str]:
        term = _decimal_term(cell)
        if not 0 <= float(cell) <= 100:
            raise _Invalid(f"percent {cell} is outside 0–100")
        return [term]

    def _enum(self, col: Column) -> Converter:
        if col.classes:
            allowed = {code: bep(cls) for code, cls in col.classes.items()}
        elif col.name == "category":
            allowed = {code: bep(name) for code, name in CATEGORY_CODES.items()}
        else:
            allowed = {code: literal(code) for code in col.values}
        choices = ", ".join(sorted(allowed))

        def convert(part: str) -> str:
            try:
                return allowed[part]
            except KeyError:
                raise _Invalid(f"'{part}' is not one of: {choices}") from None

        return self._cached(convert, col.many)

    def _ref(self, col: Column) -> Converter:
        # every target table was read before this one (TABLE_ORDER), so the ids are all known now
        merged: dict[str, list[str]] = {}
        for target in reversed(col.refs):
            merged.update({ident: [term] for ident, term in self.known[target].items()})
        names = " or ".join(t.rstrip("s") if t != "series" else t for t in col.refs)

        def one(part: str) -> list[str]:
            hit = merged.get(part)
            if hit is None:
                raise _Invalid(f"'{part}' is not a known {names} id")
            return hit

        if not col.many:
            return one
        return lambda cell: [one(part)[0] for part in _split(cell, True)]


_PLAIN_ID = re.compile(r"[A-Za-z0-9._~-]+\Z")


def _row_iri(prefix: str, table: Table, row_key: str) -> str:
    if _PLAIN_ID.match(row_key):
        return prefix + row_key + ">"
    return iri(entity_iri(table.name, row_key))


def _header_problems(header: list[str], table: Table, problem: Callable[[int, str, str], None]) -> bool:
    """Report what is wrong with a table's header row; whether anything was."""
    by_name = {c.name: c for c in table.columns}
    bad_header = False
    for col in table.columns:
        if col.required and col.name not in header:
            problem(1, col.name, "required column is missing from the header")
            bad_header = True
    for at, h in enumerate(header):
        if h not in by_name:
            problem(1, h, f"unknown column (the {table.name} table has: {', '.join(by_name)})")
            bad_header = True
        elif header.count(h) > 1 and header.index(h) == at:  # once per repeated name
            problem(1, h, "column appears more than once in the header")
            bad_header = True
    return bad_header


@dataclass(frozen=True)
class _Layout:
    """How a table's rows are read, worked out once from its header."""

    class_cols: list[tuple[int, Column, Converter]]  # (index, column, converter)
    plan_cols: list[tuple[int, Column, str, Converter]]  # (index, column, predicate, converter)
    required: list[tuple[int, str]]  # (index, column name)
    key_index: list[int]
    width: int


def _layout(header: list[str], table: Table, conv: _Converters, bad_header: bool) -> _Layout:
    by_name = {c.name: c for c in table.columns}
    plan_cols = []
    class_cols = []
    for i, h in enumerate(header):
        col = by_name.get(h)
        if bad_header or col is None or col.name == "id":
            continue
        converter = conv.for_column(table, col)
        if col.classes:
            class_cols.append((i, col, converter))
        else:
            plan_cols.append((i, col, bep(col.prop or ""), converter))
    required = [(i, by_name[h].name) for i, h in enumerate(header) if h in by_name and by_name[h].required]
    return _Layout(class_cols, plan_cols, required, [header.index(k) for k in table.key], len(header))


def _row_lines(s: str, key: str, record: list[str], layout: _Layout, cls_term: str, start: int,
               problem: Callable[[int, str, str], None]) -> list[str] | None:
    """The N-Triples lines of one row whose key is *key* (IRI term *s*); None when a cell is wrong (reported)."""
    ok = True
    for i, col_name in layout.required:
        if not record[i].strip():
            problem(start, col_name, "required value is empty")
            ok = False
    if not ok:
        return None
    lines = [f"{s} {RDF_TYPE} {cls_term} .\n", f"{s} {IDENTIFIER} {literal(key)} .\n"]
    for i, col, convert in layout.class_cols:
        cell = record[i].strip()
        try:
            for cls in convert(cell):
                if cls != cls_term:
                    lines.append(f"{s} {RDF_TYPE} {cls} .\n")
        except _Invalid as exc:
            problem(start, col.name, str(exc))
            ok = False
    for i, col, pred, convert in layout.plan_cols:
        cell = record[i].strip()
        if not cell:
            continue
        try:
            for o in convert(cell):
                lines.append(f"{s} {pred} {o} .\n")
        except _Invalid as exc:
            problem(start, col.name, str(exc))
            ok = False
    return lines if ok else None


def _read_header(reader: Iterator[list[str]], table: Table, problem: Callable[[int, str, str], None]
                 ) -> tuple[list[str], bool] | None:
    """The header row, stripped, and whether it has problems; None when no row can be read against it
    (no header, or one without the key columns)."""
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        problem(1, "", f"the header row is not valid CSV/UTF-8 ({exc})")
        return None
    if header is None:
        problem(1, "", "the file is empty: it needs at least a header row")
        return None
    header = [h.strip() for h in header]
    bad_header = _header_problems(header, table, problem)
    if bad_header and not all(k in header for k in table.key):
        return None
    return header, bad_header


def _read_table(
    path: Path,
    table: Table,
    conv: _Converters,
    emit: Callable[[bytes], object],
    problems: list[Problem],
    on_rows: Callable[[int], None],
    hold: Callable[[str], bool] | None = None,
    on_held: Callable[[Row], None] | None = None,
) -> tuple[int, int, dict[str, str]]:
    """Check and convert one CSV; returns (rows, triples, new ids -> IRI terms)."""
    name = path.name

    def problem(line: int, column: str, reason: str) -> None:
        problems.append(Problem(name, line, column, reason))

    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        problem(0, "", f"cannot be read ({exc.strerror})")
        return 0, 0, {}
    with handle:
        reader = csv.reader(handle, strict=True)
        read = _read_header(reader, table, problem)
        if read is None:
            return 0, 0, {}
        header, bad_header = read
        layout = _layout(header, table, conv, bad_header)
        rows, triples, new_ids = _read_rows(reader, name, table, layout, bad_header, emit, problems, problem,
                                            on_rows, hold, on_held)
    on_rows(rows % 10_000)
    return rows, triples, new_ids


def _read_rows(
    reader: _csv.Reader,
    name: str,
    table: Table,
    layout: _Layout,
    bad_header: bool,
    emit: Callable[[bytes], object],
    problems: list[Problem],
    problem: Callable[[int, str, str], None],
    on_rows: Callable[[int], None],
    hold: Callable[[str], bool] | None,
    on_held: Callable[[Row], None] | None,
) -> tuple[int, int, dict[str, str]]:
    """The rows after the header: each row's id (kept even when the row is rejected), then its triples,
    emitted in large chunks while no problem is found. One loop over every row, with no call per row beyond
    the conversion itself: this is the bundle reader's hot path."""
    new_ids: dict[str, str] = {}
    first_line: dict[str, int] = {}
    triples = 0
    rows = 0
    cls_term = bep(table.cls)
    prefix = "<" + entity_iri(table.name, "x")[:-1]
    key_index, width = layout.key_index, layout.width
    last_key = max(key_index)
    chunk: list[str] = []
    line = 1
    try:
        for record in reader:
            start = line + 1
            line = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            rows += 1
            if rows % 10_000 == 0:
                on_rows(10_000)
            if len(problems) >= MAX_PROBLEMS:
                break
            # the row's id is known even when the row is rejected, so that rows
            # referring to it are not reported as unknown references as well
            keys = [record[i].strip() for i in key_index] if len(record) > last_key else []
            key = "/".join(keys) if keys and all(keys) else ""
            if key:
                seen = first_line.get(key)
                if seen is not None:
                    problem(start, "/".join(table.key), f"duplicate id '{key}' (first on line {seen})")
                    continue
                first_line[key] = start
                new_ids[key] = _row_iri(prefix, table, key)
            if bad_header:
                continue
            if len(record) != width:
                problem(start, "", f"expected {width} fields as in the header, found {len(record)}")
                continue
            s = new_ids.get(key, "")  # no key: a required cell is empty, which _row_lines reports
            lines = _row_lines(s, key, record, layout, cls_term, start, problem)
            if lines is None or problems:
                continue
            triples += len(lines)
            if hold is not None and on_held is not None and hold(s):
                on_held(Row(table, name, start, s, tuple(lines), key))
                continue
            chunk.extend(lines)
            if len(chunk) > 200_000:
                emit("".join(chunk).encode())
                chunk.clear()
    except csv.Error as exc:
        problem(reader.line_num, "", f"malformed CSV ({exc})")
    except UnicodeDecodeError as exc:
        problem(line + 1, "", f"not valid UTF-8 ({exc.reason})")
    if chunk and not problems:
        emit("".join(chunk).encode())
    return rows, triples, new_ids


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bundle(
    folder: Path,
    known_ids: dict[str, set[str]],
    on_rows: Callable[[int], None] = lambda n: None,
    sink: Callable[[bytes], None] | None = None,
    hold: Callable[[str], bool] | None = None,
    on_held: Callable[[Row], None] | None = None,
) -> BundleSource:
    """Check and convert the bundle in *folder*; *known_ids* are the ids the filing defines.

    Raises BundleError with every problem found; on success the caller owns
    the returned source and must close it. With a *sink*, chunks of
    N-Triples go to it as they are made (so a loader can store them while
    the rest is read) and no more once a problem is found; the caller must
    then discard what it stored if this raises. Rows whose subject term
    *hold* accepts are not written but handed to *on_held*, so that the
    loader can compare them with what other sources already state.
    """
    problems: list[Problem] = []
    if not folder.is_dir():
        raise BundleError([Problem(str(folder), 0, "", "is not a folder of CSV files")])
    present = {p.name: p for p in folder.iterdir() if p.suffix.lower() == ".csv"}
    for name in sorted(present):
        if name[:-4] not in TABLES:
            problems.append(Problem(name, 0, "", f"unknown table (known: {', '.join(TABLE_ORDER)})"))
    if not present:
        problems.append(Problem(str(folder), 0, "", "holds no CSV files of the facts bundle"))
    if irregular := irregular_bundle_files(folder, present.values()):  # before anything is hashed or opened
        raise BundleError(problems + irregular)

    known: dict[str, dict[str, str]] = {name: {} for name in [*TABLES, "plan"]}
    for table_name, ids in known_ids.items():
        for ident in ids:
            known[table_name][ident] = iri(entity_iri(table_name, ident))
    conv = _Converters(known)
    out = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115 - the returned BundleSource owns it
    try:
        source = BundleSource(folder=folder, ntriples=out)
        emit = sink or out.write
        for table_name in TABLE_ORDER:
            path = present.get(f"{table_name}.csv")
            if path is None:
                continue
            source.files[path.name] = _sha256(path)
            rows, triples, new_ids = _read_table(path, TABLES[table_name], conv, emit, problems, on_rows,
                                                 hold, on_held)
            source.rows[table_name] = rows
            source.triples += triples
            known[table_name].update(new_ids)
            if len(problems) >= MAX_PROBLEMS:
                problems.append(Problem(path.name, 0, "", f"stopped after {MAX_PROBLEMS} problems"))
                break
        if problems:
            raise BundleError(problems)
    except BaseException:
        out.close()  # whatever stopped the reading (problems, a sink or a file that failed), no spool is left open
        raise
    out.seek(0)
    return source

