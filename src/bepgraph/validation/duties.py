"""Duties that follow from the plan being in effect: quarterly reports, retention, an independent board.

Each duty carries its deadline as a date computed here, so the shapes only
compare literals (rules.md, Notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .calendar import add_days, day_before, quarter_bounds, quarters_between, report_deadline, retention_until
from .effect import AgreementInForce, PlanInEffect
from .facts import PLAN, Facts, Report
from .persons import Persons

__all__ = [
    "IndependenceShortfall",
    "ReportDuty",
    "RetentionDuty",
    "in_effect_on",
    "independence_shortfalls",
    "report_duties",
    "retention_duties",
]


@dataclass(frozen=True)
class ReportDuty:
    """A quarter in which the plan was in effect for some series, judged because its deadline has passed."""

    start: date
    end: date  # last day of the quarter, as reports state their periods
    deadline: date
    fulfilled_by: tuple[str, ...]  # reports of the Distributor delivered by the deadline that cover it
    intervals: tuple[PlanInEffect, ...]


@dataclass(frozen=True)
class RetentionDuty:
    table: str  # "plan", "agreements" or "reports"
    document: str
    retained_until: date
    accessible_until: date
    rests_on: tuple[str, ...]


@dataclass(frozen=True)
class IndependenceShortfall:
    start: date
    end: date | None
    intervals: tuple[PlanInEffect, ...]


def _last_day(interval: PlanInEffect, as_of: date) -> date:
    return day_before(interval.end) if interval.end else as_of


def in_effect_on(intervals: list[PlanInEffect], day: date) -> list[PlanInEffect]:
    return [i for i in intervals if i.start <= day and (i.end is None or day < i.end)]


def _covered(reports: list[Report], first: date, last: date) -> bool:
    reach = first
    for report in sorted(reports, key=lambda r: r.period_start):
        if report.period_start > reach:
            break
        reach = max(reach, add_days(report.period_end, 1))
    return reach > last


def report_duties(facts: Facts, intervals: list[PlanInEffect]) -> list[ReportDuty]:
    """Plan ¶6, Rule 12b-1(b)(3)(ii): a Distributor's report covering each quarter in effect, within 90 days.

    Several reports may cover a quarter between them (monthly reports, say).
    A quarter is judged only once the as-of date is after its deadline.
    """
    distributors = facts.with_role("distributor")
    quarters: set[tuple[int, int]] = set()
    for interval in intervals:
        quarters.update(quarters_between(interval.start, _last_day(interval, facts.as_of)))
    duties: list[ReportDuty] = []
    for year, quarter in sorted(quarters):
        first, last = quarter_bounds(year, quarter)
        deadline = report_deadline(last)
        if facts.as_of <= deadline:
            continue
        timely = [r for r in facts.reports if r.by in distributors and r.delivered <= deadline
                  and r.period_start <= last and r.period_end >= first]
        overlapping = tuple(i for i in intervals if i.start <= last and (i.end is None or i.end > first))
        fulfilled = tuple(sorted(r.id for r in timely)) if _covered(timely, first, last) else ()
        duties.append(ReportDuty(first, last, deadline, fulfilled, overlapping))
    return duties


def plan_end(intervals: list[PlanInEffect]) -> date | None:
    """The first day, after it first took effect, on which the plan is in effect for no series; None while it is."""
    spans = sorted(((i.start, i.end) for i in intervals), key=lambda s: (s[0], s[1] or date.max))
    if not spans:
        return None
    covered_until = spans[0][0]
    for start, end in spans:
        if start > covered_until:
            return covered_until  # a day in effect for no series, before this series' interval
        if end is None:
            return None
        covered_until = max(covered_until, end)
    return covered_until


def retention_duties(
    facts: Facts, intervals: list[PlanInEffect], agreements: list[AgreementInForce]
) -> list[RetentionDuty]:
    """Plan ¶10, Rule 12b-1(f): six years (two easily accessible) after the document's date, or its end.

    The plan as a whole ends on the first day it is in effect for no series,
    for whatever reason (rules.md, fine points); the later date (the end) is
    the one the six years run from.
    """
    duties: list[RetentionDuty] = []
    plan_base, plan_rests = facts.plan_date, ()
    ended = plan_end(intervals)
    if ended is not None:
        plan_base = max(facts.plan_date, ended)
    retained, accessible = retention_until(plan_base)
    duties.append(RetentionDuty(PLAN, PLAN, retained, accessible, plan_rests))
    for force in agreements:
        agreement = facts.agreements[force.agreement]
        if not agreement.related_to_plan:
            continue
        base = max(force.start, force.end) if force.end else force.start
        retained, accessible = retention_until(base)
        duties.append(RetentionDuty("agreements", agreement.id, retained, accessible, force.rests_on))
    for report in facts.reports:
        retained, accessible = retention_until(report.delivered)
        duties.append(RetentionDuty("reports", report.id, retained, accessible, ()))
    return duties


def independence_shortfalls(persons: Persons, intervals: list[PlanInEffect]) -> list[IndependenceShortfall]:
    """Rule 12b-1(c): periods in effect during which non-interested trustees were not a majority."""
    as_of = persons.facts.as_of
    days = set(persons.change_days())
    for interval in intervals:
        days.add(interval.start)
        if interval.end:
            days.add(interval.end)
    found: list[IndependenceShortfall] = []
    opened: date | None = None
    touched: list[PlanInEffect] = []
    for day in sorted(d for d in days if d <= as_of):
        live = in_effect_on(intervals, day)
        short = bool(live) and not persons.independent_majority(day)
        if short and opened is None:
            opened, touched = day, list(live)
        elif short:
            touched += [i for i in live if i not in touched]
        elif opened is not None:
            found.append(IndependenceShortfall(opened, day, tuple(touched)))
            opened, touched = None, []
    if opened is not None:
        found.append(IndependenceShortfall(opened, None, tuple(touched)))
    return found
