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


def build_scenario(schedule: list[ScheduleSeries], plan_date: dt.date) -> Scenario:
    ids = [s.id for s in schedule]
    for needed in (LAPSED, LATE_NOTICE, AT_67, BY_OUTSTANDING, *JOINT):
        if needed not in ids:
            raise ValueError(f"Schedule A has no series {needed!r}")
    f = Facts()
    subs: dict[str, str] = {}
    for s in schedule:
        subs.setdefault(s.sub_adviser, s.sub_adviser_name)

    for oid, name, roles in ORGS:
        f.add("organizations", id=oid, name=name, roles=roles, lei="", crd="")
    for s in schedule:
        f.add("series", id=s.id, name=s.name, sub_adviser=s.sub_adviser, established="",
              added_to_plan="", removed_from_plan="")
    for tid, name, start, end in TRUSTEES:
        f.add("trustees", id=tid, name=name, from_=iso(start), to=iso(end) if end else "")

    # --- agreements ---------------------------------------------------------
    lakeshore_series = frozenset(s.id for s in schedule if s.sub_adviser in {"janus", "putnam", "oppenheimer"})
    equity = frozenset(s.id for s in schedule if _equity(s))
    end_of_plan = D(2004, 12, 1)
    assigned = D(2003, 9, 30)
    cobalt_from = D(2003, 11, 17)
    granite_from = D(2002, 8, 1)

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
    agreement("bc-meridian", "brokerage_credit", "trust;distributor;meridian-capital-markets", equity, plan_date)
    agreement("db-lakeshore", "directed_brokerage", "trust;distributor;lakeshore-securities",
              lakeshore_series, D(2002, 6, 3))
    agreement("db-granite", "directed_brokerage", "trust;distributor;granite-street-brokerage", None,
              granite_from, toa=F)
    agreement("db-cobalt", "directed_brokerage", "trust;distributor;cobalt-financial", lakeshore_series, cobalt_from)
    f.breaches.append(Breach("BEP-7.3", "agreements", "db-granite",
                             "a related directed-brokerage agreement that does not provide for automatic "
                             "termination on assignment (terminates_on_assignment = false)"))

    for i, (subj, rel, obj, pct, start, end) in enumerate(RELATIONSHIPS, 1):
        f.add("relationships", id=f"REL-{i:02d}", subject=subj, relation=rel, object=obj, percent=pct,
              from_=iso(start), to=iso(end) if end else "")
    f.breaches.append(Breach("BEP-4.4", "trustees", "t-okafor",
                             "(a warning-severity rule) held a financial interest in related agreement bc-meridian (2003-03-01 to "
                             "2003-07-01) and voted for the continuance matters of board meeting BM-2003-05-15"))

    events = [
        ("db-harbor-point", D(2003, 6, 2), "amended", "", "commission-share schedule updated"),
        ("db-lakeshore", assigned, "assigned", "cobalt-financial",
         "Lakeshore Securities acquired by Cobalt Financial; commitments transferred"),
        *[(a, end_of_plan, "terminated", "", "terminated with the plan (Rule 12b-1(h))")
          for a in ("db-harbor-point", "bc-meridian", "db-granite", "db-cobalt")],
    ]
    for i, (a, day, ev, cp, note) in enumerate(events, 1):
        f.add("agreement_events", id=f"AE-{i:02d}", agreement=a, date=iso(day), event=ev, counterparty=cp, note=note)

    # --- meetings, matters, ballots, shareholder votes ------------------------
    def in_office(day: dt.date) -> list[str]:
        return [t for t, _, a, b in TRUSTEES if a <= day and (b is None or b > day)]

    def board(day: dt.date) -> str:
        mid = f"BM-{iso(day)}"
        f.add("meetings", id=mid, date=iso(day), body="board", series="", in_person=T, called_for_plan=T)
        return mid

    def matter(mid: str, action: str, series: str, subject: str, key: str, *, absent: tuple[str, ...] = (),
               abstain: tuple[str, ...] = (), ballots: bool = True, **extra: str) -> str:
        xid = f"{mid}-{action}-{key}"
        cells = dict(material="", increases_spending="", increase_from_credits="", notice_date="", effective="")
        cells.update(extra)
        f.add("matters", id=xid, meeting=mid, action=action, series=series, subject=subject, **cells)
        if ballots:
            day = D.fromisoformat(mid[3:])
            for t in in_office(day):
                vote = "absent" if t in absent else "abstain" if t in abstain else "for"
                f.add("ballots", matter=xid, trustee=t, vote=vote, in_person=F if vote == "absent" else T)
        return xid

    adopt_board = board(D(2002, 2, 14))
    for sid in ids:
        matter(adopt_board, "adopt", sid, "plan", sid)
    for a in ("distribution-agreement", "db-harbor-point", "bc-meridian", "db-lakeshore", "db-granite"):
        matter(adopt_board, "approve_agreement", "", a, a)

    rng = random.Random(20020516)  # fixed: share counts do not depend on the seed
    for sid in ids:
        mid = f"SM-{iso(plan_date)}-{sid}"
        f.add("meetings", id=mid, date=iso(plan_date), body="shareholders", series=sid, in_person=T, called_for_plan=T)
        xid = matter(mid, "adopt", sid, "plan", "plan", ballots=False)
        out, present, yes = _shares(rng, sid)
        against = (present - yes) * 3 // 4
        assert _approved(out, present, yes), sid
        f.add("shareholder_votes", matter=xid, series=sid, shares_outstanding=_thousandths(out),
              shares_present=_thousandths(present), shares_for=_thousandths(yes),
              shares_against=_thousandths(against))

    cont_2003 = board(D(2003, 5, 15))
    for sid in ids:
        matter(cont_2003, "continue", sid, "plan", sid)
    nov_2003 = board(D(2003, 11, 13))
    matter(nov_2003, "approve_agreement", "", "db-cobalt", "db-cobalt")
    matter(nov_2003, "nominate_trustee", "", "t-ridley", "t-ridley", abstain=tuple(sorted(INTERESTED)))

    cont_2004 = board(D(2004, 5, 13))
    for sid in ids:
        if sid != LAPSED:
            matter(cont_2004, "continue", sid, "plan", sid, absent=("t-brandt",))
    lapse = D(2004, 5, 15)
    f.breaches.append(Breach("BEP-5.1", "series", LAPSED,
                             "its continuance was left off the agenda of BM-2004-05-13, so the plan lapsed on "
                             "2004-05-15, one year after the continuance of BM-2003-05-15"))

    amend = board(D(2004, 8, 12))
    for sid in ids:
        if sid not in JOINT and sid != LAPSED:
            matter(amend, "amend", sid, "plan", sid, material=F, increases_spending=F, increase_from_credits=F)
    joint = matter(amend, "amend", ";".join(JOINT), "plan", "-and-".join(JOINT),
                   material=F, increases_spending=F, increase_from_credits=F)
    f.breaches.append(Breach("BEP-11.1", "matters", joint,
                             "one non-material amendment matter taken jointly for two series (plan ¶11 wants "
                             "one matter per series)"))

    term_day = D(2004, 11, 4)
    term = board(term_day)
    for sid in ids:
        eff = D(2004, 12, 10) if sid == LATE_NOTICE else end_of_plan
        xid = matter(term, "terminate", sid, "plan", sid, notice_date=iso(term_day), effective=iso(eff))
        if sid == LATE_NOTICE:
            f.breaches.append(Breach("BEP-7.2", "matters", xid,
                                     "termination effective 2004-12-10 on notice given 2004-11-04: 36 days, "
                                     "more than the plan's 30 days"))

    # --- reports and records ------------------------------------------------
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

    f.add("records", id="REC-plan", document="plan", retained_until="2012-12-31",
          accessible_until="2008-12-31", location="Trust records, Lansing, Michigan")
    for a in ("distribution-agreement", "db-harbor-point", "bc-meridian", "db-lakeshore", "db-granite", "db-cobalt"):
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

    timeline = Timeline(plan_date=plan_date, first_trade=plan_date, last_trade=D(2005, 6, 30),
                        directed_from=plan_date + dt.timedelta(days=1), directed_until=D(2004, 11, 30),
                        lapsed_series=LAPSED, lapse_date=lapse)
    arrangements = [
        DirectedArrangement("db-harbor-point", "directed_brokerage", "harbor-point-securities", None,
                            plan_date, end_of_plan, "", "westbridge-securities", 50),
        DirectedArrangement("bc-meridian", "brokerage_credit", "meridian-capital-markets", equity,
                            plan_date, end_of_plan, "", "", 35),
        DirectedArrangement("db-lakeshore", "directed_brokerage", "lakeshore-securities", lakeshore_series,
                            D(2002, 6, 3), assigned, "keystone-clearing", "", 45),
        DirectedArrangement("db-granite", "directed_brokerage", "granite-street-brokerage", None,
                            granite_from, end_of_plan, "", "", 40),
        DirectedArrangement("db-cobalt", "directed_brokerage", "cobalt-financial", lakeshore_series,
                            cobalt_from, end_of_plan, "keystone-clearing", "", 45),
    ]
    ordinary = ("atlas-institutional", "beacon-street-capital", "crescent-equity-trading",
                "harbor-point-securities", "meridian-capital-markets", "granite-street-brokerage")
    return Scenario(f, timeline, arrangements, ordinary, {s.id: s.sub_adviser for s in schedule})


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
