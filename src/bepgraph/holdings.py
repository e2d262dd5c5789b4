"""Which source holds each fact: one fact is stored once, however many sources state it.

SPARQL's union default graph is a multiset over the named graphs: a triple
held by two graphs comes back twice, and every join and ``SUM`` multiplies
it. So each fact is *held* by exactly one source graph (the filing, the
ontology or a bundle), and every other source that states it says so in
``graph/meta`` with a plain literal, which adds no fact of its own to the
union:

* ``<bundle> bep:repeatsRow "<s>"``: the bundle gives row *s* with the
  values of a row another bundle already gives (bundles never disagree on a
  row: that is a conflict, refused at load). One record per row, whatever
  its number of facts: a full re-export costs one record per row.
* ``<source> bep:repeats "<s> <p> <o>"``: one fact held by a source that is
  not a bundle row (the filing, the ontology), or of a bundle row no other
  bundle gives. These are few: the overlaps of the bundles with the filing.

The bundle that states a row fact by fact (holds its facts, or repeats
them one by one) is the row's *first* bundle; a row record reads the row
from it. When a source is replaced, a row it was first for moves to a bundle
that records it, and a fact it held that another source repeats moves to that
source's graph (:func:`transfers`), so the store keeps exactly the facts the
remaining sources state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import Problem
from .namespaces import BEP, DCTERMS, RDF, graph_iri, split_entity_iri
from .sources.bundle import MAX_PROBLEMS, Row
from .sources.ntriples import bep, literal
from .sources.tables import Table
from .store import META, Store

__all__ = [
    "REPEATS",
    "REPEATS_ROW",
    "Holdings",
    "RowJudge",
    "canonical",
    "stated",
    "transfers",
]

REPEATS = BEP + "repeats"
REPEATS_ROW = BEP + "repeatsRow"
_SOURCE = DCTERMS + "source"
_RDF_TYPE = f"<{RDF}type>"
_IDENTIFIER = f"<{DCTERMS}identifier>"
_BATCH = 1000
_BUNDLE_PREFIX = graph_iri("bundle/")


def canonical(ntriples: str | bytes) -> list[str]:
    """The triples of *ntriples* as the store gives them back (``s p o``, literals in canonical form).

    Oxigraph keeps numbers by value (``1200.00`` comes back as ``1200``), so
    rows are compared as values, the way the store will hold them.
    """
    scratch = ox.Store()
    data = ntriples.encode() if isinstance(ntriples, str) else ntriples
    scratch.load(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)
    return [f"{q.subject} {q.predicate} {q.object}" for q in scratch]


def _subject(line: str) -> str:
    return line.split(" ", 1)[0]


def _terms(line: str) -> tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal | ox.BlankNode]:
    triple = next(iter(ox.parse((line + " .").encode(), format=ox.RdfFormat.N_TRIPLES)))
    return triple.subject, triple.predicate, triple.object


def is_bundle(graph: str) -> bool:
    return graph.startswith(_BUNDLE_PREFIX)


@dataclass
class Holdings:
    """The committed sources of a store, and the facts each repeats one by one (few: see the module)."""

    sources: list[str]
    labels: dict[str, str]  # graph -> where it came from, for messages
    repeats: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store) -> "Holdings":
        sources: list[str] = []
        labels: dict[str, str] = {}
        repeats: dict[str, set[str]] = {}
        text = (f"SELECT ?g ?p ?o WHERE {{ GRAPH <{META}> {{ ?g ?p ?o }} "
                f"FILTER (?p IN (<{_SOURCE}>, <{REPEATS}>)) }}")
        for row in store.query(text):  # type: ignore[union-attr]
            graph, pred, value = row["g"].value, row["p"].value, row["o"].value
            if pred == _SOURCE:
                sources.append(graph)
                labels[graph] = value
            else:
                repeats.setdefault(graph, set()).add(value)
        return cls(sorted(set(sources)), labels, repeats)

    def label(self, graph: str) -> str:
        """A source as a user names it: a bundle by its folder name and path."""
        name = graph[len(_BUNDLE_PREFIX):] if is_bundle(graph) else graph.rsplit("/", 1)[-1]
        where = self.labels.get(graph)
        return f"bundle '{name}' ({where})" if where and is_bundle(graph) else f"'{name}'"


def row_counts(store: Store) -> dict[str, int]:
    """Rows each bundle repeats from another bundle (its ``bep:repeatsRow`` records)."""
    text = (f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH <{META}> {{ ?g <{REPEATS_ROW}> ?r }} }} GROUP BY ?g")
    return {row["g"].value: int(row["n"].value) for row in store.query(text)}  # type: ignore[union-attr]


def _tsv(store: Store, text: str) -> Iterator[list[str]]:
    """The rows of SELECT *text* as SPARQL TSV cells: a million rows are read in Rust, not term by term."""
    result = store.query(text)
    data = result.serialize(format=ox.QueryResultsFormat.TSV)  # type: ignore[union-attr,arg-type]  # a SELECT
    for line in (data or b"").decode().splitlines()[1:]:
        yield line.split("\t")


def _recorded_rows(store: Store, graphs: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(bundle graph, row subject term) of every row record kept in *graphs* (graph/meta, a load's scratch)."""
    for graph in graphs:
        text = f"SELECT ?g ?r WHERE {{ GRAPH <{ox.NamedNode(graph).value}> {{ ?g <{REPEATS_ROW}> ?r }} }}"
        for g, r in _tsv(store, text):
            yield g[1:-1], r[1:-1]  # an IRI, and a plain literal holding an IRI term (no quote to escape)


