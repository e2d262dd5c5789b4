"""Whole validation runs for several as-of dates at once (a findings timeline), from one date back to the one before.

Why not one :func:`~bepgraph.validation.run.run_validation` per date: a
timeline of a dozen quarter ends was a dozen whole runs, each judging every
rule over every trade. Yet from one date to an earlier one most constraints
give results that follow from the later date's, and which ones do is read
off the constraint itself:

* a constraint judges the store's loaded facts (the same at every date),
  the derived facts of the date and the as-of date. Its query names the
  ontology terms it reads; when no derived triple it may read differs
  between the two dates (compared triple by triple; a triple counts unless
  every pattern naming its term asks for a subject of another class), the
  derived facts give it the same results;
* a constraint that does not read the as-of date then gives exactly the
  same results: they are kept;
* a constraint that reads the as-of date only to keep the focus nodes dated
  on or before it (``FILTER (?date <= ?asOf)`` on ``$this bep:date ?date``,
  no aggregate, no sub-select) gives exactly the later date's results of
  the focus nodes dated on or before the earlier date (each focus node's
  one ``bep:date`` is looked up; a node with two is judged again);
* every other constraint (one that reads the date another way, or reads a
  derived triple that changed) is run again whole.

Beyond what the query text shows, shapes/dated-readings.toml declares how
some rules read the date (``readings.py``): a focus-date rule is cut where
a derived interval changed only after the earlier date, a dated-through
rule is kept while its ``affected`` query finds nothing between the dates,
and a growing-total rule is run again on the later date's result focus
nodes only while its ``guard`` query is false.

The latest date is a whole run (the one the pack and the page show anyway,
from the shared cache; when it is not there yet, it is made in the same
private copies as the earlier dates, whose first reads of the store are the
dear ones: each copy judges the constraints it claims, at every date,
``shares.py``); the earlier ones cost their derivation, the constraints run
again and turning results into findings, by the same code as a run's
(``run.part_of``). Each date's report is the run's report,
not an approximation of it: tests/test_many_dates.py compares them finding
by finding at every quarter end, where findings appear and disappear. A
store that cannot be forked (on disk, remote) runs each date through
``run_validation``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import pyoxigraph as ox

from ..errors import ParameterError
from ..namespaces import XSD
from ..private_copy import can_fork, in_private_copy
from ..sparql import find_query
from ..store import Store
from .compile import Compiled
from .derive import DERIVED_GRAPH, derived_lines
from .engine import ShapeResult, focus_blocks, in_order, run_constraint, subclasses_of, validate
from .cache import answers
from .readings import DATED_THROUGH, FOCUS_DATE, GROWING_TOTAL, Readings, dated_readings
from .overlay import with_derived_side_by_side
from .run import (Part, Validation, _batched, _shapes, _warm, derived_triples, part_of, put_together, run_validation)
from .shares import Claims, copies_for_a_run

__all__ = ["Steps", "cached_validations", "run_validations"]

ONTOLOGY = "https://w3id.org/bepgraph/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_NAME = re.compile(r"(?:\bbep:|<" + re.escape(ONTOLOGY) + r")([A-Za-z_][\w-]*)")
_AS_OF = re.compile(r"\bbep:asOf\s+\?asOf\b")
_FILTER = re.compile(r"FILTER\s*\(([^()]*)\)")
_CUT = "?date <= ?asOf"
_FOCUS_DATE = re.compile(r"[?$]this\b[^.{}]*?(?<![/^\w:])bep:date\s+\?date\b")  # its own date, not a path's
_PROJECTION = re.compile(r"SELECT[^{]*", re.IGNORECASE)
# a triple pattern whose predicate is a variable (sh:closed, ?s ?p ?o): it may read any derived term
_GROUP_BY = re.compile(r"\bGROUP\s+BY(?:\s+[?$]\w+)+", re.IGNORECASE)  # its variables are no triple pattern
_ANY_PREDICATE = re.compile(r"(?<![\w(])[?$]\w+\s+[?$]\w+\s+[?$<\"\w]")


@dataclass(frozen=True)
class _Reading:
    """What a constraint reads, as far as moving from one as-of date to a later one goes."""

    names: frozenset[str] | None  # the ontology terms its query names (None: any, through a variable predicate)
    dated: bool  # it reads the as-of date
    cut: bool  # ... only to keep its focus nodes dated on or before it


_SUBSELECT = re.compile(r"\{\s*SELECT\b", re.IGNORECASE)


def _replaced(text: str, opening: re.Pattern[str], brackets: str, by: Callable[[str], str | None]) -> str:
    """*text* with each span from a match of *opening* to its balancing closing bracket replaced by
    ``by(span)`` (left as it is where that is None)."""
    out, at = [], 0
    for m in opening.finditer(text):
        if m.start() < at:
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {brackets[0]: 1, brackets[1]: -1}.get(text[i], 0)
            i += 1
        new = by(text[m.start():i])
        if new is not None:
            out.append(text[at:m.start()] + new)
            at = i
    return "".join(out) + text[at:]


def _without_subselects_apart_from_the_date(text: str) -> str:
    """*text* less its sub-selects that read neither ?date nor ?asOf: they are the same at every date and
    pool nothing across dates (what is left of a sub-select that does read them keeps the query from
    counting as cut)."""
    return _replaced(text, _SUBSELECT, "{}", lambda block: None if "?date" in block or "asOf" in block else "{ }")


def _cut_only(text: str) -> bool:
    """Whether *text* reads ?asOf only in ``bep:asOf ?asOf`` and in filters ``?date <= ?asOf [&& …]`` on
    the focus node's own ``bep:date ?date``, with no aggregate or sub-select that could pool dates."""
    text = _without_subselects_apart_from_the_date(text)
    upper = text.upper()
    if upper.count("SELECT") != 1 or "GROUP BY" in upper or "AS ?DATE" in upper:
        return False
    if len(_AS_OF.findall(text)) != 1 or text.count("bep:date ?date") != 1 or not _FOCUS_DATE.search(text):
        return False
    rest = _AS_OF.sub("", text)
    for body in _FILTER.findall(text):
        if "?asOf" not in body:
            continue
        parts = [p.strip() for p in body.split("&&")]
        if _CUT not in parts or any("?asOf" in p for p in parts if p != _CUT) or "||" in body:
            return False
        rest = rest.replace(body, "")
    return "?asOf" not in rest


