"""Plain facts for the derivation's unit tests: no store, just the dataclasses the store would yield."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from bepgraph.validation.facts import (Agreement, AgreementEvent, Ballot, Facts, Matter, Relationship, Report,
                                       SeriesFacts, ShareholderVote, Trustee)

__all__ = ["S", "T2", "adoption", "ballots", "continuance", "d", "make_facts", "matter", "rel", "vote"]

S = "ppm-america-jnl-value-fund"
T2 = "t-rowe-price-jnl-value-fund"
PLAN_DATE = date(2002, 5, 16)
ROLES = {
    "trust": {"trust"}, "jnam": {"adviser"}, "distributor": {"distributor", "broker_dealer"},
    "ppm-america": {"sub_adviser"}, "bd-1": {"broker_dealer"}, "clear-1": {"clearing_broker"},
    "parent": set(), "grandparent": set(), "acme": {"other"}, "law-firm": {"other"},
}
TRUSTEES = ("t-1", "t-2", "t-3")


def d(text: str) -> date:
    return date.fromisoformat(text)


def rel(ident: str, subject: str, relation: str, obj: str, start: str = "2000-01-01",
        end: str | None = None, percent: str | None = None) -> Relationship:
    return Relationship(ident, subject, relation, obj, d(start), d(end) if end else None,
                        Decimal(percent) if percent is not None else None)


def matter(ident: str, day: str, action: str, series: Iterable[str] = (S,), **kw: object) -> Matter:
    return Matter(ident, f"M-{ident}", d(day), action, tuple(series), **kw)  # type: ignore[arg-type]


def ballots(matter_id: str, trustees: Iterable[str] = TRUSTEES, vote: str = "for",
            in_person: bool = True) -> list[Ballot]:
    return [Ballot(matter_id, t, vote, in_person) for t in trustees]


def vote(matter_id: str, series: str = S, outstanding: str = "1000", present: str = "800",
         shares_for: str = "700") -> ShareholderVote:
    return ShareholderVote(matter_id, series, Decimal(outstanding), Decimal(present), Decimal(shares_for))


def adoption(ident: str, day: str, series: str = S, shareholders: bool = True, **kw: object) -> dict[str, list]:
    """An adopt matter with every trustee voting for in person, and (by default) approving shareholders."""
    return {"matters": [matter(ident, day, "adopt", (series,), **kw)], "ballots": ballots(ident),
            "votes": [vote(ident, series)] if shareholders else []}


def continuance(ident: str, day: str, series: str = S) -> dict[str, list]:
    return {"matters": [matter(ident, day, "continue", (series,))], "ballots": ballots(ident), "votes": []}


def make_facts(*parts: dict[str, list], as_of: str = "2005-12-31", trustees: Iterable[Trustee] | None = None,
               relationships: Iterable[Relationship] = (), agreements: Iterable[Agreement] = (),
               events: Iterable[AgreementEvent] = (), reports: Iterable[Report] = (),
               series: Iterable[SeriesFacts] = (), roles: dict[str, set[str]] | None = None) -> Facts:
    """Facts as of *as_of*; *parts* are dicts of matters, ballots and votes (see :func:`adoption`)."""
    facts = Facts(as_of=d(as_of), plan_date=PLAN_DATE, schedule_a=(S, T2))
    facts.roles = {org: frozenset(r) for org, r in (roles or ROLES).items()}
    people = list(trustees) if trustees is not None else [Trustee(t, d("2000-01-01")) for t in TRUSTEES]
    facts.trustees = {t.id: t for t in people}
    facts.relationships = sorted(relationships, key=lambda r: (r.start, r.id))
    facts.agreements = {a.id: a for a in agreements}
    facts.events = list(events)
    facts.reports = list(reports)
    facts.series = {s.id: s for s in series}
    for part in parts:
        for m in part.get("matters", []):
            facts.matters[m.id] = m
        facts.ballots += part.get("ballots", [])
        facts.votes += part.get("votes", [])
    return facts
