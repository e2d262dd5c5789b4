"""Computes the legal status the rules speak of, as the triples of ``graph/derived``.

The rules' terms (rules.md, "Terms the rules use") need calendar arithmetic
and fixed-point reasoning over control chains that SPARQL does badly, so
they are computed here, from the small governance tables, and handed to
the shapes as plain facts (docs/derived-graph.md). The blotter is never
read: the shapes join trades against the derived intervals in SPARQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from ..namespaces import DATA, RDF, entity_iri, graph_iri
from ..sources.ntriples import bep, iri, literal, triple, typed
from ..store import Store
from .calendar import add_days
from .approvals import ActionApproval, Approval, agreement_approvals, amendment_approvals, matter_approvals
from .duties import (IndependenceShortfall, ReportDuty, RetentionDuty, independence_shortfalls, report_duties,
                     retention_duties)
from .effect import AgreementInForce, PlanInEffect, agreement_in_force, series_effect
from .facts import Facts, read_facts
from .persons import Affiliation, Persons, TrusteeStatus, affiliation_intervals

__all__ = [
    "DERIVED_GRAPH", "RULE_12B1_H_DATE", "Derived", "DerivedSummary", "compute", "derive",
    "derived_for", "derived_lines", "derived_triples",
]

NOTICE_DAYS = 30  # plan ¶7: "on not more than 30 days' written notice" (the rule allows 60)

DERIVED_GRAPH = graph_iri("derived")
RULE_12B1_H_DATE = date(2004, 12, 13)  # compliance date of Rule 12b-1(h)
_RDF_TYPE = f"<{RDF}type>"
_SAFE = "-._~!$&'()*+,;=:@/"


@dataclass
class Derived:
    """Everything derived as of one date, before it is written as triples."""

    facts: Facts
    statuses: list[TrusteeStatus]
    affiliations: list[Affiliation]
    approvals: list[Approval]
    actions: list[ActionApproval]
    intervals: list[PlanInEffect]
    agreements: list[AgreementInForce]
    reports: list[ReportDuty]
    retention: list[RetentionDuty]
    shortfalls: list[IndependenceShortfall]


@dataclass(frozen=True)
class DerivedSummary:
    """What a derivation wrote: counts per kind of derived node and the triples in graph/derived."""

    as_of: date
    triples: int
    trustee_statuses: int
    affiliations: int
    approvals: int
    action_approvals: int
    plan_intervals: int
    agreements_in_force: int
    report_duties: int
    retention_duties: int
    independence_shortfalls: int


def compute(facts: Facts) -> Derived:
    """The derived status from plain facts: no store involved, so every fine point is unit-testable."""
    persons = Persons(facts)
    days = sorted({facts.as_of} | {m.day for m in facts.matters.values()})
    statuses = [persons.status(t, d) for t in sorted(facts.trustees) for d in days]
    given = matter_approvals(facts, persons)
    intervals: list[PlanInEffect] = []
    actions: list[ActionApproval] = []
    for series in facts.all_series():
        found, taken = series_effect(facts, series, given)
        intervals += found
        actions += taken
    actions += amendment_approvals(facts, given) + agreement_approvals(facts, given)
    in_force = [agreement_in_force(a, facts, persons.control_on) for _, a in sorted(facts.agreements.items())]
    return Derived(
        facts, statuses, affiliation_intervals(persons),
        [a for m in sorted(given) for a in given[m]], actions, intervals, in_force,
        report_duties(facts, intervals), retention_duties(facts, intervals, in_force),
        independence_shortfalls(persons, intervals),
    )


def _node(kind: str, *key: object) -> str:
    return iri(DATA + "derived/" + kind + "/" + "/".join(quote(str(k), safe=_SAFE) for k in key))


def _day(value: date) -> str:
    return typed(value.isoformat(), "date")


def _bool(value: bool) -> str:
    return typed("true" if value else "false", "boolean")


class _Writer:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.lines: list[str] = []

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(triple(s, bep(p) if p != "a" else _RDF_TYPE, o))

    def party(self, ident: str) -> str:
        table = "trustees" if ident in self.facts.trustees else "organizations"
        return iri(entity_iri(table, ident))

    def rests(self, node: str, table: str, ids: Iterable[str]) -> None:
        for ident in ids:
            self.add(node, "restsOn", iri(entity_iri(table, ident)))

    def gaps(self, adoption: str, action: ActionApproval) -> set[date]:
        """The adoption's BEP-4.2 gaps (node *adoption*); returns the days they cover up to the as-of date."""
        days: set[date] = set()
        for gap in action.lacking:
            node = _node("adoption-gap", action.key, gap.start.isoformat())
            self.add(node, "a", bep("AdoptionGap"))
            self.add(node, "adoption", adoption)
            self.add(node, "forSeries", iri(entity_iri("series", action.series or "")))
            self.add(node, "startDate", _day(gap.start))
            if gap.end:
                self.add(node, "endDate", _day(gap.end))
            for missing in gap.missing:
                self.add(node, "missingApproval", literal(missing))
            self.rests(node, "matters", action.matters)
            days.update(_days(gap.start, gap.end or add_days(self.facts.as_of, 1)))
        return days

    def interval_node(self, interval: PlanInEffect) -> str:
        return _node("in-effect", interval.series, interval.start.isoformat())