@lru_cache(maxsize=None)
def _reading(c: Compiled) -> _Reading:
    dated = "asOf" in c.text
    where = _GROUP_BY.sub(" ", _PROJECTION.sub(" ", c.text))
    names = None if _ANY_PREDICATE.search(where) else frozenset(_NAME.findall(c.text))
    return _Reading(names, dated, dated and c.sparql and _cut_only(c.text))


ANY_CLASS = "*"  # a subject the derived graph gives no class: any pattern naming the term may match it


def _triple(line: str) -> ox.Triple:
    quad = next(iter(ox.parse(line.encode(), format=ox.RdfFormat.N_TRIPLES)))  # in the default graph
    return ox.Triple(quad.subject, quad.predicate, quad.object)


def _classes(lines: frozenset[str]) -> dict[str, set[str]]:
    """The rdf:type objects (IRI texts) of each subject (its text) of the N-Triples *lines*."""
    classes: dict[str, set[str]] = {}
    for line in lines:
        if f"<{RDF_TYPE}>" in line:
            t = _triple(line)
            classes.setdefault(str(t.subject), set()).add(str(t.object))
    return classes


def _changed_terms(before: frozenset[str], after: frozenset[str],
                   left_out: frozenset[str] = frozenset()) -> dict[str, set[str]] | None:
    """The ontology terms of the derived triples that differ (a predicate, the class of the subject), each
    with the classes of the subjects it changed on; None when a differing triple's predicate is outside
    the ontology (every constraint may read it). The differing lines in *left_out* are not counted."""
    changed = [_triple(line) for line in (before ^ after) - left_out]
    classes = _classes(before | after)
    terms: dict[str, set[str]] = {}
    for t in changed:
        predicate = t.predicate.value
        if predicate == ONTOLOGY + "asOf":
            continue  # the date itself: what _Reading says of each constraint
        if predicate != RDF_TYPE and not predicate.startswith(ONTOLOGY):
            return None
        of = classes.get(str(t.subject)) or {ANY_CLASS}
        if predicate.startswith(ONTOLOGY):
            terms.setdefault(predicate[len(ONTOLOGY):], set()).update(of)
        # a class term changes with a node's rdf:type (a node of the class comes or goes); another triple of
        # the node is read only through its predicate, counted above
        for cls in (of - {ANY_CLASS}) if predicate == RDF_TYPE else ():
            if not cls.startswith(f"<{ONTOLOGY}"):
                return None
            terms.setdefault(cls[len(ONTOLOGY) + 1:-1], set()).add(ANY_CLASS)
    return terms


