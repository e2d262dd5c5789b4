"""The governance facts the derivation needs, read from the store as plain typed rows.

Only small tables are read (trustees, relationships, agreements, meetings,
votes, reports): the transaction blotter never passes through Python, the
shapes join it against the derived intervals in SPARQL. Each table comes
through a named query in ``queries/internal/`` with the as-of date bound, so
facts dated after it are never seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pyoxigraph as ox

from ..namespaces import BEP, split_entity_iri
from ..sparql import find_query, run
from ..store import Store, Term, solutions

__all__ = [
    "Agreement",
    "AgreementEvent",
    "Ballot",
    "Facts",
    "Matter",
    "Relationship",
    "Report",
    "SeriesFacts",
    "ShareholderVote",
    "Trustee",
    "read_facts",
]

PLAN = "plan"


@dataclass(frozen=True)
class Trustee:
    id: str
    start: date
    end: date | None = None  # first day no longer in office

    def in_office(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end > day)


@dataclass(frozen=True)
class Relationship:
    id: str
    subject: str
    relation: str
    object: str
    start: date
    end: date | None = None  # first day it no longer holds
    percent: Decimal | None = None

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end > day)


@dataclass(frozen=True)
class Agreement:
    id: str
    parties: tuple[str, ...]
    effective: date
    ends: date | None = None
    related_to_plan: bool = False


@dataclass(frozen=True)
class AgreementEvent:
    id: str
    agreement: str
    day: date
    event: str  # "assigned", "terminated" or "amended"


@dataclass(frozen=True)
class Matter:
    id: str
    meeting: str
    day: date
    action: str
    series: tuple[str, ...] = ()
    subject: str = PLAN
    in_person: bool = True
    called_for_plan: bool = True
    material: bool = False
    increases_spending: bool = False
    increase_from_credits: bool = False
    notice_date: date | None = None
    effective: date | None = None

    @property
    def single_series(self) -> str | None:
        """The series it is taken for; a matter listing several counts for none (plan ¶11)."""
        return self.series[0] if len(self.series) == 1 else None


@dataclass(frozen=True)
class Ballot:
    matter: str
    trustee: str
    vote: str
    in_person: bool

    @property
    def id(self) -> str:
        return f"{self.matter}/{self.trustee}"


@dataclass(frozen=True)
class ShareholderVote:
    matter: str
    series: str
    outstanding: Decimal
    present: Decimal
    shares_for: Decimal

    @property
    def id(self) -> str:
        return f"{self.matter}/{self.series}"


@dataclass(frozen=True)
class Report:
    id: str
    delivered: date
    period_start: date
    period_end: date
    by: str


@dataclass(frozen=True)
class SeriesFacts:
    id: str
    added_to_plan: date | None = None
    removed_from_plan: date | None = None


@dataclass
class Facts:
    """Everything the derivation reads, as of one date."""

    as_of: date
    plan_date: date
    schedule_a: tuple[str, ...] = ()
    series: dict[str, SeriesFacts] = field(default_factory=dict)
    roles: dict[str, frozenset[str]] = field(default_factory=dict)  # org -> role codes
    trustees: dict[str, Trustee] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    events: list[AgreementEvent] = field(default_factory=list)
    matters: dict[str, Matter] = field(default_factory=dict)
    ballots: list[Ballot] = field(default_factory=list)
    votes: list[ShareholderVote] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)

    def with_role(self, *codes: str) -> frozenset[str]:
        """Organizations having any of the role codes (``adviser``, ``broker_dealer``…)."""
        wanted = set(codes)
        return frozenset(org for org, roles in self.roles.items() if roles & wanted)

    def all_series(self) -> list[str]:
        named = set(self.schedule_a) | set(self.series)
        for matter in self.matters.values():
            named.update(matter.series)
        return sorted(named)


_ROLE_OF_CLASS = {
    "Trust": "trust", "InvestmentAdviser": "adviser", "SubAdviser": "sub_adviser",
    "Distributor": "distributor", "BrokerDealer": "broker_dealer",
    "ClearingBroker": "clearing_broker", "IntroducingBroker": "introducing_broker",
}
_EVENT_OF_CLASS = {"Assignment": "assigned", "Termination": "terminated", "Amendment": "amended"}


def _id(term: Term) -> str:
    """The bundle id of an entity IRI (``plan`` for the plan)."""
    value = term.value
    found = split_entity_iri(value)
    return found[1] if found else value


def _ids(term: Term | None) -> tuple[str, ...]:
    if term is None or not term.value:
        return ()
    return tuple(sorted(_id(ox.NamedNode(iri)) for iri in term.value.split(" ")))


def _day(term: Term) -> date:
    """A date the query always binds (outside its OPTIONALs)."""
    return date.fromisoformat(term.value)


def _date(term: Term | None) -> date | None:
    return None if term is None else _day(term)


def _bool(term: Term | None) -> bool:
    return term is not None and term.value == "true"


def _amount(term: Term) -> Decimal:
    """A number the query always binds (outside its OPTIONALs)."""
    return Decimal(term.value)


def _decimal(term: Term | None) -> Decimal | None:
    return None if term is None else _amount(term)


def _rows(store: Store, name: str, as_of: date) -> list[ox.QuerySolution]:
    query = find_query(f"internal/{name}")
    values = {"asOf": as_of.isoformat()} if any(p.name == "asOf" for p in query.parameters) else {}
    return list(solutions(run(store, query, values)))


def _local(term: Term) -> str:
    return term.value[len(BEP):]


def read_facts(store: Store, as_of: date) -> Facts:
    """The governance facts dated on or before *as_of* (plan, series, persons, meetings, reports)."""
    plan_rows = _rows(store, "derive-plan", as_of)
    if not plan_rows:
        from ..errors import StoreError

        raise StoreError("the store holds no plan (bepid:plan bep:planDate): load the filing first")
    facts = Facts(as_of=as_of, plan_date=_day(plan_rows[0]["planDate"]))
    facts.schedule_a = tuple(sorted({_id(r["series"]) for r in plan_rows if r["series"] is not None}))
    roles: dict[str, set[str]] = {}
    for r in _rows(store, "derive-organizations", as_of):
        found = roles.setdefault(_id(r["org"]), set())
        if r["role"] is not None:
            found.add(_ROLE_OF_CLASS[_local(r["role"])])
    facts.roles = {org: frozenset(codes) for org, codes in roles.items()}
    for r in _rows(store, "derive-series", as_of):
        facts.series[_id(r["series"])] = SeriesFacts(_id(r["series"]), _date(r["added"]), _date(r["removed"]))
    for r in _rows(store, "derive-trustees", as_of):
        facts.trustees[_id(r["trustee"])] = Trustee(_id(r["trustee"]), _day(r["from"]), _date(r["to"]))
    facts.relationships = sorted(
        (Relationship(_id(r["rel"]), _id(r["subject"]), r["relation"].value, _id(r["object"]),
                      _day(r["from"]), _date(r["to"]), _decimal(r["percent"]))
         for r in _rows(store, "derive-relationships", as_of)),
        key=lambda rel: (rel.start, rel.id),
    )
    for r in _rows(store, "derive-agreements", as_of):
        agreement = Agreement(_id(r["agreement"]), _ids(r["parties"]), _day(r["effective"]),
                              _date(r["ends"]), _bool(r["related"]))
        facts.agreements[agreement.id] = agreement
    facts.events = sorted(
        (AgreementEvent(_id(r["event"]), _id(r["agreement"]), _day(r["date"]),
                        _EVENT_OF_CLASS[_local(r["kind"])])
         for r in _rows(store, "derive-agreement-events", as_of)),
        key=lambda e: (e.day, e.id),
    )
    for r in _rows(store, "derive-matters", as_of):
        matter = Matter(
            _id(r["matter"]), _id(r["meeting"]), _day(r["date"]), r["action"].value,
            _ids(r["series"]), _id(r["subject"]), _bool(r["inPerson"]), _bool(r["calledForPlan"]),
            _bool(r["material"]), _bool(r["increases"]), _bool(r["fromCredits"]),
            _date(r["notice"]), _date(r["effective"]),
        )
        facts.matters[matter.id] = matter
    facts.ballots = sorted(
        (Ballot(_id(r["matter"]), _id(r["trustee"]), r["vote"].value, _bool(r["inPerson"]))
         for r in _rows(store, "derive-ballots", as_of)),
        key=lambda b: b.id,
    )
    facts.votes = sorted(
        (ShareholderVote(_id(r["matter"]), _id(r["series"]), _amount(r["outstanding"]),
                         _amount(r["present"]), _amount(r["for"]))
         for r in _rows(store, "derive-shareholder-votes", as_of)),
        key=lambda v: v.id,
    )
    facts.reports = sorted(
        (Report(_id(r["report"]), _day(r["delivered"]), _day(r["start"]), _day(r["end"]), _id(r["by"]))
         for r in _rows(store, "derive-reports", as_of)),
        key=lambda rep: (rep.period_start, rep.id),
    )
    return facts