def _row_records(store: Store, graphs: Sequence[str], subjects: Iterable[str]) -> dict[str, set[str]]:
    """subject -> the bundle graphs recording it as a repeated row, over the records kept in *graphs*."""
    found: dict[str, set[str]] = {}
    values = " ".join(literal(s) for s in sorted(set(subjects)))
    if not values:
        return found
    for graph in graphs:
        text = (f"SELECT ?g ?r WHERE {{ VALUES ?r {{ {values} }} "
                f"GRAPH <{ox.NamedNode(graph).value}> {{ ?g <{REPEATS_ROW}> ?r }} }}")
        for row in store.query(text):  # type: ignore[union-attr]
            found.setdefault(row["r"].value, set()).add(row["g"].value)
    return found


def held_subjects(store: Store, graphs: Sequence[str]) -> set[int]:
    """Hashes of the subject terms (``<…>``) of the facts *graphs* hold: the rows a new source must be compared on.

    Hashes, not terms, keep a million rows in a few tens of megabytes; a
    collision only sends a new row to the judge, which finds nothing held.
    """
    found: set[int] = set()
    for graph in graphs:
        text = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{ox.NamedNode(graph).value}> {{ ?s ?p ?o }} }}"
        found.update(hash(cells[0]) for cells in _tsv(store, text))
    return found


def _held_triples(store: Store, graphs: set[str], subjects: Iterable[str]) -> dict[str, dict[str, str]]:
    """subject -> {line -> graph holding it}, over *graphs*."""
    held: dict[str, dict[str, str]] = {}
    # a blank node is its source's own: the RDF merge keeps blank nodes of two sources apart
    todo = sorted(s for s in set(subjects) if s.startswith("<"))
    text = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    for i in range(0, len(todo), _BATCH):
        rows = [{"s": ox.NamedNode(s[1:-1])} for s in todo[i:i + _BATCH]]
        for row in store.query(text, rows=rows):  # type: ignore[union-attr]
            graph = row["g"].value
            if graph in graphs and not isinstance(row["o"], ox.BlankNode):
                s = str(row["s"])
                held.setdefault(s, {})[f"{s} {row['p']} {row['o']}"] = graph
    return held


def _by_subject(repeats: Mapping[str, Iterable[str]]) -> dict[str, dict[str, set[str]]]:
    """subject -> graph -> the facts of that subject the graph repeats one by one."""
    index: dict[str, dict[str, set[str]]] = {}
    for graph, lines in repeats.items():
        for line in lines:
            index.setdefault(_subject(line), {}).setdefault(graph, set()).add(line)
    return index