_DAY = re.compile(r'^"(\d{4}-\d{2}-\d{2})"\^\^<http://www.w3.org/2001/XMLSchema#date>$')


def _day_of(term: str) -> date | None:
    m = _DAY.match(term)
    return date.fromisoformat(m.group(1)) if m else None


def _settled(later: frozenset[str], earlier: frozenset[str], day: date, readings: Readings) -> frozenset[str]:
    """The differing derived lines that only say an interval (readings.intervals) ends after *day* or starts
    after it: an interval open as of *day* that the later derivation ends after *day* (its end and what
    comes with the end added, nothing else of it changed), or one the earlier derivation lacks whole that
    starts after *day*. Seen from any day up to *day*, these intervals are the same at both dates."""
    prefix = f"<{ONTOLOGY}"
    classes = _classes(later | earlier)
    by_subject: dict[str, list[str]] = {}
    for line in later ^ earlier:
        by_subject.setdefault(line.split(" ", 1)[0], []).append(line)
    earlier_subjects = {line.split(" ", 1)[0] for line in earlier}
    out: set[str] = set()
    for subject, lines in by_subject.items():
        kinds = [k[len(prefix):-1] for k in classes.get(subject, ()) if k.startswith(prefix)]
        if len(kinds) != 1 or kinds[0] not in readings.intervals:
            continue  # not an interval
        interval = readings.intervals[kinds[0]]
        if subject not in earlier_subjects:  # new at the later date: it must start after *day*
            starts = [_day_of(str(_triple(line).object)) for line in lines
                      if line.split(" ", 2)[1] == f"{prefix}{interval.start}>"]
            if len(starts) == 1 and starts[0] is not None and starts[0] > day:
                out.update(lines)
            continue
        # open as of *day*, ended after it: its end and what comes with the end are new (what else of it
        # changed stays counted, for the rules that read it)
        ending = [line for line in lines if line.split(" ", 2)[1] in
                  {f"{prefix}{name}>" for name in {interval.end} | interval.with_end}]
        ends = [_day_of(str(_triple(line).object)) for line in ending
                if line.split(" ", 2)[1] == f"{prefix}{interval.end}>"]
        if (all(line in later for line in ending) and len(ends) == 1 and ends[0] is not None and ends[0] > day):
            out.update(ending)
    return frozenset(out)


_STATEMENT = re.compile(r"[^.{}]+")
_CALL = re.compile(r"\b(?:FILTER|BIND)\s*\(", re.IGNORECASE)


def _patterns(c: Compiled) -> str:
    """The query's triple patterns: target classes as plain ``rdf:type``, FILTER and BIND calls taken out."""
    return _replaced(c.query(None, {k: [k] for k in c.target_classes}), _CALL, "()", lambda _: " . ")


def _classes_asked(statement: str, subject: str) -> set[str]:
    """The classes (local names) *statement* asks its subject *subject* to have."""
    return set(re.findall(r"(?:^|;)\s*(?:" + re.escape(subject) + r"\s+)?(?:a|rdf:type)\s+bep:([A-Za-z_][\w-]*)",
                          statement.strip()))


def _scoped_statements(text: str) -> list[tuple[str, int, bool]]:
    """The statements of a query's patterns, each with its depth of groups (1: the outer WHERE group) and
    whether it lies in a sub-select."""
    out: list[tuple[str, int, bool]] = []
    stack: list[bool] = []  # for each open group: inside a sub-select
    for m in re.finditer(r"[{}]|[^{}]+", text):
        token = m.group(0)
        if token == "{":
            stack.append(bool(re.match(r"\s*SELECT\b", text[m.end():], re.IGNORECASE)) or (stack[-1] if stack else False))
        elif token == "}":
            if stack:
                stack.pop()
        else:
            out += [(st, len(stack), bool(stack and stack[-1])) for st in _STATEMENT.findall(token) if st.strip()]
    return out


def _top_level_classes(statements: list[tuple[str, int, bool]]) -> dict[str, set[str]]:
    """For each variable, the classes asked of it in the outer WHERE group itself (not a nested group)."""
    top: dict[str, set[str]] = {}
    for statement, depth, in_subselect in statements:
        words = statement.split()
        if depth == 1 and not in_subselect and words and words[0].startswith("?"):
            top.setdefault(words[0], set()).update(_classes_asked(statement, words[0]))
    return top


