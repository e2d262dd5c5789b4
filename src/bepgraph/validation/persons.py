"""Who is who on a date: affiliated persons, interested persons and Rule 12b-1 Trustees.

The Act's definitions (ICA §2(a)(3), §2(a)(19)) are applied as rules.md
words them, to the relationship rows in force on the day. Control is only
what ``controls`` and ``under_common_control_with`` rows say, followed
through chains; every status keeps the reasons and the rows it rests on, so
a finding can show its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from .facts import PLAN, Facts, Relationship

__all__ = [
    "AFFILIATING_ROLES",
    "Affiliation",
    "ControlGraph",
    "Persons",
    "TrusteeStatus",
    "affiliation_intervals",
]

FIVE_PERCENT = Decimal(5)
OFFICES = {"officer_of": "officer", "director_of": "director", "partner_of": "partner", "employee_of": "employee"}
BROKER_ROLES = ("broker_dealer", "clearing_broker", "introducing_broker")
# the organizations whose affiliated persons are interested persons of the Trust (§2(a)(19))
AFFILIATING_ROLES = ("adviser", "sub_adviser", "distributor", *BROKER_ROLES)
_GROUP = "\x00group:"  # prefix of the implied common controller of under_common_control_with rows


@dataclass(frozen=True)
class Reason:
    text: str
    rests_on: tuple[str, ...]  # relationship ids


@dataclass(frozen=True)
class TrusteeStatus:
    trustee: str
    day: date
    in_office: bool
    interested: bool
    rule12b1: bool
    reasons: tuple[Reason, ...] = ()

    @property
    def rests_on(self) -> tuple[str, ...]:
        return tuple(sorted({r for reason in self.reasons for r in reason.rests_on}))


@dataclass(frozen=True)
class Affiliation:
    """*subject* is an affiliated person of the organization *object* from *start* until *end*."""

    subject: str
    object: str
    start: date
    end: date | None
    reasons: tuple[str, ...]
    rests_on: tuple[str, ...]


class ControlGraph:
    """Control on one day: who controls whom, directly or through a chain, and by which rows.

    Each group of ``under_common_control_with`` rows gets one implied
    controller, so "common control" is simply "a controller in common".
    """

    def __init__(self, rows: Iterable[Relationship]) -> None:
        self.parents: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        groups = _UnionFind()
        for rel in rows:
            if rel.relation == "controls" and rel.subject != rel.object:
                self.parents.setdefault(rel.object, []).append((rel.subject, (rel.id,)))
            elif rel.relation == "under_common_control_with":
                groups.union(rel.subject, rel.object, rel.id)
        for member, (root, rows_of_group) in groups.groups().items():
            self.parents.setdefault(member, []).append((_GROUP + root, rows_of_group))
        self._ancestors: dict[str, dict[str, tuple[str, ...]]] = {}

    def controllers(self, party: str) -> dict[str, tuple[str, ...]]:
        """Everyone who controls *party* directly or through a chain, with the rows of the shortest chain."""
        if party in self._ancestors:
            return self._ancestors[party]
        found: dict[str, tuple[str, ...]] = {}
        frontier: list[tuple[str, tuple[str, ...]]] = [(party, ())]
        while frontier:
            following: list[tuple[str, tuple[str, ...]]] = []
            for node, chain in frontier:
                for parent, rows in self.parents.get(node, []):
                    if parent != party and parent not in found:
                        found[parent] = tuple(sorted(set(chain + rows)))
                        following.append((parent, found[parent]))
            frontier = following
        self._ancestors[party] = found
        return found

    def real_controllers(self, party: str) -> dict[str, tuple[str, ...]]:
        """Controllers that are parties (not the implied controller of a common-control group)."""
        return {c: rows for c, rows in self.controllers(party).items() if not c.startswith(_GROUP)}


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.rows: dict[str, list[str]] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str, row: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
        self.rows.setdefault(a, []).append(row)

    def groups(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        rows_of_root: dict[str, set[str]] = {}
        for member, rows in self.rows.items():
            rows_of_root.setdefault(self.find(member), set()).update(rows)
        return {m: (self.find(m), tuple(sorted(rows_of_root[self.find(m)]))) for m in self.parent}


def _affiliation_reasons(graph: ControlGraph, rows: list[Relationship], subject: str, org: str) -> list[Reason]:
    """Why *subject* is an affiliated person of *org* (ICA §2(a)(3)); empty when it is not."""
    if subject == org:
        return []
    reasons: list[Reason] = []
    above_org = graph.controllers(org)
    above_subject = graph.controllers(subject)
    if subject in above_org:
        reasons.append(Reason("controls", above_org[subject]))
    if org in above_subject:
        reasons.append(Reason("controlled by", above_subject[org]))
    common = sorted(set(above_org) & set(above_subject) - {subject, org})
    if common and not reasons:  # a controller of either is also above both: say it once
        via = common[0]
        name = "a common-control group" if via.startswith(_GROUP) else via
        reasons.append(Reason(f"under common control via {name}",
                              tuple(sorted(set(above_org[via]) | set(above_subject[via])))))
    for rel in rows:
        if rel.relation == "owns_voting_securities_of" and rel.percent is not None and rel.percent >= FIVE_PERCENT:
            if rel.subject == subject and rel.object == org:
                reasons.append(Reason("owns ≥5% of its voting securities", (rel.id,)))
            elif rel.subject == org and rel.object == subject:
                reasons.append(Reason("≥5% of its voting securities owned by it", (rel.id,)))
        elif rel.relation in OFFICES and rel.subject == subject and rel.object == org:
            reasons.append(Reason(OFFICES[rel.relation], (rel.id,)))
    return reasons


@dataclass
class _Day:
    """Everything that depends only on the relationships in force on one day."""

    rows: list[Relationship]
    graph: ControlGraph
    affiliations: dict[tuple[str, str], list[Reason]] = field(default_factory=dict)


class Persons:
    """Statuses of persons on any date, from one set of facts; each day is computed once."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.trust = facts.with_role("trust")
        self.affiliating = facts.with_role(*AFFILIATING_ROLES) - self.trust
        # ownership of any voting securities of these, or of their controllers, makes a trustee interested
        self.owned_targets = facts.with_role("adviser", "sub_adviser", "distributor")
        self.counselled = facts.with_role("trust", "adviser", "distributor")
        self.related_agreements = {a.id for a in facts.agreements.values() if a.related_to_plan}
        orgs = set(facts.roles)
        parties = orgs | set(facts.trustees)
        for rel in facts.relationships:
            if rel.relation != "financial_interest_in":
                parties.update((rel.subject, rel.object))
        parties.discard(PLAN)
        self.parties = sorted(parties - set(facts.agreements))
        self.organizations = sorted(orgs | {r.object for r in facts.relationships
                                            if r.relation in OFFICES or r.relation == "owns_voting_securities_of"})
        self._day = lru_cache(maxsize=None)(self._compute_day)
        self._status = lru_cache(maxsize=None)(self._compute_status)

    # ---- one day -------------------------------------------------------------

    def _compute_day(self, day: date) -> _Day:
        rows = [r for r in self.facts.relationships if r.holds_on(day)]
        return _Day(rows, ControlGraph(rows))

    def control_on(self, day: date) -> ControlGraph:
        return self._day(day).graph

    def affiliation(self, subject: str, org: str, day: date) -> list[Reason]:
        """Why *subject* is an affiliated person of *org* on *day* (empty: it is not)."""
        state = self._day(day)
        key = (subject, org)
        if key not in state.affiliations:
            state.affiliations[key] = _affiliation_reasons(state.graph, state.rows, subject, org)
        return state.affiliations[key]

    def affiliations_on(self, day: date) -> dict[tuple[str, str], list[Reason]]:
        """Every (affiliated person, organization) pair on *day*, with its reasons."""
        found: dict[tuple[str, str], list[Reason]] = {}
        for org in self.organizations:
            for subject in self.parties:
                reasons = self.affiliation(subject, org, day)
                if reasons:
                    found[(subject, org)] = reasons
        return found

    # ---- interested persons and Rule 12b-1 Trustees ---------------------------

    def _base_interest(self, person: str, day: date) -> list[Reason]:
        """§2(a)(19) reasons of the person's own: affiliation, ownership of voting securities, counsel."""
        state = self._day(day)
        reasons: list[Reason] = []
        for org in sorted(self.affiliating):
            for r in self.affiliation(person, org, day):
                reasons.append(Reason(f"affiliated person of {org} ({r.text})", r.rests_on))
        owned: dict[str, tuple[str, ...]] = {org: () for org in self.owned_targets}
        for org in sorted(self.owned_targets):  # the first chain found is kept: the same one every run
            for controller, chain in state.graph.real_controllers(org).items():
                owned.setdefault(controller, chain)
        for rel in state.rows:
            if rel.subject != person:
                continue
            if rel.relation == "owns_voting_securities_of" and rel.object in owned:
                text = f"owns voting securities of {rel.object}"
                if rel.object not in self.owned_targets:
                    controlled = sorted(o for o in self.owned_targets if rel.object in state.graph.controllers(o))
                    text += f", which controls {', '.join(controlled)}"
                reasons.append(Reason(text, tuple(sorted({rel.id, *owned[rel.object]}))))
            elif rel.relation == "legal_counsel_to" and rel.object in self.counselled:
                reasons.append(Reason(f"legal counsel to {rel.object}", (rel.id,)))
        return reasons

    def interest_reasons(self, person: str, day: date) -> list[Reason]:
        """Why *person* is an interested person of the Trust on *day* (empty: not interested)."""
        reasons = self._base_interest(person, day)
        for rel in self._day(day).rows:
            if rel.relation != "immediate_family_of" or person not in (rel.subject, rel.object):
                continue
            relative = rel.object if rel.subject == person else rel.subject
            if relative == person:
                continue
            theirs = [r for r in self._base_interest(relative, day) if not r.text.startswith("legal counsel")]
            if theirs:
                rows = {rel.id, *(row for r in theirs for row in r.rests_on)}
                reasons.append(Reason(f"immediate family of {relative} ({theirs[0].text})", tuple(sorted(rows))))
        return reasons

    def financial_interest(self, person: str, day: date) -> list[Reason]:
        """Direct or indirect financial interest in the plan or a related agreement, as rows say."""
        return [Reason(f"financial interest in {rel.object}", (rel.id,))
                for rel in self._day(day).rows
                if rel.relation == "financial_interest_in" and rel.subject == person
                and (rel.object == PLAN or rel.object in self.related_agreements)]

    def _compute_status(self, trustee: str, day: date) -> TrusteeStatus:
        in_office = self.facts.trustees[trustee].in_office(day)
        interest = self.interest_reasons(trustee, day)
        money = self.financial_interest(trustee, day)
        reasons = list(interest) + money
        if not in_office:
            reasons.append(Reason("not in office", ()))
        return TrusteeStatus(trustee, day, in_office, bool(interest), in_office and not interest and not money,
                             tuple(reasons))

    def status(self, trustee: str, day: date) -> TrusteeStatus:
        return self._status(trustee, day)

    def in_office(self, day: date) -> list[str]:
        return sorted(t for t, row in self.facts.trustees.items() if row.in_office(day))

    def rule12b1_trustees(self, day: date) -> list[str]:
        return [t for t in self.in_office(day) if self.status(t, day).rule12b1]

    def independent_majority(self, day: date) -> bool:
        """Trustees who are not interested persons are a majority of the trustees in office."""
        office = self.in_office(day)
        independent = [t for t in office if not self.status(t, day).interested]
        return 2 * len(independent) > len(office)

    def change_days(self) -> list[date]:
        """Every day on which a status can change: starts and ends of relationships and terms."""
        days = {r.start for r in self.facts.relationships} | {r.end for r in self.facts.relationships if r.end}
        for t in self.facts.trustees.values():
            days.add(t.start)
            if t.end:
                days.add(t.end)
        return sorted(d for d in days if d <= self.facts.as_of)


def affiliation_intervals(persons: Persons) -> list[Affiliation]:
    """Each affiliation as maximal intervals over which its reasons and rows stay the same."""
    days = sorted({r.start for r in persons.facts.relationships}
                  | {r.end for r in persons.facts.relationships if r.end})
    days = [d for d in days if d <= persons.facts.as_of]
    open_: dict[tuple[str, str], tuple[date, tuple[str, ...], tuple[str, ...]]] = {}
    closed: list[Affiliation] = []
    for day in days:
        now = {key: (tuple(r.text for r in reasons), tuple(sorted({x for r in reasons for x in r.rests_on})))
               for key, reasons in persons.affiliations_on(day).items()}
        for key in list(open_):
            start, texts, rows = open_[key]
            if now.get(key) != (texts, rows):
                closed.append(Affiliation(key[0], key[1], start, day, texts, rows))
                del open_[key]
        for key, (texts, rows) in now.items():
            if key not in open_:
                open_[key] = (day, texts, rows)
    closed.extend(Affiliation(k[0], k[1], start, None, texts, rows) for k, (start, texts, rows) in open_.items())
    return sorted(closed, key=lambda a: (a.subject, a.object, a.start))
