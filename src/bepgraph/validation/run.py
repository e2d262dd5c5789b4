"""A validation run: derive the legal status, run the rule shapes, turn their results into findings.

Why a layer between the engine and the doors: the engine speaks SHACL (focus
IRIs, N-Triples bindings, one result per solution); every door speaks
``findings.md`` (bundle table and id, series, citation strings, evidence as
``table/id``). The rule's id, citation and message template live on its
shape in ``shapes/``; nothing about a rule is written here.

A run reads the derived facts of its date beside the loaded facts, in a
private copy of the store (``overlay.py``): it never writes the store users
read. Asked to (``save=True``, ``bepgraph validate --save``), it writes the
SHACL report (``sh:ValidationReport``) to the named graph ``graph/findings``,
so tools that speak SHACL read it from the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

import pyoxigraph as ox

from ..errors import ParameterError
from ..namespaces import DATA, graph_iri, split_entity_iri
from ..resources import shape_files
from ..sources.tables import CATEGORY_CODES
from ..sparql import find_query
from ..store import Store, Term, solutions
from .cache import answers
from .catalogue import rule_catalogue
from .overlay import with_derived, with_derived_side_by_side
from .compile import Compiled
from .engine import ShapeResult, Shapes, load_shapes, order_key, report_graph, validate
from .shares import Claims, copies_for_a_run
from .findings import Finding, Focus, Report

__all__ = [
    "Part",
    "Validation",
    "cached_validation",
    "affected_focus",
    "derived_triples",
    "part_of",
    "put_together",
    "run_validation",
    "save_report",
    "validate_changes",
    "validate_graph",
]

FINDINGS_GRAPH = graph_iri("findings")
DERIVED_GRAPH = graph_iri("derived")
DERIVED = DATA + "derived/"
_TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
_CODE_OF_CATEGORY = {local: code for code, local in CATEGORY_CODES.items()}


@dataclass
class Validation:
    """A run's findings and the SHACL results they came from (kept for incremental runs)."""

    report: Report
    results: list[ShapeResult] = field(default_factory=list)
    derived: frozenset[str] = frozenset()  # graph/derived of the run, as N-Triples lines (for validate_changes)

    @property
    def shacl_report(self) -> bytes:
        """The W3C validation report in Turtle (sh:conforms is SHACL's: no result of any severity)."""
        return report_graph(self.results, conforms=not self.results)


@lru_cache(maxsize=1)
def _shapes() -> Shapes:
    return load_shapes(shape_files())


def _warm() -> None:
    """Parse the shapes, the catalogue and the queries here, so a forked run inherits them parsed."""
    _shapes()
    rule_catalogue()
    find_query("internal/validation-focus-facts")


def _selected_shapes(rules: Iterable[str] | None) -> list[str] | None:
    if rules is None:
        return None
    catalogue = rule_catalogue()
    unknown = sorted(set(rules) - set(catalogue))
    if unknown:
        raise ParameterError(f"unknown rule {', '.join(unknown)} (rules: {', '.join(catalogue)})")
    return [catalogue[r].shape for r in rules]


# --- results -> findings ----------------------------------------------------------------
def _term(ntriples: str) -> Term:
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {ntriples} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    term: Term = triple.object
    return term


