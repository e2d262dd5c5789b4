"""The governance side of the example: parties, trustees, agreements, votes, reports, records.

Everything here is fixed (it does not depend on the seed or the blotter
size), so every bundle the generator writes carries the same governance
facts and the same governance breaches. Names of people and brokers are
fictional; the Trust, its adviser, Distributor, sub-advisers and series
come from the filing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from .model import Breach, Facts, Timeline, iso
from .schedule import ScheduleSeries

__all__ = ["DirectedArrangement", "Scenario", "build_scenario"]

D = dt.date
T, F = "true", "false"

# --- who's who ----------------------------------------------------------
LAPSED = "lazard-jnl-mid-cap-value-fund"        # BEP-5.1 / BEP-4.1
LATE_NOTICE = "t-rowe-price-jnl-value-fund"      # BEP-7.2
JOINT = ("janus-jnl-balanced-fund", "janus-jnl-growth-income-fund")  # BEP-11.1
AT_67 = "pimco-jnl-total-return-bond-fund"       # shareholder approval exactly at 67% of present
BY_OUTSTANDING = "mellon-capital-management-jnl-bond-index-fund"  # approved only by > 50% of outstanding

ORGS = [  # id, legal name, roles
    ("trust", "JNL Series Trust", "trust"),
    ("jnam", "Jackson National Asset Management, LLC", "adviser"),
    ("distributor", "Jackson National Life Distributors, Inc.", "distributor;broker_dealer"),
    ("ppm-america", "PPM America, Inc.", "sub_adviser"),
    ("prudential-plc", "Prudential plc", "other"),
    ("jackson-national-life", "Jackson National Life Insurance Company", "other"),
    ("national-planning-corp", "National Planning Corporation", "broker_dealer"),
    ("harbor-point-securities", "Harbor Point Securities, LLC", "broker_dealer"),
    ("meridian-capital-markets", "Meridian Capital Markets, Inc.", "broker_dealer"),
    ("lakeshore-securities", "Lakeshore Securities Corp.", "broker_dealer"),
    ("cobalt-financial", "Cobalt Financial Services, Inc.", "broker_dealer"),
    ("granite-street-brokerage", "Granite Street Brokerage, LLC", "broker_dealer"),
    ("keystone-clearing", "Keystone Clearing Corporation", "broker_dealer;clearing_broker"),
    ("westbridge-securities", "Westbridge Securities, Inc.", "broker_dealer;introducing_broker"),
    ("atlas-institutional", "Atlas Institutional Securities, Inc.", "broker_dealer"),
    ("beacon-street-capital", "Beacon Street Capital Markets, LLC", "broker_dealer"),
    ("crescent-equity-trading", "Crescent Equity Trading, L.P.", "broker_dealer"),
    ("pinecrest-financial", "Pinecrest Financial Network, Inc.", "broker_dealer"),
    ("riverbend-investment", "Riverbend Investment Services, Inc.", "broker_dealer"),
    ("lakeside-graphics", "Lakeside Graphic Communications, Inc.", "other"),
    ("great-lakes-foundation", "Great Lakes Community Foundation", "other"),
]

TRUSTEES = [  # id, name, from, to
    ("t-hollis", "Andrew M. Hollis", D(2000, 1, 1), None),
    ("t-fenwick", "Dorothy R. Fenwick", D(1998, 3, 1), None),
    ("t-abernathy", "Charles P. Abernathy", D(1998, 3, 1), None),
    ("t-delgado", "Maria L. Delgado", D(1998, 3, 1), None),
    ("t-okafor", "Samuel I. Okafor", D(2000, 1, 1), None),
    ("t-brandt", "Helen K. Brandt", D(1998, 3, 1), None),
    ("t-whitcomb", "Robert J. Whitcomb", D(1998, 3, 1), D(2004, 1, 1)),
    ("t-nakamura", "Lisa A. Nakamura", D(2001, 6, 1), None),
    ("t-ridley", "Thomas E. Ridley", D(2004, 1, 1), None),
]
INTERESTED = {"t-hollis", "t-fenwick"}

# (subject, relation, object, percent, from, to)
RELATIONSHIPS = [
    ("prudential-plc", "controls", "jackson-national-life", "", D(1986, 1, 1), None),
    ("jackson-national-life", "controls", "jnam", "", D(2000, 1, 1), None),
    ("jackson-national-life", "controls", "distributor", "", D(1995, 1, 1), None),
    ("jackson-national-life", "controls", "ppm-america", "", D(1990, 1, 1), None),
    ("jackson-national-life", "controls", "national-planning-corp", "", D(2000, 6, 1), None),
    ("t-hollis", "officer_of", "jnam", "", D(2000, 1, 1), None),
    ("t-hollis", "employee_of", "jackson-national-life", "", D(1994, 6, 1), None),
    ("t-fenwick", "owns_voting_securities_of", "prudential-plc", "0.002", D(1997, 1, 1), None),
    ("t-abernathy", "director_of", "great-lakes-foundation", "", D(1996, 9, 1), None),
    ("t-okafor", "financial_interest_in", "bc-meridian", "", D(2003, 3, 1), D(2003, 7, 1)),
]


@dataclass(frozen=True)
class DirectedArrangement:
    """A directed-brokerage or credit agreement as the blotter uses it."""

    agreement: str
    kind: str  # directed_brokerage | brokerage_credit
    broker: str
    series: frozenset[str] | None  # None: every series
    start: dt.date
    end: dt.date  # first day no trade may be placed under it
    clearing: str
    introducing: str
    rate_pct: int  # share of the commission paid or credited


@dataclass
class Scenario:
    facts: Facts
    timeline: Timeline
    arrangements: list[DirectedArrangement]
    ordinary_brokers: tuple[str, ...]
    sub_adviser_of: dict[str, str]


def _equity(s: ScheduleSeries) -> bool:
    return "bond" not in s.id and "balanced" not in s.id


# --- the plan's dates -------------------------------------------------------
END_OF_PLAN = D(2004, 12, 1)
ASSIGNED = D(2003, 9, 30)      # db-lakeshore assigned to Cobalt
COBALT_FROM = D(2003, 11, 17)
GRANITE_FROM = D(2002, 8, 1)
LAKESHORE_SUB_ADVISERS = {"janus", "putnam", "oppenheimer"}
RECORDED_AGREEMENTS = ("distribution-agreement", "db-harbor-point", "bc-meridian", "db-lakeshore", "db-granite",
                       "db-cobalt")
ORDINARY_BROKERS = ("atlas-institutional", "beacon-street-capital", "crescent-equity-trading",
                    "harbor-point-securities", "meridian-capital-markets", "granite-street-brokerage")


@dataclass(frozen=True)
class _Coverage:
    """Which series the narrower agreements cover; the agreements table and the blotter must agree on it."""

    lakeshore: frozenset[str]
    equity: frozenset[str]


def build_scenario(schedule: list[ScheduleSeries], plan_date: dt.date) -> Scenario:
    """The governance facts, table by table in a fixed order, so the rows and the breaches come out the same
    every time."""
    ids = [s.id for s in schedule]
    _check_schedule(ids)
    coverage = _Coverage(
        lakeshore=frozenset(s.id for s in schedule if s.sub_adviser in LAKESHORE_SUB_ADVISERS),
        equity=frozenset(s.id for s in schedule if _equity(s)))
    f = Facts()
    _parties(f, schedule)
    _agreements(f, schedule, coverage, plan_date)
    _relationships(f)
    _agreement_events(f)
    minutes = _Minutes(f)
    lapse = _board_and_shareholder_votes(minutes, ids, plan_date)
    _records(f, _reports(f))
    timeline = Timeline(plan_date=plan_date, first_trade=plan_date, last_trade=D(2005, 6, 30),
                        directed_from=plan_date + dt.timedelta(days=1), directed_until=D(2004, 11, 30),
                        lapsed_series=LAPSED, lapse_date=lapse)
    return Scenario(f, timeline, _arrangements(coverage, plan_date), ORDINARY_BROKERS,
                    {s.id: s.sub_adviser for s in schedule})


def _check_schedule(ids: list[str]) -> None:
    """The planted breaches name particular series; a Schedule A without one of them cannot carry them."""
    for needed in (LAPSED, LATE_NOTICE, AT_67, BY_OUTSTANDING, *JOINT):
        if needed not in ids:
            raise ValueError(f"Schedule A has no series {needed!r}")


def _parties(f: Facts, schedule: list[ScheduleSeries]) -> None:
    """Who's who: the organizations, the series from Schedule A and the trustees with their terms."""
    for oid, name, roles in ORGS:
        f.add("organizations", id=oid, name=name, roles=roles, lei="", crd="")
    for s in schedule:
        f.add("series", id=s.id, name=s.name, sub_adviser=s.sub_adviser, established="",
              added_to_plan="", removed_from_plan="")
    for tid, name, start, end in TRUSTEES:
        f.add("trustees", id=tid, name=name, from_=iso(start), to=iso(end) if end else "")


