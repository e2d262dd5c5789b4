"""The compliance calendar of the board pack: continuances due, quarterly reports received and missing.

Read from the status derived as of the date (graph/derived): the deadlines
are the derivation's, computed with calendar arithmetic in Python, never
recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..sparql import find_query
from ..store import Store
from ..validation.overlay import with_derived
from .views import to_networkx

__all__ = ["Calendar", "Continuance", "ReportDue", "compliance_calendar"]


@dataclass(frozen=True)
class Continuance:
    series: str
    label: str
    in_effect_from: date
    until: date | None
    end_reason: str | None
    due: date | None

    @property
    def status(self) -> str:
        if self.until is not None:
            return f"{self.end_reason or 'ended'} {self.until}"
        return f"due by {self.due}" if self.due else "in effect"


@dataclass(frozen=True)
class ReportDue:
    period_start: date
    period_end: date
    deadline: date
    report: str | None
    delivered: date | None

    @property
    def quarter(self) -> str:
        return f"{self.period_start.year}Q{(self.period_start.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Calendar:
    as_of: date
    continuances: tuple[Continuance, ...]
    reports: tuple[ReportDue, ...]
    plan_date: date | None = None  # the day the plan was adopted (the filing's)

    @property
    def in_effect(self) -> tuple[Continuance, ...]:
        """The series for which the plan is in effect on the as-of date."""
        return tuple(c for c in self.continuances
                     if c.in_effect_from <= self.as_of and (c.until is None or c.until > self.as_of))

    @property
    def adopted(self) -> bool:
        return self.plan_date is not None and self.plan_date <= self.as_of

    @property
    def missing(self) -> tuple[ReportDue, ...]:
        return tuple(r for r in self.reports if r.report is None)


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def compliance_calendar(store: Store, as_of: date) -> Calendar:
    """Continuances and report duties as derived for *as_of*."""
    text = find_query("viz/calendar-construct").text
    graph = with_derived(store, as_of, lambda s: to_networkx(s.query(text)),  # type: ignore[arg-type]
                         f"the compliance calendar as of {as_of}")
    continuances, reports = [], []
    plan_date = None
    for _, a in graph.nodes(data=True):
        if a.get("kind") == "plan" or "planDate" in a:
            plan_date = _day(a.get("planDate"))
        if a.get("kind") == "in-effect":
            continuances.append(Continuance(str(a.get("series")), str(a.get("label", a.get("series"))),
                                            _day(a["from"]), _day(a.get("until")),  # type: ignore[arg-type]
                                            a.get("endReason"), _day(a.get("continuanceDue"))))
        elif a.get("kind") == "report-duty":
            reports.append(ReportDue(_day(a["periodStart"]), _day(a["periodEnd"]), _day(a["deadline"]),  # type: ignore[arg-type]
                                     a.get("report"), _day(a.get("delivered"))))
    continuances.sort(key=lambda c: (c.label, c.in_effect_from))
    reports.sort(key=lambda r: r.period_start)
    return Calendar(as_of, tuple(continuances), tuple(reports), plan_date)