def _columns(table: Table) -> dict[str, str]:
    """Predicate term -> the column of *table* it carries, to name what differs."""
    names = {_IDENTIFIER: "id"}
    for col in table.columns:
        if col.classes:
            names[_RDF_TYPE] = col.name
        elif col.prop:
            names[bep(col.prop)] = col.name
    names.setdefault(_RDF_TYPE, "id")
    return names


def _shown(terms: Iterable[str]) -> str:
    words = []
    for term in sorted(terms):
        if term.startswith("<"):
            entity = split_entity_iri(term[1:-1])
            words.append(entity[1] if entity else term[1:-1].rsplit("#", 1)[-1])
        else:
            words.append(term[1:term.rindex('"')].replace('\\"', '"') if term.startswith('"') else term)
    return "; ".join(words) if words else "(no value)"


@dataclass
class Outcome:
    """What a source brings that no other source already holds, what it repeats, what conflicts."""

    lines: list[str] = field(default_factory=list)
    repeats: set[str] = field(default_factory=set)
    rows: int = 0  # rows recorded as repeated from another bundle
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Beside:
    """The sources a new one is judged beside, as one load sees them.

    *others* are the physical graphs it sits beside (the committed sources
    this load keeps, and those it staged before), *names* each physical
    graph's final name, *replaced* the committed sources this load replaces
    (a row record of a kept bundle may still read its row from one of them),
    *repeats* the facts each physical graph repeats one by one, and
    *records* the graphs holding row records (graph/meta, the load's scratch).
    """

    others: list[str]
    names: dict[str, str]
    replaced: list[str]
    repeats: dict[str, set[str]]
    records: list[str]