def _days(start: date, end: date) -> Iterator[date]:
    """Every day from *start* up to, not including, *end*."""
    day = start
    while day < end:
        yield day
        day = add_days(day, 1)


def derived_triples(derived: Derived) -> list[str]:
    """The derived graph as N-Triples lines, in the shape docs/derived-graph.md describes."""
    w = _Writer(derived.facts)
    _context(w, derived)
    _people(w, derived)
    _approvals(w, derived)
    _plan(w, derived)
    _duties(w, derived)
    return w.lines


def _context(w: _Writer, derived: Derived) -> None:
    """The validation context: the as-of date and the dates the rules compare with."""
    facts = derived.facts
    context = iri(DATA + "derived/context")
    w.add(context, "a", bep("ValidationContext"))
    w.add(context, "asOf", _day(facts.as_of))
    w.add(context, "rule12b1hDate", _day(RULE_12B1_H_DATE))


def _people(w: _Writer, derived: Derived) -> None:
    """Each trustee's status on each day it changes, and the affiliations between parties."""
    for status in derived.statuses:
        node = _node("trustee-status", status.trustee, status.day.isoformat())
        w.add(node, "a", bep("TrusteeStatus"))
        w.add(node, "trustee", iri(entity_iri("trustees", status.trustee)))
        w.add(node, "onDate", _day(status.day))
        w.add(node, "inOffice", _bool(status.in_office))
        w.add(node, "isInterestedPerson", _bool(status.interested))
        w.add(node, "isRule12b1Trustee", _bool(status.rule12b1))
        for reason in status.reasons:
            w.add(node, "reason", literal(reason.text))
        w.rests(node, "relationships", status.rests_on)
        w.add(node, "restsOn", iri(entity_iri("trustees", status.trustee)))
    for aff in derived.affiliations:
        node = _node("affiliation", aff.subject, aff.object, aff.start.isoformat())
        w.add(node, "a", bep("Affiliation"))
        w.add(node, "subjectParty", w.party(aff.subject))
        w.add(node, "objectParty", w.party(aff.object))
        w.add(node, "startDate", _day(aff.start))
        if aff.end:
            w.add(node, "endDate", _day(aff.end))
        for why in aff.reasons:
            w.add(node, "reason", literal(why))
        w.rests(node, "relationships", aff.rests_on)


def _approvals(w: _Writer, derived: Derived) -> None:
    """The approvals of matters, what each action lacks, and the notice a termination owes."""
    facts = derived.facts
    for approval in derived.approvals:
        node = _node("approval", approval.matter, approval.kind)
        w.add(node, "a", bep("Approval"))
        w.add(node, "matter", iri(entity_iri("matters", approval.matter)))
        if approval.series:
            w.add(node, "forSeries", iri(entity_iri("series", approval.series)))
        w.add(node, "action", literal(approval.action))
        w.add(node, "approvalKind", literal(approval.kind))
        w.add(node, "date", _day(approval.day))
        w.rests(node, "shareholder_votes" if approval.kind == "shareholder" else "ballots", approval.rests_on)
    gap_days: set[date] = set()
    for action in derived.actions:
        node = _node("action", action.key)
        w.add(node, "a", bep("ActionApproval"))
        w.add(node, "action", literal(action.action))
        if action.series:
            w.add(node, "forSeries", iri(entity_iri("series", action.series)))
        if action.agreement:
            w.add(node, "agreement", iri(entity_iri("agreements", action.agreement)))
        if action.day:
            w.add(node, "date", _day(action.day))
        if action.effective:
            w.add(node, "effectiveDate", _day(action.effective))
        for missing in action.missing:
            w.add(node, "missingApproval", literal(missing))
        for matter_id in action.matters:
            w.add(node, "matter", iri(entity_iri("matters", matter_id)))
        w.rests(node, "matters", action.matters)
        gap_days.update(w.gaps(node, action))
    for day in sorted(gap_days):
        # each day some adoption lacked an approval, so BEP-4.2 finds that day's activity through
        # the store's index of dates instead of comparing every activity with every gap
        node = _node("adoption-gap-day", day.isoformat())
        w.add(node, "a", bep("AdoptionGapDay"))
        w.add(node, "onDate", _day(day))
    for matter in facts.matters.values():
        # plan ¶7's 30 days' notice as a date computed here, so the shape compares dates only
        if matter.action == "terminate" and matter.notice_date is not None:
            node = _node("termination-notice", matter.id)
            w.add(node, "a", bep("TerminationNotice"))
            w.add(node, "matter", iri(entity_iri("matters", matter.id)))
            w.add(node, "deadline", _day(add_days(matter.notice_date, NOTICE_DAYS)))
            w.add(node, "restsOn", iri(entity_iri("matters", matter.id)))


