"""Which source holds each fact: one fact is stored once, however many sources state it.

SPARQL's union default graph is a multiset over the named graphs: a triple
held by two graphs comes back twice, and every join and ``SUM`` multiplies
it. So each fact is *held* by exactly one source graph (the filing, the
ontology or a bundle), and every other source that states it records it in
``graph/meta`` as ``<source graph> bep:repeats "<s> <p> <o>"``: a plain
literal, which adds no fact of its own to the union. The union of the named
graphs is then the RDF merge of the sources, and stays fast.

When a source is replaced, a fact it held that another source repeats moves
to that source's graph (:func:`transfers`), so the store keeps exactly the
facts the remaining sources state. Rows that several bundles give are
compared here too: the same values are one fact, different values under
the same key a conflict, refused with both bundles named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import Problem
from .namespaces import BEP, DCTERMS, RDF, graph_iri, split_entity_iri
from .sources.bundle import MAX_PROBLEMS, Row
from .sources.ntriples import bep
from .sources.tables import Table
from .store import META, Store

__all__ = [
    "REPEATS",
    "Holdings",
    "RowJudge",
    "canonical",
    "stated",
    "transfers",
]

REPEATS = BEP + "repeats"
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


@dataclass
class Holdings:
    """The committed sources of a store, and the facts each repeats from the others."""

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
        name = graph[len(_BUNDLE_PREFIX):] if graph.startswith(_BUNDLE_PREFIX) else graph.rsplit("/", 1)[-1]
        where = self.labels.get(graph)
        return f"bundle '{name}' ({where})" if where and graph.startswith(_BUNDLE_PREFIX) else f"'{name}'"


def held_subjects(store: Store, graphs: Sequence[str]) -> set[str]:
    """Subject terms (``<…>``) of the facts *graphs* hold: the rows a new source must be compared on."""
    found: set[str] = set()
    for graph in graphs:
        text = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{ox.NamedNode(graph).value}> {{ ?s ?p ?o }} }}"
        found.update(str(row["s"]) for row in store.query(text))  # type: ignore[union-attr]
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
    problems: list[Problem] = field(default_factory=list)


class RowJudge:
    """Compares the rows a bundle shares with other sources against what those sources state.

    *others* are the source graphs the new one is compared with (the
    committed ones, less those this load replaces, plus those it already
    staged); *repeats* what each of them repeats.
    """

    def __init__(self, store: Store, holdings: Holdings, others: Sequence[str],
                 repeats: Mapping[str, set[str]], names: Mapping[str, str]) -> None:
        self.store, self.holdings = store, holdings
        self.others = set(others)
        self.names = dict(names)  # physical graph (a staging graph) -> the source graph it becomes
        self._repeats: dict[str, dict[str, set[str]]] = {}  # subject -> graph -> lines
        for graph in self.others:
            for line in repeats.get(graph, ()):
                self._repeats.setdefault(_subject(line), {}).setdefault(graph, set()).add(line)
        self.subjects = held_subjects(store, sorted(self.others)) | set(self._repeats)
        self.rows: list[Row] = []

    def holds(self, subject: str) -> bool:
        return subject in self.subjects

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def judge(self) -> Outcome:
        outcome = Outcome()
        for i in range(0, len(self.rows), _BATCH):
            self._judge_batch(self.rows[i:i + _BATCH], outcome)
        return outcome

    def _judge_batch(self, rows: Sequence[Row], outcome: Outcome) -> None:
        held = _held_triples(self.store, self.others, (r.subject for r in rows))
        values: dict[str, set[str]] = {}
        for line in canonical("".join(line for row in rows for line in row.lines)):
            values.setdefault(_subject(line), set()).add(line)
        for row in rows:
            mine = values.get(row.subject, set())
            there = held.get(row.subject, {})
            if len(outcome.problems) < MAX_PROBLEMS:
                self._compare(row, mine, there, outcome)
            outcome.repeats |= mine & set(there)
            outcome.lines.extend(sorted(mine - set(there)))

    def _compare(self, row: Row, mine: set[str], there: Mapping[str, str], outcome: Outcome) -> None:
        stated: dict[str, set[str]] = {}
        for line, graph in there.items():
            stated.setdefault(graph, set()).add(line)
        for graph, lines in self._repeats.get(row.subject, {}).items():
            stated.setdefault(graph, set()).update(lines)
        columns = _columns(row.table)
        key = row.key or row.subject[1:-1].rsplit("/", 1)[-1]
        for graph in sorted(stated):
            source = self.names.get(graph, graph)
            if not source.startswith(_BUNDLE_PREFIX) or stated[graph] == mine:
                continue  # the filing and the ontology may say more of a series than a bundle row
            theirs = stated[graph]
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


def transfers(store: Store, replaced: Sequence[str], staged: Sequence[str],
              repeaters: Mapping[str, set[str]]) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Facts the *replaced* graphs held that another source repeats, and no new source holds.

    Returns (graph -> lines it must now hold, graph -> repeat records to
    drop). A fact that a *staged* graph of the same load holds stays with it.
    """
    moves: dict[str, list[str]] = {}
    dropped: dict[str, set[str]] = {}
    if not replaced:
        return moves, dropped
    wanted: dict[str, list[str]] = {}  # line -> graphs repeating it, in order
    for graph in sorted(repeaters):
        for line in repeaters[graph]:
            wanted.setdefault(line, []).append(graph)
    subjects = {_subject(line) for line in wanted}
    held = _held_triples(store, set(replaced), subjects)
    kept = _held_triples(store, set(staged), subjects)
    for subject, subject_lines in held.items():
        for line in subject_lines:
            if line not in wanted or line in kept.get(subject, {}):
                continue
            taker = wanted[line][0]
            moves.setdefault(taker, []).append(line)
            dropped.setdefault(taker, set()).add(line)
    return moves, dropped


def repeat_quads(graph: str, lines: Iterable[str]) -> list[ox.Quad]:
    """The graph/meta records saying that *graph* states *lines*, held by other sources."""
    g, p, meta = ox.NamedNode(graph), ox.NamedNode(REPEATS), ox.NamedNode(META)
    return [ox.Quad(g, p, ox.Literal(line), meta) for line in sorted(lines)]


def line_quads(graph: str, lines: Iterable[str]) -> list[ox.Quad]:
    node = ox.NamedNode(graph)
    return [ox.Quad(*_terms(line), node) for line in lines]


def stated(store: Store, graph: str) -> set[str]:
    """Every fact source *graph* states: those it holds and those it repeats (``s p o`` lines).

    The answer to "what did this bundle say?", whichever source holds each
    fact; it reads the whole graph, so it is for checks, not for the doors.
    """
    node = ox.NamedNode(graph).value
    lines = {f"{row['s']} {row['p']} {row['o']}"
             for row in store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{node}> {{ ?s ?p ?o }} }}")}  # type: ignore[union-attr]
    lines |= Holdings.read(store).repeats.get(graph, set())
    return lines