def _agreements(f: Facts, schedule: list[ScheduleSeries], coverage: _Coverage, plan_date: dt.date) -> None:
    """The advisory, sub-advisory, distribution and brokerage agreements, and the one planted BEP-7.3 breach."""
    ids = [s.id for s in schedule]
    subs: dict[str, str] = {}
    for s in schedule:
        subs.setdefault(s.sub_adviser, s.sub_adviser_name)

    def agreement(aid: str, kind: str, parties: str, series: frozenset[str] | None, effective: dt.date,
                  toa: str = T, related: str = T) -> None:
        listed = ";".join(s for s in ids if series is not None and s in series)
        f.add("agreements", id=aid, kind=kind, parties=parties, series=listed, effective=iso(effective),
              ends="", terminates_on_assignment=toa, related_to_plan=related)

    agreement("advisory-agreement", "advisory", "trust;jnam", None, D(2001, 1, 1), related=F)
    for sub in subs:
        agreement(f"sub-advisory-{sub}", "sub_advisory", f"jnam;{sub}",
                  frozenset(s.id for s in schedule if s.sub_adviser == sub), D(2001, 5, 1), related=F)
    agreement("distribution-agreement", "distribution", "trust;distributor", None, plan_date)
    agreement("db-harbor-point", "directed_brokerage", "trust;distributor;harbor-point-securities", None, plan_date)
    agreement("bc-meridian", "brokerage_credit", "trust;distributor;meridian-capital-markets", coverage.equity,
              plan_date)
    agreement("db-lakeshore", "directed_brokerage", "trust;distributor;lakeshore-securities",
              coverage.lakeshore, D(2002, 6, 3))
    agreement("db-granite", "directed_brokerage", "trust;distributor;granite-street-brokerage", None,
              GRANITE_FROM, toa=F)
    agreement("db-cobalt", "directed_brokerage", "trust;distributor;cobalt-financial", coverage.lakeshore,
              COBALT_FROM)
    f.breaches.append(Breach("BEP-7.3", "agreements", "db-granite",
                             "a related directed-brokerage agreement that does not provide for automatic "
                             "termination on assignment (terminates_on_assignment = false)"))