def _plan(w: _Writer, derived: Derived) -> None:
    """When the plan is in effect for each series, and when each agreement is in force."""
    for interval in derived.intervals:
        node = w.interval_node(interval)
        w.add(node, "a", bep("PlanInEffectInterval"))
        w.add(node, "forSeries", iri(entity_iri("series", interval.series)))
        w.add(node, "inEffectFrom", _day(interval.start))
        if interval.end:
            w.add(node, "inEffectUntil", _day(interval.end))
            w.add(node, "endReason", literal(interval.end_reason or ""))
        w.add(node, "continuanceDue", _day(interval.continuance_due))
        w.rests(node, "matters", interval.rests_on)
    for force in derived.agreements:
        node = _node("in-force", force.agreement)
        w.add(node, "a", bep("AgreementInForce"))
        w.add(node, "agreement", iri(entity_iri("agreements", force.agreement)))
        w.add(node, "startDate", _day(force.start))
        if force.end:
            w.add(node, "endDate", _day(force.end))
            w.add(node, "endReason", literal(force.end_reason or ""))
        table = "relationships" if force.end_reason == "change of control" else "agreement_events"
        w.rests(node, table, force.rests_on)


def _duties(w: _Writer, derived: Derived) -> None:
    """The reports, retention and independence the plan and the Rule require."""
    for duty in derived.reports:
        node = _node("report-duty", duty.start.isoformat())
        w.add(node, "a", bep("ReportDuty"))
        w.add(node, "periodStart", _day(duty.start))
        w.add(node, "periodEnd", _day(duty.end))
        w.add(node, "deadline", _day(duty.deadline))
        for report in duty.fulfilled_by:
            w.add(node, "fulfilledBy", iri(entity_iri("reports", report)))
        for interval in duty.intervals:
            w.add(node, "restsOn", w.interval_node(interval))
    for keep in derived.retention:
        node = _node("retention", keep.table, keep.document)
        w.add(node, "a", bep("RetentionDuty"))
        w.add(node, "document", iri(entity_iri(keep.table, keep.document)))
        w.add(node, "requiredRetainedUntil", _day(keep.retained_until))
        w.add(node, "requiredAccessibleUntil", _day(keep.accessible_until))
        w.add(node, "restsOn", iri(entity_iri(keep.table, keep.document)))
    for short in derived.shortfalls:
        node = _node("independence-shortfall", short.start.isoformat())
        w.add(node, "a", bep("IndependenceShortfall"))
        w.add(node, "startDate", _day(short.start))
        if short.end:
            w.add(node, "endDate", _day(short.end))
        for interval in short.intervals:
            w.add(node, "restsOn", w.interval_node(interval))


def derived_lines(store: Store, as_of: date) -> tuple[Derived, list[str]]:
    """The status derived as of *as_of* from the facts in *store*, and its N-Triples lines (nothing written)."""
    derived = compute(read_facts(store, as_of))
    return derived, derived_triples(derived)


@contextmanager
def derived_for(store: Store, as_of: date) -> Iterator[DerivedSummary]:
    """``graph/derived`` as of *as_of* written into *store*, which the caller owns (a test's, a bench's).

    The stores users read are never written so: the doors derive into a
    private copy (``validation/overlay.py``).
    """
    yield derive(store, as_of)


def derive(store: Store, as_of: date, graph: str = DERIVED_GRAPH) -> DerivedSummary:
    """Derive the status as of *as_of* from the store's facts and replace *graph* of *store* with it.

    Only for a store nobody else reads: a private copy, a test's store.
    """
    derived, lines = derived_lines(store, as_of)
    store.replace_graph(graph, "".join(lines).encode())
    return summary_of(as_of, derived, lines)


def summary_of(as_of: date, derived: Derived, lines: list[str]) -> DerivedSummary:
    """The counts of a derivation (what ``derive`` reports)."""
    return DerivedSummary(
        as_of=as_of, triples=len(lines), trustee_statuses=len(derived.statuses),
        affiliations=len(derived.affiliations), approvals=len(derived.approvals),
        action_approvals=len(derived.actions), plan_intervals=len(derived.intervals),
        agreements_in_force=len(derived.agreements), report_duties=len(derived.reports),
        retention_duties=len(derived.retention), independence_shortfalls=len(derived.shortfalls),
    )