def _subject_classes(c: Compiled, term: str) -> list[set[str] | None]:
    """For each pattern of *c* whose predicate is ``bep:term``: the classes its subject is asked to have
    (IRI texts), None when the query does not say (a path, a subject of no stated class)."""
    out: list[set[str] | None] = []
    statements = _scoped_statements(_patterns(c))
    top = _top_level_classes(statements)
    for statement, _, in_subselect in statements:
        if not re.search(r"(?<![\w:/])bep:" + re.escape(term) + r"(?![\w-])", statement):
            continue
        if re.search(r"/\s*\^?bep:" + re.escape(term) + r"\b|bep:" + re.escape(term) + r"\s*(?:[/*+|]|\?(?![\w]))", statement):
            out.append(None)  # inside a path: its subject is an intermediate node
            continue
        subject = statement.split(None, 1)[0] if statement.split() else ""
        if subject in ("$this", "?this"):
            out.append(set(c.target_classes) or None)
        elif subject.startswith("?"):
            # a class asked in the same statement binds this very match; so does one asked of the variable
            # in the query's own top-level group: every solution binds it to a node of that class, and a
            # pattern of it in an OPTIONAL, a UNION branch, a NOT EXISTS or a MINUS only counts for nodes
            # that join with that binding (not inside a sub-select: its variables are its own)
            found = _classes_asked(statement, subject) or (set() if in_subselect else top.get(subject, set()))
            out.append({f"<{ONTOLOGY}{k}>" for k in found} or None)
        else:
            out.append(None)
    return out or [None]


def _reads_change(c: Compiled, reading: _Reading, terms: dict[str, set[str]]) -> bool:
    """Whether a derived triple that changed may be read by *c*: it names the term, and a pattern naming
    it may match the triple's subject (one of the classes the pattern asks for, or a subject of no class)."""
    assert reading.names is not None
    for term in reading.names & set(terms):
        on = terms[term]
        if ANY_CLASS in on:
            return True
        for wanted in _subject_classes(c, term):
            if wanted is None or wanted & on:
                return True
    return False


@dataclass
class Steps:
    """How the constraints were judged at the dates before the latest (for tests and benches)."""

    whole: int = 0  # run again over every focus node
    cut: int = 0  # the later date's results of the focus nodes dated on or before this date
    kept: int = 0  # the later date's results
    declared: int = 0  # of the cut ones: by the rule's reading in shapes/dated-readings.toml (focus-date)
    focused: int = 0  # kept: its dated-through reading says none of its focus nodes can change
    narrowed: int = 0  # run on the later date's result focus nodes only (a growing-total reading)


@dataclass(frozen=True)
class _Later:
    """The later date's run, as judging an earlier date from it reads it."""

    as_of: date
    results: list[ShapeResult]
    derived: frozenset[str]


def _focus_dates(copy: Store, focus: set[str], known: dict[str, set[date]]) -> dict[str, set[date]]:
    """The bep:date values of each focus node (asked once per node, they are loaded facts)."""
    ask = [f for f in focus if f not in known]
    for f in ask:
        known[f] = set()
    for row in _batched(copy, find_query("internal/validation-focus-dates").text, "entity", ask):
        known[row["entity"].value].add(date.fromisoformat(row["date"].value))
    return known


def _derive(copy: Store, day: date) -> frozenset[str]:
    """``graph/derived`` of *copy* as of *day*, from the loaded facts alone (as a fresh copy would have it)."""
    if DERIVED_GRAPH in copy.named_graphs():
        copy.drop_graph(DERIVED_GRAPH)
    copy.replace_graph(DERIVED_GRAPH, "".join(derived_lines(copy, day)[1]).encode())
    return derived_triples(copy)


def _of_each_constraint(copy: Store, latest: _Later, constraints: list[Compiled],
                        subclasses: dict[str, list[str]]) -> list[list[ShapeResult] | None]:
    """The latest run's results of each constraint. A result names its shape and component, not which of
    their constraints gave it: where several constraints share them, each is run again on the latest run's
    focus nodes of its shape and component, over the latest date's derived facts. None where that cannot
    be done (a focus that is not an IRI): that constraint is run whole at the first earlier date."""
    copy.replace_graph(DERIVED_GRAPH, "".join(line + "\n" for line in sorted(latest.derived)).encode())
    found: dict[tuple[str, str], list[ShapeResult]] = {}
    for r in latest.results:
        found.setdefault((r.shape, r.component), []).append(r)
    sharing = Counter((c.shape, c.component) for c in constraints)
    out: list[list[ShapeResult] | None] = []
    for c in constraints:
        key = (c.shape, c.component)
        if sharing[key] == 1 or key not in found:  # the only constraint of its shape and component: its results are those
            out.append(list(found.get(key, [])))
            continue
        mine = {r.focus for r in found[key]}
        try:
            out.append(run_constraint(copy, c, subclasses, focus_blocks(sorted(mine))) if mine else [])
        except ParameterError:
            out.append(None)
    return out