def _relationships(f: Facts) -> None:
    """Control, employment and interest links between parties, and the planted BEP-4.4 interest."""
    for i, (subj, rel, obj, pct, start, end) in enumerate(RELATIONSHIPS, 1):
        f.add("relationships", id=f"REL-{i:02d}", subject=subj, relation=rel, object=obj, percent=pct,
              from_=iso(start), to=iso(end) if end else "")
    f.breaches.append(Breach("BEP-4.4", "trustees", "t-okafor",
                             "(a warning-severity rule) held a financial interest in related agreement bc-meridian (2003-03-01 to "
                             "2003-07-01) and voted for the continuance matters of board meeting BM-2003-05-15"))


def _agreement_events(f: Facts) -> None:
    """What happened to the agreements: an amendment, the Lakeshore assignment, the terminations with the plan."""
    events = [
        ("db-harbor-point", D(2003, 6, 2), "amended", "", "commission-share schedule updated"),
        ("db-lakeshore", ASSIGNED, "assigned", "cobalt-financial",
         "Lakeshore Securities acquired by Cobalt Financial; commitments transferred"),
        *[(a, END_OF_PLAN, "terminated", "", "terminated with the plan (Rule 12b-1(h))")
          for a in ("db-harbor-point", "bc-meridian", "db-granite", "db-cobalt")],
    ]
    for i, (a, day, ev, cp, note) in enumerate(events, 1):
        f.add("agreement_events", id=f"AE-{i:02d}", agreement=a, date=iso(day), event=ev, counterparty=cp, note=note)


