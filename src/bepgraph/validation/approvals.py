"""Which approvals each matter gave, and when an action holds every approval it needs.

Board and 12b-1 approvals are counted from the trustees' ballots against the
trustees in office on the meeting date (plan ¶4, ¶5, ¶8); shareholder
approval is the Act's §2(a)(42) majority, compared in exact decimals. An
action's approvals may come from several matters at several meetings; its
date is the first day on which it holds them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .facts import Ballot, Facts, Matter, ShareholderVote
from .persons import Persons

__all__ = [
    "ActionApproval",
    "Approval",
    "Lacking",
    "BOARD",
    "RULE12B1",
    "SHAREHOLDER",
    "combine",
    "lacking_periods",
    "matter_approvals",
    "needs_of_amendment",
    "shareholder_approves",
    "agreement_approvals",
    "amendment_approvals",
]

BOARD, RULE12B1, SHAREHOLDER = "board", "rule12b1", "shareholder"
KIND_ORDER = (SHAREHOLDER, BOARD, RULE12B1)


@dataclass(frozen=True)
class Approval:
    """One kind of approval given by one matter at its meeting."""

    matter: str
    action: str
    kind: str
    day: date
    series: str | None
    rests_on: tuple[str, ...]  # ballot or shareholder-vote ids


@dataclass(frozen=True)
class Lacking:
    """A period in which an adoption lacked the same needed approvals (rules.md, fine points,
    "Adoption windows"): from *start* until *end*, the first day it held one more of them (None:
    still lacking them on the as-of date)."""

    start: date
    end: date | None
    missing: tuple[str, ...]


@dataclass(frozen=True)
class ActionApproval:
    """An action (for a series, or of an agreement) and the first date it holds every needed approval."""

    action: str
    series: str | None
    day: date | None  # None: some needed approval is missing
    effective: date | None
    missing: tuple[str, ...]
    matters: tuple[str, ...]
    agreement: str | None = None
    key: str = ""
    # an adoption that did not renew a plan in effect: its window, from the meeting of its first
    # adopt matter to the day it held every approval, cut where the approvals it lacked change
    lacking: tuple[Lacking, ...] = ()


def shareholder_approves(vote: ShareholderVote) -> bool:
    """ICA §2(a)(42): 67 % of the shares present while more than half are present, or more than half of all.

    Compared as exact decimals scaled to integers of the same unit, never in
    floating point: 66.999… percent is not 67.
    """
    present_quorum = vote.present * 2 > vote.outstanding
    two_thirds_present = vote.shares_for * 100 >= vote.present * 67
    return (present_quorum and two_thirds_present) or vote.shares_for * 2 > vote.outstanding


def _majority(voters: Iterable[str], eligible: Iterable[str]) -> bool:
    pool = set(eligible)
    return 2 * len(set(voters) & pool) > len(pool)


def matter_approvals(facts: Facts, persons: Persons) -> dict[str, list[Approval]]:
    """Every approval each matter gave (board, 12b-1, shareholder), by matter id.

    A termination is a vote of the trustees (plan ¶7, Rule 12b-1(b)(3)(iii)):
    a majority of them, or of the Rule 12b-1 Trustees, voting for; the plan
    asks for in-person votes at a meeting called for the plan only for
    adoption, continuance and amendment (¶4, ¶5, ¶8).
    """
    ballots_of: dict[str, list[Ballot]] = {}
    for ballot in facts.ballots:
        ballots_of.setdefault(ballot.matter, []).append(ballot)
    votes_of: dict[str, list[ShareholderVote]] = {}
    for vote in facts.votes:
        votes_of.setdefault(vote.matter, []).append(vote)
    found: dict[str, list[Approval]] = {}
    for matter in sorted(facts.matters.values(), key=lambda m: (m.day, m.id)):
        given: list[Approval] = []
        series = matter.single_series
        ballots = ballots_of.get(matter.id, [])
        if matter.action == "terminate":
            counted = [b for b in ballots if b.vote == "for"]
            meeting_ok = True
        else:
            counted = [b for b in ballots if b.vote == "for" and b.in_person]
            meeting_ok = matter.in_person and matter.called_for_plan
        voters = [b.trustee for b in counted]
        rests = tuple(b.id for b in counted)
        if meeting_ok and _majority(voters, persons.in_office(matter.day)):
            given.append(Approval(matter.id, matter.action, BOARD, matter.day, series, rests))
        if meeting_ok and _majority(voters, persons.rule12b1_trustees(matter.day)):
            rule_rests = tuple(b.id for b in counted if b.trustee in set(persons.rule12b1_trustees(matter.day)))
            given.append(Approval(matter.id, matter.action, RULE12B1, matter.day, series, rule_rests))
        for vote in votes_of.get(matter.id, []):
            if vote.series in matter.series and shareholder_approves(vote):
                given.append(Approval(matter.id, matter.action, SHAREHOLDER, matter.day,
                                      series if vote.series == series else None, (vote.id,)))
        found[matter.id] = given
    return found


def combine(
    approvals: Iterable[Approval], needed: Iterable[str], *, since: date | None = None, after: date | None = None
) -> tuple[date | None, tuple[str, ...], list[Approval]]:
    """(date, missing kinds, the approvals used): the first day every *needed* kind is held.

    Only approvals on or after *since* and strictly after *after* count. The
    earliest approval of each kind is used, so a later meeting voting the
    same again does not move the date.
    """
    first: dict[str, Approval] = {}
    for approval in sorted(approvals, key=lambda a: (a.day, a.matter)):
        if since is not None and approval.day < since:
            continue
        if after is not None and approval.day <= after:
            continue
        first.setdefault(approval.kind, approval)
    wanted = [k for k in KIND_ORDER if k in set(needed)]
    missing = tuple(k for k in wanted if k not in first)
    used = [first[k] for k in wanted if k in first]
    if missing or not used:
        return None, missing, used
    return max(a.day for a in used), (), used


def lacking_periods(
    approvals: Iterable[Approval], needed: Iterable[str], opened: date, *,
    since: date | None = None, after: date | None = None
) -> tuple[Lacking, ...]:
    """The periods from *opened* in which some *needed* kind was not yet held, each with the kinds it lacked.

    The approvals counted are :func:`combine`'s (on or after *since*, after
    *after*), each kind held from its first approval's day on; the last
    period ends on the day every needed kind is held (:func:`combine`'s
    date), or stays open if that day never comes.
    """
    held: dict[str, date] = {}
    for approval in approvals:
        if (since is not None and approval.day < since) or (after is not None and approval.day <= after):
            continue
        if approval.kind not in held or approval.day < held[approval.kind]:
            held[approval.kind] = approval.day
    wanted = [k for k in KIND_ORDER if k in set(needed)]
    changes = sorted({held[k] for k in wanted if k in held and held[k] > opened})
    periods: list[Lacking] = []
    start: date | None = opened
    for end in [*changes, None]:
        assert start is not None
        missing = tuple(k for k in wanted if k not in held or held[k] > start)
        if not missing:
            break
        periods.append(Lacking(start, end, missing))
        start = end
    return tuple(periods)


def needs_of_amendment(matter: Matter) -> tuple[str, ...]:
    """Plan ¶8: a material amendment needs the board and the 12b-1 Trustees; one that increases
    spending materially (other than through more credits or payments generated) also the shareholders."""
    needs: list[str] = []
    if matter.material or matter.increases_spending:
        needs += [BOARD, RULE12B1]
    if matter.increases_spending and not matter.increase_from_credits:
        needs.append(SHAREHOLDER)
    return tuple(needs)


def amendment_approvals(facts: Facts, given: dict[str, list[Approval]]) -> list[ActionApproval]:
    """Amendments are judged per matter: its own ballots and the shareholder votes recorded against it."""
    found: list[ActionApproval] = []
    for matter in sorted(facts.matters.values(), key=lambda m: m.id):
        if matter.action != "amend" or matter.single_series is None:
            continue
        _day, missing, _used = combine(
            [a for a in given.get(matter.id, []) if a.series == matter.single_series or a.kind != SHAREHOLDER],
            needs_of_amendment(matter))
        day = None if missing else matter.day
        effective = max(day, matter.effective) if day and matter.effective else day
        found.append(ActionApproval("amend", matter.single_series, day, effective, missing, (matter.id,),
                                    key=f"amend/{matter.id}"))
    return found


def agreement_approvals(facts: Facts, given: dict[str, list[Approval]]) -> list[ActionApproval]:
    """Board and 12b-1 approval of each agreement, combined over its ``approve_agreement`` matters."""
    by_agreement: dict[str, list[Matter]] = {}
    for matter in facts.matters.values():
        if matter.action == "approve_agreement":
            by_agreement.setdefault(matter.subject, []).append(matter)
    found: list[ActionApproval] = []
    for agreement, matters in sorted(by_agreement.items()):
        approvals = [a for m in matters for a in given.get(m.id, []) if a.kind != SHAREHOLDER]
        day, missing, used = combine(approvals, (BOARD, RULE12B1))
        contributing = sorted({a.matter for a in used}) if day else sorted(m.id for m in matters)
        found.append(ActionApproval("approve_agreement", None, day, day, missing, tuple(contributing),
                                    agreement=agreement, key=f"agreement/{agreement}"))
    return found