class RowJudge:
    """Compares, 1,000 at a time as they are read, the rows a bundle shares with other sources.

    A row another bundle gives becomes one row record (its values must be
    the same, or it is a conflict); a row only the filing or the ontology
    names keeps the facts they do not hold, and repeats the others one by
    one. New facts go to *emit* and row records to *record* as each batch
    is judged, so a re-export's memory is one batch, not the bundle.
    """

    def __init__(self, store: Store, holdings: Holdings, beside: Beside,
                 emit: Callable[[list[str]], None], record: Callable[[list[str]], None]) -> None:
        self.store, self.holdings, self.beside = store, holdings, beside
        self.emit, self.record = emit, record
        self.others = set(beside.others)
        self.look = self.others | set(beside.replaced)  # where a row's first bundle may be
        self.skip = set(beside.replaced)  # their records are going
        self.bundles = sorted(g for g in self.look if is_bundle(beside.names.get(g, g)))
        self._repeats = _by_subject(beside.repeats)
        kept = {beside.names[g] for g in beside.others}
        self.subjects = held_subjects(store, sorted(self.others))
        self.subjects.update(hash(s) for s in self._repeats)
        for graph, subject in _recorded_rows(store, beside.records):
            if graph in kept:
                self.subjects.add(hash(subject))
        self.rows: list[Row] = []
        self.outcome = Outcome()

    def holds(self, subject: str) -> bool:
        return hash(subject) in self.subjects

    def add(self, row: Row) -> None:
        self.rows.append(row)
        if len(self.rows) >= _BATCH:
            self._flush()

    def finish(self) -> Outcome:
        self._flush()
        return self.outcome

    def _flush(self) -> None:
        rows, self.rows = self.rows, []
        if rows:
            self._judge_batch(rows)

    def _judge_batch(self, rows: Sequence[Row]) -> None:
        """A row that is another bundle's row, written the same, becomes a row record.

        The facts the bundles beside this one hold of the batch's rows come
        back as N-Triples, one query a graph, and each row is compared with
        them as text. A row whose text differs (a conflict, or the same value
        written another way: ``1250.00`` is held as ``1250``) or that no other
        bundle gives is judged fact by fact in the values the store keeps
        (:meth:`_judge_rows`): that finds what is new and names the columns
        of a conflict.
        """
        mine = {row.subject: {line[:-3] for line in row.lines} for row in rows}  # lines end in " .\n"
        theirs = self._bundle_rows(mine)
        names = self.beside.names
        recorded: dict[str, set[str]] | None = None
        repeated_rows: list[str] = []
        slow: list[Row] = []
        for row in rows:
            subject, lines = row.subject, mine[row.subject]
            one_by_one = self._repeats.get(subject, {})
            firsts = sorted({g for g, held in theirs.items() if subject in held}
                            | {g for g in one_by_one if is_bundle(names.get(g, g))})
            givers = {g for g in firsts if g in self.others}
            if not givers and firsts:  # its first bundle is being replaced: does a kept bundle record the row?
                if recorded is None:
                    recorded = _row_records(self.store, self.beside.records, mine)
                givers = recorded.get(subject, set()) - self.skip
            if givers and len(firsts) == 1:
                first = firsts[0]
                if theirs.get(first, {}).get(subject, set()) | one_by_one.get(first, set()) == lines:
                    repeated_rows.append(subject)
                    continue
            slow.append(row)
        self.outcome.rows += len(repeated_rows)
        if repeated_rows:
            self.record(repeated_rows)
        if slow:
            self._judge_rows(slow)

    def _bundle_rows(self, subjects: Iterable[str]) -> dict[str, dict[str, set[str]]]:
        """physical bundle graph -> subject -> the facts it holds of *subjects* (N-Triples lines, no final dot)."""
        # the subjects are N-Triples terms the bundle reader wrote (escaped), so they are VALUES as they are
        values = " ".join(subjects)
        found: dict[str, dict[str, set[str]]] = {}
        for graph in self.bundles:
            text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            data = ox.serialize(self.store.query(text), format=ox.RdfFormat.N_TRIPLES)  # type: ignore[arg-type]
            held = found.setdefault(graph, {})
            for line in (data or b"").decode().splitlines():
                if line:
                    held.setdefault(line.split(" ", 1)[0], set()).add(line[:-2])
        return found

    def _judge_rows(self, rows: Sequence[Row]) -> None:
        """Rows judged fact by fact, in the values the store keeps: new facts, repeated ones, conflicts."""
        subjects = [r.subject for r in rows]
        held = _held_triples(self.store, self.look, subjects)
        recorded = _row_records(self.store, self.beside.records, subjects)
        values: dict[str, set[str]] = {}
        for line in canonical("".join(line for row in rows for line in row.lines)):
            values.setdefault(_subject(line), set()).add(line)
        new: list[str] = []
        repeated_rows: list[str] = []
        outcome = self.outcome
        for row in rows:
            mine = values.get(row.subject, set())
            there = held.get(row.subject, {})
            givers = self._givers(row.subject, there, recorded.get(row.subject, set()))
            if len(outcome.problems) < MAX_PROBLEMS:
                self._compare(row, mine, givers)
            if givers:
                repeated_rows.append(row.subject)
                continue
            beside = {line for line, graph in there.items() if graph in self.others}
            outcome.repeats |= mine & beside
            new.extend(sorted(mine - beside))
        outcome.rows += len(repeated_rows)
        if new:
            self.emit(new)
        if repeated_rows:
            self.record(repeated_rows)

    def _givers(self, subject: str, there: Mapping[str, str], recorded: set[str]) -> dict[str, set[str]]:
        """The bundles beside this one that give row *subject* (final graph -> the row's facts)."""
        explicit: dict[str, set[str]] = {}
        for line, graph in there.items():
            explicit.setdefault(graph, set()).add(line)
        for graph, lines in self._repeats.get(subject, {}).items():
            explicit.setdefault(graph, set()).update(lines)
        firsts = [g for g in sorted(explicit) if is_bundle(self.beside.names.get(g, g))]
        givers = {self.beside.names[g]: explicit[g] for g in firsts if g in self.others}
        row = explicit[firsts[0]] if firsts else set()
        for graph in recorded:
            if graph not in self.skip and graph not in givers:
                givers[graph] = row
        return givers

    def _compare(self, row: Row, mine: set[str], givers: Mapping[str, set[str]]) -> None:
        columns = _columns(row.table)
        key = row.key or row.subject[1:-1].rsplit("/", 1)[-1]
        outcome = self.outcome
        for source in sorted(givers):
            theirs = givers[source]
            if theirs == mine:
                continue
            by_column: dict[str, tuple[set[str], set[str]]] = {}
            for line in mine ^ theirs:
                _, pred, obj = line.split(" ", 2)
                side = by_column.setdefault(columns.get(pred, pred), (set(), set()))
                (side[0] if line in mine else side[1]).add(obj)
            for column, (here, other) in sorted(by_column.items()):
                outcome.problems.append(Problem(
                    row.file, row.line, column,
                    f"'{_shown(here)}' conflicts with '{_shown(other)}' for {row.table.name} '{key}' "
                    f"in {self.holdings.label(source)}"))
        if len(outcome.problems) >= MAX_PROBLEMS:
            outcome.problems.append(Problem(row.file, 0, "", f"stopped after {MAX_PROBLEMS} conflicts"))