class _Minutes:
    """Writes meetings, their matters and each trustee's ballot, so a meeting's rows always agree with each
    other (the ballots follow who was in office on the day)."""

    def __init__(self, f: Facts) -> None:
        self.f = f

    def board(self, day: dt.date) -> str:
        mid = f"BM-{iso(day)}"
        self.f.add("meetings", id=mid, date=iso(day), body="board", series="", in_person=T, called_for_plan=T)
        return mid

    def matter(self, mid: str, action: str, series: str, subject: str, key: str, *, absent: tuple[str, ...] = (),
               abstain: tuple[str, ...] = (), ballots: bool = True, **extra: str) -> str:
        xid = f"{mid}-{action}-{key}"
        cells = dict(material="", increases_spending="", increase_from_credits="", notice_date="", effective="")
        cells.update(extra)
        self.f.add("matters", id=xid, meeting=mid, action=action, series=series, subject=subject, **cells)
        if ballots:
            day = D.fromisoformat(mid[3:])
            for t in _in_office(day):
                vote = "absent" if t in absent else "abstain" if t in abstain else "for"
                self.f.add("ballots", matter=xid, trustee=t, vote=vote, in_person=F if vote == "absent" else T)
        return xid


def _in_office(day: dt.date) -> list[str]:
    return [t for t, _, a, b in TRUSTEES if a <= day and (b is None or b > day)]


def _board_and_shareholder_votes(minutes: _Minutes, ids: list[str], plan_date: dt.date) -> dt.date:
    """The plan's life in meetings, in date order: adoption, shareholder approval, continuances, amendment,
    termination. Returns the day the lapsed series' plan lapsed (its continuance was left off)."""
    _adoption(minutes, ids)
    _shareholder_approval(minutes, ids, plan_date)
    lapse = _continuances(minutes, ids)
    _amendment(minutes, ids)
    _termination(minutes, ids)
    return lapse


def _adoption(minutes: _Minutes, ids: list[str]) -> None:
    adopt_board = minutes.board(D(2002, 2, 14))
    for sid in ids:
        minutes.matter(adopt_board, "adopt", sid, "plan", sid)
    for a in ("distribution-agreement", "db-harbor-point", "bc-meridian", "db-lakeshore", "db-granite"):
        minutes.matter(adopt_board, "approve_agreement", "", a, a)


def _shareholder_approval(minutes: _Minutes, ids: list[str], plan_date: dt.date) -> None:
    """One shareholder meeting per series; share counts come from their own fixed seed, not the blotter's."""
    f = minutes.f
    rng = random.Random(20020516)  # fixed: share counts do not depend on the seed
    for sid in ids:
        mid = f"SM-{iso(plan_date)}-{sid}"
        f.add("meetings", id=mid, date=iso(plan_date), body="shareholders", series=sid, in_person=T, called_for_plan=T)
        xid = minutes.matter(mid, "adopt", sid, "plan", "plan", ballots=False)
        out, present, yes = _shares(rng, sid)
        against = (present - yes) * 3 // 4
        assert _approved(out, present, yes), sid
        f.add("shareholder_votes", matter=xid, series=sid, shares_outstanding=_thousandths(out),
              shares_present=_thousandths(present), shares_for=_thousandths(yes),
              shares_against=_thousandths(against))


