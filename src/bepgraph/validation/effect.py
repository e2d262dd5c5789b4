"""When the plan is in effect for each series, and when each agreement is in force.

The plan takes effect for a series when its adoption holds every approval
it needs (plan ¶4, ¶5), stays in effect while each continuance comes on or
before the anniversary of the last approval (¶5, Rule 12b-1(b)(3)(i)), and
ends when it lapses, is terminated (¶7) or the series leaves Schedule A. A
lapsed plan is not revived by a later continuance: only a new adoption,
voted on or after the lapse, puts it back in effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .approvals import BOARD, RULE12B1, SHAREHOLDER, ActionApproval, Approval, combine, lacking_periods
from .calendar import anniversary, day_before
from .facts import Agreement, Facts, Matter
from .persons import ControlGraph

__all__ = [
    "AgreementInForce",
    "PlanInEffect",
    "adoption_needs",
    "agreement_in_force",
    "added_after_plan",
    "series_effect",
    "termination_approved",
]

LAPSED, TERMINATED, REMOVED = "lapsed", "terminated", "removed"
_END_ORDER = {TERMINATED: 0, REMOVED: 1, LAPSED: 2}  # on the same day, the first of these is the reason


@dataclass(frozen=True)
class PlanInEffect:
    """The plan in effect for *series* from *start* until *end* (first day out of effect; None: still)."""

    series: str
    start: date
    end: date | None
    end_reason: str | None
    continuance_due: date  # anniversary of the last approval in the interval
    rests_on: tuple[str, ...]  # matters that put it and kept it in effect, and the one that ended it


@dataclass(frozen=True)
class AgreementInForce:
    agreement: str
    start: date
    end: date | None
    end_reason: str | None  # "ends", "terminated", "assigned", "change of control"
    rests_on: tuple[str, ...]  # event ids or relationship ids


def added_after_plan(facts: Facts, series: str) -> bool:
    """Added to Schedule A after the plan's date; every other series is a Schedule A series."""
    row = facts.series.get(series)
    return bool(row and row.added_to_plan and row.added_to_plan > facts.plan_date)


def adoption_needs(facts: Facts, series: str) -> tuple[str, ...]:
    """Plan ¶4: Schedule A series also need their shareholders; series added later do not."""
    if added_after_plan(facts, series):
        return (BOARD, RULE12B1)
    return (SHAREHOLDER, BOARD, RULE12B1)


def termination_approved(approvals: list[Approval], series: str) -> bool:
    """BEP-7.1: a majority of the trustees, of the Rule 12b-1 Trustees, or the series' shareholders."""
    return any(a.kind in (BOARD, RULE12B1) or (a.kind == SHAREHOLDER and a.series == series) for a in approvals)


def _for_series(approvals: list[Approval], series: str) -> list[Approval]:
    return [a for a in approvals if a.kind != SHAREHOLDER or a.series == series]


@dataclass(frozen=True)
class _Renewing:
    """The approvals that can renew a series' plan: continuances (board and 12b-1) and new adoptions."""

    continue_approvals: list[Approval]
    adopt_approvals: list[Approval]
    needs: tuple[str, ...]


def _renewed_until_end(series: str, start: date, approved: date, renewing: _Renewing, termination: Matter | None,
                       removed: date | None, rests: list[str], actions: list[ActionApproval]
                       ) -> tuple[tuple[date, str, tuple[str, ...]], date, date | None]:
    """The plan put in effect on *start* (approved on *approved*), renewed while each renewal comes by the
    anniversary of the last approval: the end that comes first (day, reason, matters), the continuance due
    then, and the day of the last adoption that renewed it (None: none did). Each renewal is appended to
    *actions*, its matters to *rests*."""
    last = approved
    adopted: date | None = None
    while True:
        due = anniversary(last)
        renewals = []
        c_day, _, c_used = combine(renewing.continue_approvals, (BOARD, RULE12B1), after=last)
        if c_day is not None:
            renewals.append((c_day, "continue", c_used))
        a_day, _, a_used = combine(renewing.adopt_approvals, renewing.needs, after=last)
        if a_day is not None:
            renewals.append((a_day, "adopt", a_used))
        ends: list[tuple[date, str, tuple[str, ...]]] = []
        if termination is not None:
            ends.append((max(termination.effective or termination.day, start), TERMINATED, (termination.id,)))
        if removed is not None:
            ends.append((max(removed, start), REMOVED, ()))
        renewal = min(renewals, key=lambda r: (r[0], r[1])) if renewals else None
        if renewal is None or renewal[0] > due:
            ends.append((due, LAPSED, ()))
        end = min(ends, key=lambda e: (e[0], _END_ORDER[e[1]])) if ends else None
        if renewal is not None and renewal[0] <= due and (end is None or renewal[0] < end[0]):
            last = renewal[0]
            matters_used = sorted({a.matter for a in renewal[2]})
            rests += matters_used
            kind = renewal[1]
            n = len([a for a in actions if a.action == kind]) + 1
            actions.append(ActionApproval(kind, series, last, last, (), tuple(matters_used),
                                          key=f"{kind}/{series}/{n}"))
            if kind == "adopt":
                adopted = last
            continue
        assert end is not None  # a lapse is always among the ends when there is no renewal
        return end, due, adopted