def _judged_back(copy: Store, latest: _Later, days: Sequence[date], constraints: list[Compiled]
                 ) -> tuple[list[Part], Steps]:
    """In a private copy: each of *days* (before *latest*'s date, latest first) derived from the loaded facts
    alone, then *constraints* (those *latest* judged) judged from the later date's results (module docstring)."""
    subclasses = subclasses_of(copy, frozenset().union(*(c.target_classes for c in constraints)))
    raw = _of_each_constraint(copy, latest, constraints, subclasses)
    readings = dated_readings()
    out: list[Part] = []
    steps = Steps()
    dates: dict[str, set[date]] = {}
    lines, later = latest.derived, latest.as_of
    guards: dict[str, bool] = {}

    def asked(query: str) -> bool:  # a guard reads loaded facts only: asked once for every date
        if query not in guards:
            guards[query] = _ask(copy, query, {})
        return guards[query]

    for day in sorted(days, reverse=True):
        now = _derive(copy, day)
        terms = _changed_terms(lines, now)
        settled = _changed_terms(lines, now, _settled(lines, now, day, readings))
        for i, c in enumerate(constraints):
            reading, before, declared = _reading(c), raw[i], readings.by_shape.get(c.shape)
            if before is None or terms is None or reading.names is None:
                raw[i] = run_constraint(copy, c, subclasses)
                steps.whole += 1
            elif (declared is not None and declared.reads == FOCUS_DATE and reading.dated and settled is not None
                  and not _reads_change(c, reading, settled)):
                raw[i] = _cut(copy, c, subclasses, before, day, dates, steps)
                steps.declared += 1
            elif (declared is not None and declared.reads == DATED_THROUGH and declared.affected is not None
                  and not _reads_change(c, reading, terms)):
                # none of its focus nodes can change: its results are kept; else it is run whole (a run
                # focused on the ones that can is no cheaper: its aggregate is evaluated whole per block)
                if _affected(copy, declared.affected, day, later):
                    raw[i] = run_constraint(copy, c, subclasses)
                    steps.whole += 1
                else:
                    steps.focused += 1
            elif (declared is not None and declared.reads == GROWING_TOTAL and declared.guard is not None
                  and not _reads_change(c, reading, terms) and not asked(declared.guard)):
                raw[i] = _narrowed(copy, c, subclasses, before, steps)
            elif (reading.dated and not reading.cut) or _reads_change(c, reading, terms):
                raw[i] = run_constraint(copy, c, subclasses)
                steps.whole += 1
            elif reading.cut:
                raw[i] = _cut(copy, c, subclasses, before, day, dates, steps)
            else:
                steps.kept += 1
        part = part_of(copy, day, in_order(r for found in raw for r in found or ()))
        part.derived = now
        out.append(part)
        lines, later = now, day
    return out, steps


def _cut(copy: Store, c: Compiled, subclasses: dict[str, list[str]], before: list[ShapeResult], day: date,
         dates: dict[str, set[date]], steps: Steps) -> list[ShapeResult]:
    """The later date's results *before* of the focus nodes dated on or before *day* (run whole when a
    focus node has two dates: which solution is whose is not known)."""
    when = _focus_dates(copy, {r.focus for r in before}, dates)
    if any(len(when[r.focus]) != 1 for r in before):
        steps.whole += 1
        return run_constraint(copy, c, subclasses)
    steps.cut += 1
    return [r for r in before if min(when[r.focus]) <= day]


def _narrowed(copy: Store, c: Compiled, subclasses: dict[str, list[str]], before: list[ShapeResult],
              steps: Steps) -> list[ShapeResult]:
    """*c* run on the focus nodes of the later date's results *before* only (a growing-total rule: no other
    focus node can be a result at an earlier date); run whole if one of them cannot be focused."""
    try:
        blocks = focus_blocks(sorted({r.focus for r in before}))
    except ParameterError:
        steps.whole += 1
        return run_constraint(copy, c, subclasses)
    steps.narrowed += 1
    return run_constraint(copy, c, subclasses, blocks) if blocks else []