def _continuances(minutes: _Minutes, ids: list[str]) -> dt.date:
    """The 2003 and 2004 continuances (the 2004 one leaves the lapsed series off), the Cobalt approval and a
    nomination between them. Returns the lapse day."""
    cont_2003 = minutes.board(D(2003, 5, 15))
    for sid in ids:
        minutes.matter(cont_2003, "continue", sid, "plan", sid)
    nov_2003 = minutes.board(D(2003, 11, 13))
    minutes.matter(nov_2003, "approve_agreement", "", "db-cobalt", "db-cobalt")
    minutes.matter(nov_2003, "nominate_trustee", "", "t-ridley", "t-ridley", abstain=tuple(sorted(INTERESTED)))

    cont_2004 = minutes.board(D(2004, 5, 13))
    for sid in ids:
        if sid != LAPSED:
            minutes.matter(cont_2004, "continue", sid, "plan", sid, absent=("t-brandt",))
    minutes.f.breaches.append(Breach("BEP-5.1", "series", LAPSED,
                                     "its continuance was left off the agenda of BM-2004-05-13, so the plan lapsed "
                                     "on 2004-05-15, one year after the continuance of BM-2003-05-15"))
    return D(2004, 5, 15)


def _amendment(minutes: _Minutes, ids: list[str]) -> None:
    """A non-material amendment per series, except one matter taken jointly for two (the BEP-11.1 breach)."""
    amend = minutes.board(D(2004, 8, 12))
    for sid in ids:
        if sid not in JOINT and sid != LAPSED:
            minutes.matter(amend, "amend", sid, "plan", sid, material=F, increases_spending=F,
                           increase_from_credits=F)
    joint = minutes.matter(amend, "amend", ";".join(JOINT), "plan", "-and-".join(JOINT),
                           material=F, increases_spending=F, increase_from_credits=F)
    minutes.f.breaches.append(Breach("BEP-11.1", "matters", joint,
                                     "one non-material amendment matter taken jointly for two series (plan ¶11 "
                                     "wants one matter per series)"))


def _termination(minutes: _Minutes, ids: list[str]) -> None:
    """The plan's termination for every series, one on too short a notice (the BEP-7.2 breach)."""
    term_day = D(2004, 11, 4)
    term = minutes.board(term_day)
    for sid in ids:
        eff = D(2004, 12, 10) if sid == LATE_NOTICE else END_OF_PLAN
        xid = minutes.matter(term, "terminate", sid, "plan", sid, notice_date=iso(term_day), effective=iso(eff))
        if sid == LATE_NOTICE:
            minutes.f.breaches.append(Breach("BEP-7.2", "matters", xid,
                                             "termination effective 2004-12-10 on notice given 2004-11-04: 36 "
                                             "days, more than the plan's 30 days"))


def _reports(f: Facts) -> list[tuple[str, dt.date]]:
    """The Distributor's quarterly reports (2003Q3 missing: BEP-6.1) and an interim one without purposes
    (BEP-6.2); returns each report's id and delivery day, which its record's retention counts from."""
    reports: list[tuple[str, dt.date]] = []
    q_start = D(2002, 4, 1)
    while q_start <= D(2004, 10, 1):
        q_end = _quarter_end(q_start)
        label = f"{q_start.year}Q{(q_start.month - 1) // 3 + 1}"
        if label == "2003Q3":
            f.breaches.append(Breach("BEP-6.1", "plan", "plan",
                                     "no Distributor report covers 2003Q3 (2003-07-01 to 2003-09-30); it was "
                                     "due by 2003-12-29"))
        else:
            delivered = q_end + dt.timedelta(days=38 + (q_start.month * 7) % 17)
            rid = f"R-{label}"
            f.add("reports", id=rid, delivered=iso(delivered), period_start=iso(q_start), period_end=iso(q_end),
                  by="distributor", amounts=T, purposes=T)
            reports.append((rid, delivered))
        q_start = _next_quarter(q_start)
    interim = "R-2004-01-interim"
    f.add("reports", id=interim, delivered=iso(D(2004, 2, 20)), period_start=iso(D(2004, 1, 1)),
          period_end=iso(D(2004, 1, 31)), by="distributor", amounts=T, purposes=F)
    reports.append((interim, D(2004, 2, 20)))
    f.breaches.append(Breach("BEP-6.2", "reports", interim,
                             "an interim report for January 2004 that states the amounts but not the purposes "
                             "of the expenditures"))
    return reports