def _words(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """How a term reads in a message: an entity by its bundle id, a category by its code, a literal as written."""
    if isinstance(term, ox.NamedNode):
        entity = split_entity_iri(term.value)
        if entity:
            return entity[1]
        local = term.value.rsplit("#", 1)[-1]
        return _CODE_OF_CATEGORY.get(local, local)
    return term.value


def _entity(iri: str) -> str | None:
    """``table/id`` of an entity IRI (not of a derived node)."""
    if iri.startswith(DERIVED):
        return None
    entity = split_entity_iri(iri)
    return f"{entity[0]}/{entity[1]}" if entity else None


_BATCH = 1000  # rows per VALUES block (larger blocks slow Oxigraph down, see engine.FOCUS_BATCH)


def _batched(store: Store, text: str, name: str, iris: Iterable[str]) -> Iterable[ox.QuerySolution]:
    """The solutions of *text* for every IRI in *iris* bound to ?name, a block of rows at a time."""
    todo = sorted(set(iris))
    for i in range(0, len(todo), _BATCH):
        yield from solutions(store.query(text, rows=[{name: ox.NamedNode(v)} for v in todo[i:i + _BATCH]]))


def _evidence_terms(result: ShapeResult) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
    return [_term(text) for name, text in result.bindings.items() if name.startswith("evidence")]


class _Mapper:
    """Turns the engine's results into findings, asking the store for what a Core result lacks.

    What the store is asked is asked once for all results (a batch of
    focus nodes, a batch of derived nodes), so mapping stays linear in the
    number of results whatever the size of the graph.
    """

    def __init__(self, store: Store, as_of: date, results: Sequence[ShapeResult]) -> None:
        self.store, self.as_of = store, as_of
        self.by_shape = {r.shape: r for r in rule_catalogue().values()}
        self._facts = self._focus_facts([r.focus for r in results if not r.bindings])
        derived = {iri for r in results for term in _evidence_terms(r) for iri in _iris(term) if iri.startswith(DERIVED)}
        self._rests_on = self._rested_on(derived)

    def _focus_facts(self, focus: Iterable[str]) -> dict[str, tuple[date | None, list[str]]]:
        dates: dict[str, set[date]] = {}
        series: dict[str, set[str]] = {}
        query = find_query("internal/validation-focus-facts").text
        for row in _batched(self.store, query, "entity", focus):
            entity = row["entity"].value
            if row["date"] is not None:
                dates.setdefault(entity, set()).add(date.fromisoformat(row["date"].value))
            if row["series"] is not None:
                series.setdefault(entity, set()).add(row["series"].value)
        return {e: (min(dates[e]) if e in dates else None, sorted(series.get(e, ())))
                for e in set(dates) | set(series)}

    def _rested_on(self, nodes: Iterable[str]) -> dict[str, set[str]]:
        """The facts each derived node rests on, directly or through other derived nodes.

        The chain is followed one bep:restsOn step per query, not as the path
        ``restsOn+`` from a VALUES-bound start, which Virtuoso refuses
        ("transitive start not given"); chains are a few steps long.
        """
        query = find_query("internal/validation-rests-on").text
        reached: dict[str, set[str]] = {}  # any node -> the nodes one step on
        todo = set(nodes)
        while todo:
            for row in _batched(self.store, query, "node", todo):
                reached.setdefault(row["node"].value, set()).add(row["fact"].value)
            todo = {n for steps in reached.values() for n in steps} - set(reached)
            todo = {n for n in todo if n.startswith(DERIVED)}  # a fact rests on nothing further
        facts: dict[str, set[str]] = {}
        for node in set(nodes):
            seen, stack = set(), [node]
            while stack:
                for nxt in reached.get(stack.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            entities = {e for e in map(_entity, seen) if e}
            if entities:
                facts[node] = entities
        return facts

    def focus_facts(self, iri: str) -> tuple[date | None, list[str]]:
        return self._facts.get(iri, (None, []))

    def evidence(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> set[str]:
        found: set[str] = set()
        for iri in _iris(term):
            if iri.startswith(DERIVED):
                found |= self._rests_on.get(iri, set())
            elif entity := _entity(iri):
                found.add(entity)
        return found

    def finding(self, result: ShapeResult) -> Finding | None:
        """The finding of *result*, or None when its focus is dated after the as-of date (Core shapes)."""
        rule = self.by_shape.get(result.shape)
        entity = split_entity_iri(result.focus)
        if rule is None or entity is None:
            return None
        values = {name: _term(text) for name, text in result.bindings.items()}
        values["this"] = ox.NamedNode(result.focus)
        if result.value is not None:
            values.setdefault("value", _term(result.value))
        series = {_words(t) for n, t in values.items() if n.startswith("series") and isinstance(t, ox.NamedNode)}
        if not result.bindings:  # a SHACL Core result: no as-of cut in the shape, no series named
            dated, of_series = self.focus_facts(result.focus)
            if dated is not None and dated > self.as_of:
                return None
            series |= {_words(ox.NamedNode(s)) for s in of_series}
        if entity[0] == "series":
            series.add(entity[1])
        evidence = set()
        for name, term in values.items():
            if name.startswith("evidence"):
                evidence |= self.evidence(term)
        evidence.discard(f"{entity[0]}/{entity[1]}")
        message = _TEMPLATE.sub(
            lambda m: rule.words(m.group(1), _words(values[m.group(1)])) if m.group(1) in values else "(not stated)",
            rule.message or result.message,
        )
        return Finding(
            rule=rule.id, severity=result.severity,  # type: ignore[arg-type]
            focus=Focus(entity[0], entity[1]), message=message, series=tuple(sorted(series)),
            citation=rule.citation, evidence=tuple(sorted(evidence)),
        )


def _iris(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> list[str]:
    """The IRIs an evidence binding names: itself, or a projected list of IRIs (GROUP_CONCAT)."""
    if isinstance(term, ox.Literal):
        return term.value.split()
    return [term.value] if isinstance(term, ox.NamedNode) else []


def _merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per rule, focus and message: several solutions saying the same thing pool their facts."""
    merged: dict[tuple[str, Focus, str], Finding] = {}
    for f in findings:
        key = (f.rule, f.focus, f.message)
        if key in merged:
            old = merged[key]
            f = Finding(f.rule, f.severity, f.focus, f.message,
                        tuple(sorted(set(old.series) | set(f.series))), f.citation,
                        tuple(sorted(set(old.evidence) | set(f.evidence))))
        merged[key] = f
    return sorted(merged.values(), key=Finding.sort_key)


# --- runs ---------------------------------------------------------------------------------
def _judge(store: Store, as_of: date, rules: Sequence[str] | None, series: Sequence[str] | None,
           focus: Iterable[str] | None) -> Validation:
    only = _selected_shapes(rules)
    return _validation_of(store, as_of, validate(store, _shapes(), focus=focus, only=only), series)


@dataclass
class Part:
    """What one copy judged of a run: the engine's results of its constraints, each with its finding (None
    where a result is none), not yet put together with the other copies' parts (``shares.py``)."""

    as_of: date
    results: list[ShapeResult]
    findings: list[Finding | None]
    derived: frozenset[str] = frozenset()


def part_of(store: Store, as_of: date, results: list[ShapeResult]) -> Part:
    """The findings of the engine's *results* as of *as_of*, read from *store* (the copy that judged them)."""
    mapper = _Mapper(store, as_of, results)
    return Part(as_of, results, [mapper.finding(r) for r in results])


def put_together(parts: Sequence[Part], series: Sequence[str] | None = None) -> Validation:
    """The run the *parts* of one date make, as if one copy had judged all their constraints (optionally
    of some series only): a result's finding depends on that result alone, and the engine's order is kept."""
    if not parts or len({p.as_of for p in parts}) != 1:
        raise ValueError("parts of one date are put together")
    both = sorted(((r, f) for p in parts for r, f in zip(p.results, p.findings, strict=True)),
                  key=lambda pair: order_key(pair[0]))
    # the SHACL report carries the same sentence as the finding (ids, not IRIs)
    pairs = [(replace(r, message=f.message), f) for r, f in both if f is not None]
    if series is not None:
        wanted = set(series)
        pairs = [(r, f) for r, f in pairs if wanted & set(f.series)]
    return Validation(Report(parts[0].as_of, _merge(f for _, f in pairs)), [r for r, _ in pairs], parts[0].derived)


def _validation_of(store: Store, as_of: date, results: list[ShapeResult], series: Sequence[str] | None) -> Validation:
    """The findings of the engine's *results* as of *as_of* (optionally of some series only)."""
    return put_together([part_of(store, as_of, results)], series)


def save_report(store: Store, validation: Validation) -> None:
    """Write the run's SHACL report to graph/findings (only when the user asks: ``validate --save``)."""
    turtle = validation.shacl_report
    triples = ox.serialize(ox.parse(turtle, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES) or b""
    store.replace_graph(FINDINGS_GRAPH, triples)


def run_validation(store: Store, as_of: date, rules: Sequence[str] | None = None,
                   series: Sequence[str] | None = None, save: bool = False) -> Validation:
    """Derive, judge every rule (or *rules*) as of *as_of*; write the SHACL report to graph/findings if *save*.

    The store is read, never written (unless *save*): the derived facts live
    in a private copy for the run's duration (``overlay.with_derived``).
    """
    only = _selected_shapes(rules)  # reject an unknown rule before any work
    _warm()
    with copies_for_a_run() as copies:
        claims: Claims[Compiled] = Claims()  # one copy alone claims them all

        def judged(copy: Store) -> Part:
            part = part_of(copy, as_of, validate(copy, _shapes(), only=only, claimed=claims.claimed))
            part.derived = derived_triples(copy)
            return part

        parts = with_derived_side_by_side(store, as_of, judged, f"the validation as of {as_of}", copies)
    validation = put_together(parts, series)
    if save:
        save_report(store, validation)
    return validation


def validate_graph(store: Store, as_of: date, rules: Sequence[str] | None = None,
                   series: Sequence[str] | None = None) -> Report:
    """The findings of the graph in *store* as of *as_of* (findings.md), optionally for some rules or series."""
    return run_validation(store, as_of, rules, series).report


# --- incremental runs ---------------------------------------------------------------------
def derived_triples(store: Store) -> frozenset[str]:
    """The derived graph of *store* (a private copy) as N-Triples lines, to compare before and after a bundle is added."""
    data = store.dump(ox.RdfFormat.N_TRIPLES, DERIVED_GRAPH) if DERIVED_GRAPH in store.named_graphs() else b""
    return frozenset(line for line in data.decode().splitlines() if line.strip())


_BLOTTER = frozenset({"transactions", "benefits", "expenditures"})


def _in_blotter(iri: str) -> bool:
    entity = split_entity_iri(iri)
    return entity is not None and entity[0] in _BLOTTER


def _new_subjects(store: Store, bundle_graphs: Sequence[str]) -> set[str]:
    """Subjects of the bundles' triples that state something no other graph already states."""
    graphs = set(bundle_graphs)
    stated: dict[str, set[tuple[str, str]]] = {}
    for graph in bundle_graphs:
        for triple in ox.parse(store.dump(ox.RdfFormat.N_TRIPLES, graph), format=ox.RdfFormat.N_TRIPLES):
            if isinstance(triple.subject, ox.NamedNode):
                stated.setdefault(triple.subject.value, set()).add((str(triple.predicate), str(triple.object)))
    known: dict[str, set[tuple[str, str]]] = {}
    query = find_query("internal/validation-known-facts").text
    for row in _batched(store, query, "subject", stated):
        if row["g"].value not in graphs:
            known.setdefault(row["subject"].value, set()).add((str(row["p"]), str(row["o"])))
    return {s for s, facts in stated.items() if facts - known.get(s, set())}


def _neighbours(store: Store, entities: Iterable[str]) -> dict[str, set[str]]:
    """The entities one link away from each of *entities*, in either direction."""
    found: dict[str, set[str]] = {}
    for row in _batched(store, find_query("internal/validation-neighbours").text, "entity", entities):
        found.setdefault(row["entity"].value, set()).add(row["near"].value)
    return found


def affected_focus(store: Store, bundle_graphs: Sequence[str], derived_before: frozenset[str]) -> set[str]:
    """Entities whose findings may differ after *bundle_graphs* were loaded and the graph re-derived.

    They are the entities the bundles state something new of, every entity
    a changed derived node names (a series whose intervals moved, a trustee
    whose status changed), and their neighbours up to two links away: a rule
    judges an entity by the facts of the entities around it (a transaction
    by its agreement's parties, a matter by its ballots' trustees).

    A new trade, benefit or expenditure changes no other trade's findings:
    its second link is followed only through blotter rows (an expenditure's
    benefit's trade) or to governance entities (the adoption matters of its
    series, BEP-4.2), which keeps a 1,000-trade change from reaching every
    trade of the same series or broker. Rows a bundle merely repeats (the
    organizations its trades refer to) are not changes.
    """
    changed = derived_before ^ derived_triples(store)
    seeds: set[str] = set()
    for line in changed:
        for term in ox.parse(line.encode(), format=ox.RdfFormat.N_TRIPLES):
            for node in (term.subject, term.object):
                if isinstance(node, ox.NamedNode) and _entity(node.value):
                    seeds.add(node.value)
    seeds |= _new_subjects(store, bundle_graphs)
    first = _neighbours(store, seeds)
    affected = seeds | {near for nears in first.values() for near in nears}
    through, governance = set(), set()
    for seed, nears in first.items():
        for near in nears:
            if not _in_blotter(seed) or _in_blotter(near):
                through.add(near)
            else:
                governance.add(near)
    affected |= {near for nears in _neighbours(store, through).values() for near in nears}
    if governance:
        for row in solutions(store.query(find_query("internal/validation-governance-links").text)):
            a, b = row["from"].value, row["to"].value
            if b in governance:
                affected.add(a)
            if a in governance and not _in_blotter(b):
                affected.add(b)
    return affected


def validate_changes(store: Store, as_of: date, previous: Validation, bundle_graphs: Sequence[str]) -> Validation:
    """The run of *previous* (same as-of date) brought up to date after *bundle_graphs* were loaded.

    Only the affected entities are judged again; the other findings are
    kept. The result equals a full run (tests/test_rules.py checks it).
    """
    _warm()

    def judged(copy: Store) -> tuple[set[str], Validation]:
        focus = affected_focus(copy, bundle_graphs, previous.derived)
        fresh = _judge(copy, as_of, None, None, focus)
        fresh.derived = derived_triples(copy)
        return focus, fresh

    focus, fresh = with_derived(store, as_of, judged, f"the incremental validation as of {as_of}")
    kept = [r for r in previous.results if r.focus not in focus]
    findings = [f for f in previous.report.findings if f.focus.iri not in focus]
    return Validation(Report(as_of, _merge(findings + fresh.report.findings)), kept + fresh.results, fresh.derived)


def cached_validation(store: Store, as_of: date) -> Validation:
    """The full validation run of *store* as of *as_of* (every rule, every series), run once per generation
    in the process's one cache (:mod:`.cache`)."""
    return answers().get(store, ("validation", as_of), lambda: run_validation(store, as_of))