def _ask(copy: Store, query: str, bindings: dict[str, ox.Literal]) -> bool:
    answer = copy.query(find_query(query).text, bindings)
    if not isinstance(answer, ox.QueryBoolean):
        raise ParameterError(f"the query {query} named in shapes/dated-readings.toml is not an ASK query")
    return bool(answer)


def _affected(copy: Store, query: str, after: date, until: date) -> bool:
    """Whether a dated-through rule may judge some focus node differently as of *after* than as of *until*."""
    xsd_date = ox.NamedNode(XSD + "date")
    return _ask(copy, query, {"after": ox.Literal(after.isoformat(), datatype=xsd_date),
                              "until": ox.Literal(until.isoformat(), datatype=xsd_date)})


def _whole_then_back(copy: Store, day: date, earlier: Sequence[date], claims: Claims[Compiled]
                     ) -> tuple[Part, list[Part], Steps]:
    """In a private copy holding the derived facts as of *day*: the whole run as of *day* of the constraints
    it claims, then *earlier* judged back from it (``shares.py``)."""
    last = part_of(copy, day, validate(copy, _shapes(), claimed=claims.claimed))
    constraints = claims.taken
    last.derived = derived_triples(copy)
    runs, steps = _judged_back(copy, _Later(day, last.results, last.derived), earlier, constraints)
    return last, runs, steps


def run_validations(store: Store, days: Sequence[date], latest: Validation | None = None,
                    steps: Steps | None = None) -> dict[date, Validation]:
    """The full validation run of *store* as of each of *days* (every rule, every series).

    The latest date is a whole run (*latest*, when the caller has it); the
    others are judged from it, one after the other back in time, in one
    private copy. *steps*, if given, counts how the constraints were judged.
    """
    wanted = sorted(set(days))
    if not wanted:
        return {}
    if latest is not None and latest.report.as_of != wanted[-1]:
        raise ValueError(f"the latest run is as of {latest.report.as_of}, not {wanted[-1]}")
    earlier = wanted[:-1]
    if not earlier or not can_fork(store):
        last = latest or run_validation(store, wanted[-1])
        return {**{day: run_validation(store, day) for day in earlier}, wanted[-1]: last}
    _warm()
    what = f"the validations as of {', '.join(d.isoformat() for d in wanted)}"
    if latest is None:  # each copy: the latest run of the constraints it claims, then those at the earlier dates
        with copies_for_a_run() as copies:
            claims: Claims[Compiled] = Claims()  # one copy alone claims them all
            shares = with_derived_side_by_side(
                store, wanted[-1], lambda copy: _whole_then_back(copy, wanted[-1], earlier, claims), what, copies)
        last = put_together([share[0] for share in shares])
        runs = [put_together([share[1][i] for share in shares]) for i in range(len(earlier))]
        done = [share[2] for share in shares]
    else:  # one copy: what each constraint costs at the earlier dates is not known to share them out
        last = latest
        later = _Later(last.report.as_of, last.results, last.derived)
        parts, one = in_private_copy(
            store, lambda copy: _judged_back(copy, later, earlier, list(_shapes().constraints)), what)
        runs, done = [put_together([part]) for part in parts], [one]
    if steps is not None:
        for name in ("whole", "cut", "kept", "declared", "focused", "narrowed"):
            setattr(steps, name, getattr(steps, name) + sum(getattr(d, name) for d in done))
    return {**dict(zip(sorted(earlier, reverse=True), runs)), wanted[-1]: last}


def cached_validations(store: Store, days: list[date]) -> dict[date, Validation]:
    """The full runs as of each of *days*: those kept are reused, the latest is a whole run, the others are
    judged back from it; each is kept in the process's one cache as :func:`run.cached_validation` keeps it."""
    if not days:
        return {}
    gen = store.generation()
    last_day = max(days)
    found = {day: run for day in set(days) if (run := answers().known(store, ("validation", day))) is not None}
    missing = sorted(set(days) - set(found) - {last_day})
    together: dict[date, Validation] = {}

    def with_the_earlier_dates() -> Validation:  # the latest date is the shared cache's, run once
        together.update(run_validations(store, [*missing, last_day]))
        return together[last_day]

    latest = answers().get(store, ("validation", last_day),
                           with_the_earlier_dates if missing else lambda: run_validation(store, last_day))
    found[last_day] = latest
    fresh = together or run_validations(store, [*missing, last_day], latest=latest)
    for day, run in sorted(fresh.items()):
        if day != max(days):
            answers().put(store, gen, ("validation", day), run)
    return {day: (found | fresh)[day] for day in sorted(set(days))}