def judge_lines(store: Store, others: Sequence[str], lines: Sequence[str]) -> Outcome:
    """A small source given whole (the filing, the ontology): what it brings and what it repeats."""
    outcome = Outcome()
    mine = sorted(set(lines))
    held = _held_triples(store, set(others), {_subject(line) for line in mine})
    for line in mine:
        if line in held.get(_subject(line), {}):
            outcome.repeats.add(line)
        else:
            outcome.lines.append(line)
    return outcome


@dataclass
class Transfer:
    """What a replacement hands to the sources that still state what the replaced ones held.

    *moves*: a scratch graph of facts -> the graph that now holds them;
    *inserts* and *deletes*: graph/meta records gained and dropped.
    """

    moves: dict[str, str] = field(default_factory=dict)
    inserts: list[ox.Quad] = field(default_factory=list)
    deletes: list[ox.Quad] = field(default_factory=list)


def transfers(store: Store, replaced: Sequence[str], staged: Sequence[str], kept: Sequence[str],
              repeats: Mapping[str, set[str]], staged_repeats: Mapping[str, set[str]]) -> Transfer:
    """Rows and facts the *replaced* graphs held that a kept source still states, and no new source holds.

    A row a replaced bundle was first for, that no *staged* graph of the
    load states fact by fact, moves whole to the first kept bundle recording
    it (its record goes, and it inherits the row's one-by-one repeats of the
    filing). Then each fact a replaced graph held that a kept source repeats
    one by one moves to the first such source. *repeats* are the committed
    one-by-one records (every graph), *staged_repeats* those of the load.
    """
    out = Transfer()
    if not replaced:
        return out
    gone, new, keep = set(replaced), set(staged), set(kept)
    wanted: dict[str, list[str]] = {}  # line -> kept graphs repeating it one by one, in order
    for graph in sorted(keep):
        for line in repeats.get(graph, ()):
            wanted.setdefault(line, []).append(graph)
    rows = _RowMover(store, gone, new, _by_subject({g: repeats.get(g, set()) for g in gone}),
                     _by_subject(staged_repeats), wanted, out)
    for batch in _kept_row_records(store, keep):
        rows.take(batch)
    out.moves = {s: t for t, s in rows.scratch.items()}
    _move_facts(store, gone, new, wanted, rows.taken, out)
    return out


@dataclass
class _RowMover:
    """Moves whole rows a replaced bundle was first for to the first kept bundle recording them.

    Its facts go to a scratch graph per taker (moved into the taker's graph
    when the load commits); the taker's row record goes, and it takes over the
    row's one-by-one repeats, which it then also *wants* as a kept source.
    """

    store: Store
    gone: set[str]
    new: set[str]
    gone_repeats: dict[str, dict[str, set[str]]]
    new_repeats: dict[str, dict[str, set[str]]]
    wanted: dict[str, list[str]]
    out: Transfer
    taken: set[str] = field(default_factory=set)  # subjects of rows that moved whole
    scratch: dict[str, str] = field(default_factory=dict)  # taker -> scratch graph of the facts it takes

    def take(self, batch: list[tuple[str, list[str]]]) -> None:
        """One batch of (row subject, kept bundles recording it, in order)."""
        store, new, out = self.store, self.new, self.out
        subjects = [s for s, _ in batch]
        held = _held_triples(store, self.gone | new, subjects)
        chunks: dict[str, list[str]] = {}
        for subject, takers in batch:
            lines = held.get(subject, {})
            if any(g in new for g in lines.values()) or subject in self.new_repeats:
                continue  # the new version states the row itself: it stays the row's first
            mine = {line for line, g in lines.items() if g in self.gone}
            theirs = {line for g, ls in self.gone_repeats.get(subject, {}).items() for line in ls}
            if not mine and not theirs:
                continue  # the row's first bundle is kept
            taker = takers[0]
            self.taken.add(subject)
            chunks.setdefault(taker, []).extend(sorted(mine))
            out.deletes.append(_record(taker, REPEATS_ROW, subject))
            out.inserts += [_record(taker, REPEATS, line) for line in sorted(theirs)]
            for line in theirs:
                self.wanted.setdefault(line, []).append(taker)
        for taker, moved in chunks.items():
            if taker not in self.scratch:
                self.scratch[taker] = store.scratch_graph()
                store.begin_load([self.scratch[taker]])
            store.append_graph(self.scratch[taker], "".join(f"{line} .\n" for line in moved).encode())