def series_effect(
    facts: Facts, series: str, given: dict[str, list[Approval]]
) -> tuple[list[PlanInEffect], list[ActionApproval]]:
    """The intervals in which the plan is in effect for *series*, and the actions that shaped them."""
    def matters(action: str) -> list[Matter]:
        return sorted((m for m in facts.matters.values() if m.action == action and m.single_series == series),
                      key=lambda m: (m.day, m.id))

    adopts, continues, terminations = matters("adopt"), matters("continue"), matters("terminate")
    adopt_approvals = _for_series([a for m in adopts for a in given.get(m.id, [])], series)
    continue_approvals = [a for m in continues for a in given.get(m.id, []) if a.kind != SHAREHOLDER]
    needs = adoption_needs(facts, series)
    row = facts.series.get(series)
    removed = row.removed_from_plan if row else None
    added = row.added_to_plan if row and added_after_plan(facts, series) else None
    by_id = facts.matters

    intervals: list[PlanInEffect] = []
    actions: list[ActionApproval] = [
        ActionApproval("terminate", series, m.day if termination_approved(given.get(m.id, []), series) else None,
                       m.effective or m.day, (), (m.id,), key=f"terminate/{m.id}")
        for m in terminations
    ]
    used_terminations: set[str] = set()
    cutoff: date | None = None  # after a lapse or termination only matters on or after it count
    previous: date | None = None  # each new adoption is voted after the one before
    while True:
        considered = [m.id for m in adopts if (cutoff is None or m.day >= cutoff)
                      and (previous is None or m.day > previous)]
        if not considered:
            break
        day, missing, used = combine(adopt_approvals, needs, since=cutoff, after=previous)
        # BEP-4.2's window: from the meeting of this adoption's first adopt matter until the day it
        # holds every approval (rules.md, fine points); activity before it is BEP-4.1's alone
        lacking = lacking_periods(adopt_approvals, needs, by_id[considered[0]].day, since=cutoff, after=previous)
        n = len([a for a in actions if a.action == "adopt"]) + 1
        if day is None:
            actions.append(ActionApproval("adopt", series, None, None, missing, tuple(considered),
                                          key=f"adopt/{series}/{n}", lacking=lacking))
            break
        contributing = sorted({a.matter for a in used})
        start = max([day] + [e for m in contributing if (e := by_id[m].effective)] + ([added] if added else []))
        actions.append(ActionApproval("adopt", series, day, start, (), tuple(contributing), key=f"adopt/{series}/{n}",
                                      lacking=lacking))
        previous = day
        if start > facts.as_of:
            break
        rests = list(contributing)
        termination = next((m for m in terminations if m.day >= day and m.id not in used_terminations
                            and termination_approved(given.get(m.id, []), series)), None)
        end, due, adopted = _renewed_until_end(series, start, day, _Renewing(continue_approvals, adopt_approvals, needs),
                                               termination, removed, rests, actions)
        previous = adopted or previous
        end_day, reason, end_rests = end
        if end_day > facts.as_of:
            intervals.append(PlanInEffect(series, start, None, None, due, tuple(sorted(set(rests)))))
            break
        if end_day > start:
            intervals.append(PlanInEffect(series, start, end_day, reason, due,
                                          tuple(sorted(set(rests) | set(end_rests)))))
        if reason == REMOVED:
            break
        if reason == TERMINATED and termination is not None:
            used_terminations.add(termination.id)
        cutoff = end_day
    return intervals, actions


def agreement_in_force(agreement: Agreement, facts: Facts,
                       control_on: Callable[[date], ControlGraph]) -> AgreementInForce:
    """From its effective date until its end, a termination, an assignment or a change of control.

    A change of control of a party is a ``controls`` row starting while the
    agreement is in force whose subject did not, the day before, control the
    party directly or through a parent; it assigns every agreement of the
    party (ICA §2(a)(4)), the Trust included. *control_on* gives the
    :class:`ControlGraph` of a day.
    """
    start = agreement.effective
    ends: list[tuple[date, int, str, tuple[str, ...]]] = []
    if agreement.ends is not None:
        ends.append((agreement.ends, 0, "ends", ()))
    for event in facts.events:
        if event.agreement == agreement.id and event.event in ("terminated", "assigned"):
            ends.append((max(event.day, start), 1 if event.event == "terminated" else 2, event.event, (event.id,)))
    for rel in facts.relationships:
        if rel.relation != "controls" or rel.start < start:
            continue
        graph_now = control_on(rel.start)
        graph_before = control_on(day_before(rel.start))
        for party in agreement.parties:
            if rel.subject == party:
                continue
            above_now = graph_now.real_controllers(party)
            if rel.object != party and rel.object not in above_now:
                continue
            if rel.subject in graph_before.real_controllers(party):
                continue
            chain = () if rel.object == party else above_now[rel.object]
            ends.append((rel.start, 3, "change of control", tuple(sorted({rel.id, *chain}))))
    if not ends:
        return AgreementInForce(agreement.id, start, None, None, ())
    end_day, _order, reason, rests = min(ends)
    if end_day > facts.as_of:
        return AgreementInForce(agreement.id, start, None, None, ())
    return AgreementInForce(agreement.id, start, end_day, reason, rests)