def _records(f: Facts, reports: list[tuple[str, dt.date]]) -> None:
    """Where the plan, the agreements and the reports are kept and for how long; one report's record is kept
    too short a time (the BEP-10.2 breach)."""
    f.add("records", id="REC-plan", document="plan", retained_until="2012-12-31",
          accessible_until="2008-12-31", location="Trust records, Lansing, Michigan")
    for a in RECORDED_AGREEMENTS:
        f.add("records", id=f"REC-{a}", document=a, retained_until="2012-12-31",
              accessible_until="2008-12-31", location="Trust records, Lansing, Michigan")
    short = "R-2002Q4"
    for rid, delivered in sorted(reports, key=lambda r: (r[1], r[0])):
        until = D(delivered.year + 4, 12, 31) if rid == short else D(delivered.year + 6, 12, 31)
        f.add("records", id=f"REC-{rid}", document=rid, retained_until=iso(until),
              accessible_until=iso(D(delivered.year + 2, 12, 31)), location="Distributor archive, Denver, Colorado")
        if rid == short:
            f.breaches.append(Breach("BEP-10.2", "reports", rid,
                                     f"delivered {iso(delivered)} but its record is kept only until {iso(until)}, "
                                     "less than six years"))


def _arrangements(coverage: _Coverage, plan_date: dt.date) -> list[DirectedArrangement]:
    """The directed-brokerage and credit agreements as the blotter places trades under them (dates, brokers,
    rates), matching the agreements table."""
    return [
        DirectedArrangement("db-harbor-point", "directed_brokerage", "harbor-point-securities", None,
                            plan_date, END_OF_PLAN, "", "westbridge-securities", 50),
        DirectedArrangement("bc-meridian", "brokerage_credit", "meridian-capital-markets", coverage.equity,
                            plan_date, END_OF_PLAN, "", "", 35),
        DirectedArrangement("db-lakeshore", "directed_brokerage", "lakeshore-securities", coverage.lakeshore,
                            D(2002, 6, 3), ASSIGNED, "keystone-clearing", "", 45),
        DirectedArrangement("db-granite", "directed_brokerage", "granite-street-brokerage", None,
                            GRANITE_FROM, END_OF_PLAN, "", "", 40),
        DirectedArrangement("db-cobalt", "directed_brokerage", "cobalt-financial", coverage.lakeshore,
                            COBALT_FROM, END_OF_PLAN, "keystone-clearing", "", 45),
    ]


# --- helpers -----------------------------------------------------------------

def _quarter_end(start: dt.date) -> dt.date:
    return _next_quarter(start) - dt.timedelta(days=1)


def _next_quarter(start: dt.date) -> dt.date:
    if start.month == 10:
        return D(start.year + 1, 1, 1)
    return D(start.year, start.month + 3, 1)


def _thousandths(n: int) -> str:
    return f"{n // 1000}.{n % 1000:03d}"


def _approved(out: int, present: int, yes: int) -> bool:
    """ICA §2(a)(42) on exact decimals (integers of thousandths)."""
    o, p, y = (Decimal(n) / 1000 for n in (out, present, yes))
    return (y * 100 >= p * 67 and p * 2 > o) or y * 2 > o


def _shares(rng: random.Random, series: str) -> tuple[int, int, int]:
    """(outstanding, present, for) in thousandths of a share."""
    out = rng.randrange(4_000_000_000, 95_000_000_000)
    present = out * rng.randrange(5800, 8700) // 10000
    yes = present * rng.randrange(7800, 9700) // 10000
    if series == AT_67:  # exactly 67% of those present, who are just over half the shares
        out, present, yes = 18_450_000_000, 10_000_000_000, 6_700_000_000
    elif series == BY_OUTSTANDING:  # 52.6% of present, but one thousandth over half the outstanding
        out, present, yes = 20_000_000_000, 19_000_000_000, 10_000_000_001
    return out, present, yes