def _kept_row_records(store: Store, keep: set[str]) -> Iterator[list[tuple[str, list[str]]]]:
    """The row records of the *keep* bundles, grouped by row (bundles in order) and in batches of rows, so a
    million rows are judged a batch at a time with one query per batch."""
    batch: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    text = (f"SELECT ?g ?r WHERE {{ GRAPH <{META}> {{ ?g <{REPEATS_ROW}> ?r }} }} ORDER BY ?r ?g")
    for g, r in _tsv(store, text):
        graph, subject = g[1:-1], r[1:-1]
        if graph not in keep:
            continue
        if current is None or current[0] != subject:
            if current is not None:
                batch.append(current)
            current = (subject, [])
            if len(batch) >= _BATCH:
                yield batch
                batch = []
        current[1].append(graph)
    if current is not None:
        batch.append(current)
    if batch:
        yield batch


def _move_facts(store: Store, gone: set[str], new: set[str], wanted: Mapping[str, list[str]], taken: set[str],
                out: Transfer) -> None:
    """Each fact a replaced graph held (outside the rows that moved whole) that a kept source repeats one by
    one, and no new graph holds, moves to the first such source; its one-by-one record goes."""
    subjects = {_subject(line) for line in wanted} - taken
    held = _held_triples(store, gone, subjects)
    stays = _held_triples(store, new, subjects)
    moved: dict[str, list[str]] = {}
    for subject, subject_lines in held.items():
        for line in subject_lines:
            if line not in wanted or line in stays.get(subject, {}):
                continue
            taker = wanted[line][0]
            moved.setdefault(taker, []).append(line)
            out.deletes.append(_record(taker, REPEATS, line))
    for taker, lines in moved.items():
        out.inserts += line_quads(taker, lines)


def _record(graph: str, kind: str, value: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(graph), ox.NamedNode(kind), ox.Literal(value), ox.NamedNode(META))


def line_quads(graph: str, lines: Iterable[str]) -> list[ox.Quad]:
    # the real default graph, as raw writes name it in graph/meta
    node: ox.NamedNode | ox.DefaultGraph = ox.DefaultGraph() if graph == graph_iri("default") else ox.NamedNode(graph)
    return [ox.Quad(*_terms(line), node) for line in lines]


def stated(store: Store, graph: str) -> set[str]:
    """Every fact source *graph* states: those it holds and those it repeats (``s p o`` lines).

    The answer to "what did this bundle say?", whichever source holds each
    fact; it reads the whole graph, so it is for checks, not for the doors.
    """
    node = ox.NamedNode(graph).value
    lines = {f"{row['s']} {row['p']} {row['o']}"
             for row in store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{node}> {{ ?s ?p ?o }} }}")}  # type: ignore[union-attr]
    holdings = Holdings.read(store)
    lines |= holdings.repeats.get(graph, set())
    rows = sorted(s for g, s in _recorded_rows(store, [META]) if g == graph)
    bundles = {g for g in holdings.sources if is_bundle(g) and g != graph}
    by_subject = _by_subject({g: holdings.repeats.get(g, set()) for g in bundles})
    for i in range(0, len(rows), _BATCH):
        part = rows[i:i + _BATCH]
        for subject, held in _held_triples(store, bundles, part).items():
            lines |= set(held)
        for subject in part:
            for repeated in by_subject.get(subject, {}).values():
                lines |= repeated
    return lines
