"""The trade blotter, the brokerage benefits it generated and what they were spent on.

The bulk is random but clean by construction: a directed trade only goes to
a broker whose directed-brokerage or credit agreement is in force and covers
the series, only while the plan is in effect for the series, and every
benefit is spent at most once up to its amount. A fixed set of trades,
benefits and expenditures (the same for every size and seed) carries the
blotter's deliberate breaches and the affiliated-brokerage warnings.

Speed matters (the benchmarks generate bundles of a million trades and
more; README, Measurements): rows are written as they are drawn, choices
are precomputed tables indexed by ``getrandbits``, and money is whole
cents.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..sources.tables import TABLES
from .model import Breach, ExpectedWarning, cents
from .scenario import DirectedArrangement, Scenario

T = TypeVar("T")

__all__ = ["BlotterResult", "FIXED_TRADES", "write_blotter"]

TX_COLUMNS = ("id", "date", "series", "placed_by", "executing_broker", "clearing_broker",
              "introducing_broker", "agreement", "directed", "commission", "best_execution")
BENEFIT_COLUMNS = ("id", "date", "kind", "transaction", "broker", "recipient", "amount",
                   "generating_series", "benefiting_series")
EXPENDITURE_COLUMNS = ("id", "date", "funded_by", "category", "amount", "payee", "description")
for _name, _cols in (("transactions", TX_COLUMNS), ("benefits", BENEFIT_COLUMNS),
                     ("expenditures", EXPENDITURE_COLUMNS)):
    assert tuple(c.name for c in TABLES[_name].columns) == _cols, f"{_name}: the contract changed"

D = dt.date
DIRECTED_SHARE = 0.38
JNAM_SHARE = 0.10
UNNAMED_AGREEMENT_SHARE = 0.03  # directed trades whose blotter line omits the agreement (BEP-1.3 still met)

SPENDING = [  # category, payees, description, weight
    ("advertising", ("lakeside-graphics", "distributor"),
     "Printing and mailing of variable annuity sales literature describing the series", 5),
    ("seminars", ("distributor",), "Regional sales meeting for registered representatives", 3),
    ("representative_information", ("distributor",),
     "Series fact sheets and performance updates for registered representatives", 3),
    ("due_diligence", ("pinecrest-financial", "riverbend-investment"),
     "Support of a selling broker-dealer's due-diligence review of the Trust", 1),
    ("marketing_fees", ("pinecrest-financial", "riverbend-investment", "national-planning-corp"),
     "Marketing allowance requested by a broker-dealer selling the Variable Contracts", 4),
    ("owner_information", ("distributor",), "Contract-owner mailing on series investment options", 2),
    ("training", ("distributor",), "Sales-desk training on the variable annuity line-up", 2),
    ("account_service", ("distributor",), "Servicing of Variable Contract owner accounts", 1),
    ("other_distribution", ("distributor",), "Other activity intended to result in sales of the Variable Contracts", 1),
]


@dataclass(frozen=True)
class FixedBenefit:
    tag: str
    kind: str
    recipient: str
    amount: int  # cents
    benefiting: tuple[str, ...]


@dataclass(frozen=True)
class FixedTrade:
    tag: str
    day: dt.date
    series: str
    placed_by: str
    broker: str
    clearing: str
    agreement: str
    directed: bool
    commission: int  # cents
    best_execution: bool = True
    benefit: FixedBenefit | None = None


@dataclass(frozen=True)
class FixedSpend:
    tag: str
    day: dt.date
    funded_by: tuple[str, ...]  # benefit tags
    category: str
    amount: int
    payee: str
    description: str


LAPSED = "lazard-jnl-mid-cap-value-fund"
FIXED_TRADES = [
    FixedTrade("best-ex", D(2003, 2, 11), "janus-jnl-capital-growth-fund", "janus", "harbor-point-securities",
               "", "db-harbor-point", True, 187540, best_execution=False),
    FixedTrade("not-dist", D(2003, 4, 8), "alger-jnl-growth-fund", "alger", "harbor-point-securities", "",
               "db-harbor-point", True, 312000,
               benefit=FixedBenefit("not-dist", "payment", "distributor", 156000, ("alger-jnl-growth-fund",))),
    FixedTrade("overspent", D(2003, 7, 9), "eagle-jnl-core-equity-fund", "eagle", "harbor-point-securities", "",
               "db-harbor-point", True, 240000,
               benefit=FixedBenefit("overspent", "payment", "distributor", 120000, ("eagle-jnl-core-equity-fund",))),
    FixedTrade("omits-gen", D(2003, 10, 14), "t-rowe-price-jnl-established-growth-fund", "t-rowe-price",
               "meridian-capital-markets", "", "bc-meridian", True, 164000,
               benefit=FixedBenefit("omits-gen", "credit", "distributor", 57400,
                                    ("t-rowe-price-jnl-mid-cap-growth-fund", "aim-jnl-large-cap-growth-fund"))),
    FixedTrade("after-assign", D(2003, 12, 3), "putnam-jnl-growth-fund", "putnam", "cobalt-financial",
               "keystone-clearing", "db-lakeshore", True, 221015),
    FixedTrade("lapsed-1", D(2004, 5, 24), LAPSED, "lazard", "harbor-point-securities", "", "db-harbor-point",
               True, 198000, benefit=FixedBenefit("lapsed-1", "payment", "distributor", 99000, (LAPSED,))),
    FixedTrade("lapsed-2", D(2004, 6, 8), LAPSED, "lazard", "harbor-point-securities", "", "db-harbor-point",
               True, 265000, benefit=FixedBenefit("lapsed-2", "payment", "distributor", 132500, (LAPSED,))),
    *[FixedTrade(f"affiliated-{i}", day, series, "ppm-america", "national-planning-corp", "", "", False, com)
      for i, (day, series, com) in enumerate([
          (D(2002, 9, 17), "ppm-america-jnl-value-fund", 84250),
          (D(2003, 3, 11), "ppm-america-jnl-balanced-fund", 61200),
          (D(2003, 8, 19), "ppm-america-jnl-high-yield-bond-fund", 45075),
          (D(2004, 2, 24), "ppm-america-jnl-value-fund", 97310),
          (D(2004, 9, 14), "ppm-america-jnl-balanced-fund", 52890),
          (D(2005, 3, 22), "ppm-america-jnl-value-fund", 70120)], 1)],
]
FIXED_SPENDS = [
    FixedSpend("not-dist", D(2003, 4, 30), ("not-dist",), "not_distribution", 140000, "distributor",
               "Allocation of the Distributor's general corporate overhead"),
    FixedSpend("overspent-1", D(2003, 7, 25), ("overspent",), "advertising", 80000, "lakeside-graphics",
               "Printing of a sales brochure for the Eagle series"),
    FixedSpend("overspent-2", D(2003, 8, 14), ("overspent",), "seminars", 65000, "distributor",
               "Sales seminar for registered representatives"),
    FixedSpend("lapsed", D(2004, 6, 22), ("lapsed-1", "lapsed-2"), "marketing_fees", 90000, "pinecrest-financial",
               "Marketing allowance requested by a broker-dealer selling the Variable Contracts"),
]


@dataclass
class BlotterResult:
    counts: dict[str, int]
    breaches: list[Breach] = field(default_factory=list)
    warnings: list[ExpectedWarning] = field(default_factory=list)


def _business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _pick_table(rng: random.Random, items: list[T], weights: list[int], bits: int) -> list[T]:
    """A table of 2**bits entries in which each item appears about in proportion to its weight."""
    size, total = 1 << bits, sum(weights)
    table: list[T] = []
    for item, w in zip(items, weights):
        table.extend([item] * (w * size // total))
    while len(table) < size:
        table.append(items[rng.randrange(len(items))])
    return table


@dataclass(frozen=True)
class _Calendar:
    """Per business day, worked out once so the trade loop only indexes lists."""

    days: list[dt.date]
    iso_of: list[str]
    ordinal: list[int]
    directed_ok: list[bool]  # directed activity allowed that day
    lapsed_ok: list[bool]  # the lapsed series' plan still in effect that day
    options: list[list[tuple[DirectedArrangement, ...]]]  # per day, per series: the arrangements that cover it


@dataclass(frozen=True)
class _Tables:
    """The random choices as tables indexed by ``getrandbits``, and the fixed pools the loop draws from."""

    series_pick: list[int]
    commissions: list[int]  # cents
    ordinary_pick: list[tuple[str, str]]  # (executing broker, clearing broker)
    spend_rows: list[tuple[str, str, str]]  # (category, payee, description), repeated by weight
    others_pool: list[int]  # series a benefit may also inure to (never the lapsed one)
    lapsed_idx: int
    cap_normal: int  # last ordinal a benefit may be spent on
    cap_lapsed: int  # ... for a benefit of the lapsed series


class _Ledger:
    """The rows written so far: the running ids, the expenditures still to write (they are written in date
    order at the end) and the ids the fixed trades and benefits got, which the breaches name."""

    def __init__(self, write_tx: Callable[[tuple[Any, ...]], None],
                 write_benefit: Callable[[tuple[Any, ...]], None]) -> None:
        self.write_tx = write_tx
        self.write_benefit = write_benefit
        self.n_tx = 0
        self.n_b = 0
        # (date ordinal, seq, funded_by, category, amount, payee, description, tag)
        self.spends: list[tuple[Any, ...]] = []
        self.fixed_tx_ids: dict[str, str] = {}
        self.fixed_benefit_ids: dict[str, str] = {}

    def fixed(self, t: FixedTrade) -> None:
        """Write one of the fixed trades (and its benefit), keeping the ids it got."""
        self.n_tx += 1
        tid = f"T-{self.n_tx:07d}"
        self.write_tx((tid, t.day.isoformat(), t.series, t.placed_by, t.broker, t.clearing, "", t.agreement,
                       "true" if t.directed else "false", cents(t.commission),
                       "true" if t.best_execution else "false"))
        self.fixed_tx_ids[t.tag] = tid
        if t.benefit:
            b = t.benefit
            self.n_b += 1
            bid = f"B-{self.n_b:07d}"
            self.write_benefit((bid, t.day.isoformat(), b.kind, tid, t.broker, b.recipient, cents(b.amount),
                                t.series, ";".join(b.benefiting)))
            self.fixed_benefit_ids[b.tag] = bid


def write_blotter(scn: Scenario, series_ids: list[str], n_trades: int, seed: int,
                  write_tx: Callable[[tuple[Any, ...]], None], write_benefit: Callable[[tuple[Any, ...]], None],
                  write_expenditure: Callable[[tuple[Any, ...]], None]) -> BlotterResult:
    """Write the trades, their benefits and the expenditures, and say which rows carry the planted findings.

    The random draws happen in one fixed order (tables, then trade days, then trade by trade), so the same
    seed and size give the same rows."""
    fixed = sorted(FIXED_TRADES, key=lambda t: (t.day, t.tag))
    if n_trades < len(fixed):
        raise ValueError(f"--trades must be at least {len(fixed)} (the example's fixed trades)")
    rng = random.Random(seed)
    cal = _calendar(scn, series_ids)
    tables = _draw_tables(rng, scn, series_ids)
    day_idx = sorted(rng.randrange(len(cal.days)) for _ in range(n_trades - len(fixed)))
    ledger = _Ledger(write_tx, write_benefit)
    _place_trades(rng, scn, series_ids, cal, tables, day_idx, fixed, ledger)
    spend_ids = _write_expenditures(ledger, write_expenditure)

    result = BlotterResult(counts={"transactions": ledger.n_tx, "benefits": ledger.n_b,
                                   "expenditures": len(ledger.spends)})
    _record_findings(result, ledger.fixed_tx_ids, ledger.fixed_benefit_ids, spend_ids)
    return result


def _calendar(scn: Scenario, series_ids: list[str]) -> _Calendar:
    """The business days between the first and last trade, and what each day allows."""
    tl = scn.timeline
    days = _business_days(tl.first_trade, tl.last_trade)
    # directed options per (set of arrangements in force) and series
    memo: dict[tuple[str, ...], list[tuple[DirectedArrangement, ...]]] = {}
    options: list[list[tuple[DirectedArrangement, ...]]] = []
    for d in days:
        live = tuple(a for a in scn.arrangements if a.start <= d < a.end)
        key = tuple(a.agreement for a in live)
        if key not in memo:
            memo[key] = [tuple(a for a in live if a.series is None or s in a.series) for s in series_ids]
        options.append(memo[key])
    return _Calendar(days=days, iso_of=[d.isoformat() for d in days], ordinal=[d.toordinal() for d in days],
                     directed_ok=[tl.directed_from <= d <= tl.directed_until for d in days],
                     lapsed_ok=[d < tl.lapse_date for d in days], options=options)


def _draw_tables(rng: random.Random, scn: Scenario, series_ids: list[str]) -> _Tables:
    """The weighted choice tables, drawn first and in this order (series, commissions, ordinary brokers)."""
    tl = scn.timeline
    lapsed_idx = series_ids.index(tl.lapsed_series)
    series_weights = [rng.randrange(2, 12) for _ in series_ids]
    series_pick = _pick_table(rng, list(range(len(series_ids))), series_weights, 10)
    commissions = [max(2500, min(2_500_000, int(rng.lognormvariate(6.1, 0.85) * 100))) for _ in range(4096)]
    ordinary = [(b, "keystone-clearing" if b == "crescent-equity-trading" else "") for b in scn.ordinary_brokers]
    ordinary_pick = _pick_table(rng, ordinary, [4, 4, 3, 2, 2, 1], 8)
    return _Tables(
        series_pick=series_pick, commissions=commissions, ordinary_pick=ordinary_pick,
        spend_rows=[(cat, payee, desc) for cat, payees, desc, w in SPENDING for payee in payees for _ in range(w)],
        others_pool=[i for i in range(len(series_ids)) if i != lapsed_idx], lapsed_idx=lapsed_idx,
        cap_normal=tl.directed_until.toordinal(), cap_lapsed=tl.lapse_date.toordinal() - 1)


def _place_trades(rng: random.Random, scn: Scenario, series_ids: list[str], cal: _Calendar, tables: _Tables,
                  day_idx: list[int], fixed: list[FixedTrade], ledger: _Ledger) -> None:
    """Every trade in date order: the random ones on their drawn days, each fixed one before the first random
    trade after its day. A directed trade also writes its benefit and plans how it is spent."""
    rnd, bits = rng.random, rng.getrandbits
    sub_of = [scn.sub_adviser_of[s] for s in series_ids]
    write_tx, write_benefit, spends = ledger.write_tx, ledger.write_benefit, ledger.spends
    iso_of, ordinal, directed_ok, lapsed_ok, options = (cal.iso_of, cal.ordinal, cal.directed_ok, cal.lapsed_ok,
                                                        cal.options)
    series_pick, commissions, ordinary_pick = tables.series_pick, tables.commissions, tables.ordinary_pick
    lapsed_idx, others_pool = tables.lapsed_idx, tables.others_pool
    carry: tuple[str, int, int, int] | None = None  # an unspent benefit: id, cents, day, cap
    fi = 0
    for di in day_idx:
        d_ord = ordinal[di]
        while fi < len(fixed) and fixed[fi].day.toordinal() <= d_ord:
            ledger.fixed(fixed[fi])
            fi += 1
        si = series_pick[bits(10)]
        sid = series_ids[si]
        placed = "jnam" if rnd() < JNAM_SHARE else sub_of[si]
        com = commissions[bits(12)]
        ledger.n_tx += 1
        tid = f"T-{ledger.n_tx:07d}"
        if directed_ok[di] and (si != lapsed_idx or lapsed_ok[di]) and rnd() < DIRECTED_SHARE:
            opts = options[di][si]
            a = opts[int(rnd() * len(opts))]
            intro = a.introducing if a.introducing and rnd() < 0.5 else ""
            write_tx((tid, iso_of[di], sid, placed, a.broker, a.clearing, intro,
                      "" if rnd() < UNNAMED_AGREEMENT_SHARE else a.agreement, "true", cents(com), "true"))
            amount = com * a.rate_pct // 100
            if a.kind == "brokerage_credit":
                kind, recipient = "credit", "distributor"
            else:
                kind, recipient = "payment", intro or "distributor"
            r = rnd()
            if r < 0.6:
                benefiting = sid
            else:
                extra = {others_pool[int(rnd() * len(others_pool))] for _ in range(1 + int((r - 0.6) * 7.5))}
                extra.discard(si)
                benefiting = ";".join([sid] + [series_ids[x] for x in sorted(extra)])
            ledger.n_b += 1
            bid = f"B-{ledger.n_b:07d}"
            write_benefit((bid, iso_of[di], kind, tid, a.broker, recipient, cents(amount), sid, benefiting))
            cap = tables.cap_lapsed if si == lapsed_idx else tables.cap_normal
            carry = _spend(rnd, tables.spend_rows, spends, carry, bid, amount, d_ord, cap)
        else:
            broker, clearing = ordinary_pick[bits(8)]
            write_tx((tid, iso_of[di], sid, placed, broker, clearing, "", "", "false", cents(com), "true"))
    while fi < len(fixed):
        ledger.fixed(fixed[fi])
        fi += 1


def _spend(rnd: Callable[[], float], spend_rows: list[tuple[str, str, str]], spends: list[tuple[Any, ...]],
           carry: tuple[str, int, int, int] | None, bid: str, amount: int, d_ord: int,
           cap: int) -> tuple[str, int, int, int] | None:
    """Plan how a new benefit is spent: kept unspent (it becomes the carry), spent alone, or spent together
    with the carried one. Never past *cap* nor the carry's cap, never more than either benefit. Returns the
    carry after it."""
    r = rnd()
    if amount < 2500 or r < 0.45:
        return (bid, amount, d_ord, cap)
    if r < 0.9 or carry is None or carry[3] < d_ord:
        spent = max(100, amount * (350 + int(rnd() * 651)) // 1000)
        day = min(d_ord + 3 + int(rnd() * 43), cap)
        cat, payee, desc = spend_rows[int(rnd() * len(spend_rows))]
        spends.append((max(day, d_ord), len(spends), bid, cat, spent, payee, desc, ""))
        return carry
    cid, camount, cday, ccap = carry
    spent = max(100, min(amount, camount) * (350 + int(rnd() * 651)) // 1000)
    day = min(d_ord + 3 + int(rnd() * 43), cap, ccap)
    cat, payee, desc = spend_rows[int(rnd() * len(spend_rows))]
    spends.append((max(day, d_ord), len(spends), f"{cid};{bid}", cat, spent, payee, desc, ""))
    return None


def _write_expenditures(ledger: _Ledger, write_expenditure: Callable[[tuple[Any, ...]], None]) -> dict[str, str]:
    """Add the fixed expenditures, write them all in date order, and return the ids the fixed ones got."""
    spends = ledger.spends
    for s in FIXED_SPENDS:
        funded = ";".join(ledger.fixed_benefit_ids[t] for t in s.funded_by)
        spends.append((s.day.toordinal(), len(spends), funded, s.category, s.amount, s.payee, s.description, s.tag))
    spends.sort()
    iso_cache: dict[int, str] = {}
    spend_ids: dict[str, str] = {}
    for n, (d_ord, _, funded, cat, amount, payee, desc, tag) in enumerate(spends, 1):
        day_iso = iso_cache.get(d_ord) or iso_cache.setdefault(d_ord, D.fromordinal(d_ord).isoformat())
        eid = f"E-{n:07d}"
        write_expenditure((eid, day_iso, funded, cat, cents(amount), payee, desc))
        if tag:
            spend_ids[tag] = eid
    return spend_ids


def _record_findings(res: BlotterResult, tx: dict[str, str], ben: dict[str, str], spend: dict[str, str]) -> None:
    b = res.breaches
    b.append(Breach("BEP-1.1", "transactions", tx["best-ex"],
                    "a directed trade (2003-02-11, db-harbor-point) whose sub-adviser did not believe it would get "
                    "best execution (best_execution = false)"))
    b.append(Breach("BEP-2.1", "expenditures", spend["not-dist"],
                    "1,400.00 of a brokerage payment spent on the Distributor's corporate overhead "
                    "(category not_distribution)"))
    b.append(Breach("BEP-2.2", "benefits", ben["overspent"],
                    f"a 1,200.00 payment funds {spend['overspent-1']} (800.00) and {spend['overspent-2']} "
                    "(650.00): 1,450.00 spent"))
    b.append(Breach("BEP-3.1", "benefits", ben["omits-gen"],
                    "a credit generated by t-rowe-price-jnl-established-growth-fund that inures only to two "
                    "other series"))
    b.append(Breach("BEP-7.4", "transactions", tx["after-assign"],
                    "placed on 2003-12-03 under db-lakeshore, which terminated when it was assigned to "
                    "cobalt-financial on 2003-09-30 (db-cobalt, in force, covers the trade, so BEP-1.3 holds)"))
    for tag in ("lapsed-1", "lapsed-2"):
        b.append(Breach("BEP-4.1", "transactions", tx[tag],
                        f"a directed trade of {LAPSED} after its plan lapsed on 2004-05-15"))
        b.append(Breach("BEP-4.1", "benefits", ben[tag],
                        f"a brokerage payment generated by {LAPSED} after its plan lapsed on 2004-05-15"))
    b.append(Breach("BEP-4.1", "expenditures", spend["lapsed"],
                    f"spends payments generated by {LAPSED} after its plan lapsed on 2004-05-15"))
    for i in range(1, 7):
        res.warnings.append(ExpectedWarning("BEP-3.2", "transactions", tx[f"affiliated-{i}"],
                                     "executed by national-planning-corp, which jackson-national-life controls, "
                                     "as it controls the Distributor, jnam and ppm-america (affiliated brokerage "
                                     "to review under Rule 17e-1; not directed)"))
