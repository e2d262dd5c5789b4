"""Governance as a matrix: trustees × board meetings, the form a board's minutes are checked against.

Why a matrix and not a network: every trustee votes on every matter of a
meeting, so drawn as a network the ballots are hundreds of parallel edges
that collapse into a smear. A row per trustee and a column per meeting reads
like an attendance register: in office, independent or interested and why,
attended in person, how the trustee voted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

import networkx as nx

__all__ = ["Cell", "GovernanceMatrix", "MeetingColumn", "TrusteeRow", "governance_matrix"]


@dataclass(frozen=True)
class TrusteeRow:
    node: str
    id: str
    label: str
    interested: bool | None  # as of the matrix's date; None when not in office then
    rule12b1: bool | None
    reasons: tuple[str, ...]
    severity: str | None

    @property
    def status(self) -> str:
        if self.interested is None:
            return "not in office on the as-of date"
        if self.interested:
            return "interested: " + ("; ".join(self.reasons) or "reason not recorded")
        return "independent" + (" (Rule 12b-1 Trustee)" if self.rule12b1 else "")


@dataclass(frozen=True)
class MeetingColumn:
    node: str
    id: str
    day: date
    in_person: bool | None
    called_for_plan: bool | None
    matters: int


@dataclass(frozen=True)
class Cell:
    in_office: bool
    ballots: int
    in_person: int  # ballots cast in person
    votes: tuple[tuple[str, int], ...]  # vote -> count, most first

    @property
    def text(self) -> str:
        if not self.in_office:
            return "not in office"
        if not self.ballots:
            return "no ballot"
        votes = ", ".join(f"{v} {n}" for v, n in self.votes)
        where = "in person" if self.in_person == self.ballots else (
            "not in person" if self.in_person == 0 else f"{self.in_person} of {self.ballots} in person")
        return f"{votes}; {where}"

    @property
    def mark(self) -> str:
        """The worst thing in the cell, for its colour: a vote other than for, or a ballot not in person."""
        if not self.in_office or not self.ballots:
            return "none"
        if any(v != "for" for v, _ in self.votes):
            return "dissent"
        return "for" if self.in_person == self.ballots else "remote"


@dataclass(frozen=True)
class GovernanceMatrix:
    as_of: str
    trustees: tuple[TrusteeRow, ...]
    meetings: tuple[MeetingColumn, ...]
    cells: tuple[tuple[Cell, ...], ...]  # [trustee][meeting]

    def as_dict(self) -> dict[str, object]:
        return {
            "asOf": self.as_of,
            "trustees": [{"node": t.node, "id": t.id, "label": t.label, "interested": t.interested,
                          "rule12b1": t.rule12b1, "reasons": list(t.reasons), "status": t.status,
                          "severity": t.severity} for t in self.trustees],
            "meetings": [{"node": m.node, "id": m.id, "date": m.day.isoformat(), "inPerson": m.in_person,
                          "calledForPlan": m.called_for_plan, "matters": m.matters} for m in self.meetings],
            "cells": [[{"inOffice": c.in_office, "ballots": c.ballots, "inPerson": c.in_person,
                        "votes": dict(c.votes), "text": c.text, "mark": c.mark} for c in row] for row in self.cells],
        }


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value not in (None, "") else None


def governance_matrix(graph: nx.MultiDiGraph) -> GovernanceMatrix:
    """The matrix of a governance view (:func:`bepgraph.viz.views.build_view`), before any collapsing."""
    meeting_of: dict[str, str] = {}
    for u, v, a in graph.edges(data=True):
        if a.get("relation") == "atMeeting":
            meeting_of[u] = v
    matters = Counter(meeting_of.values())
    meetings = sorted(
        (MeetingColumn(n, str(a.get("id", n)), _day(a.get("date")), a.get("inPerson"),  # type: ignore[arg-type]
                       a.get("calledForPlan"), matters[n])
         for n, a in graph.nodes(data=True)
         if a.get("kind") == "meeting" and a.get("body", "board") == "board" and a.get("date")),
        key=lambda m: (m.day, m.id))
    trustees = sorted(
        (TrusteeRow(n, str(a.get("id", n)), str(a.get("label", n)),
                    a.get("interested") if a.get("inOffice", True) is not False else None,
                    a.get("rule12b1"), tuple(sorted(str(r) for r in a.get("reason", []))),
                    a.get("severity"))
         for n, a in graph.nodes(data=True) if a.get("kind") == "trustee"),
        key=lambda t: t.label)
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    in_person: Counter[tuple[str, str]] = Counter()
    for u, v, a in graph.edges(data=True):
        meeting = meeting_of.get(v)
        if meeting is None or graph.nodes[u].get("kind") != "trustee":
            continue
        votes[(u, meeting)][str(a.get("relation"))] += 1
        in_person[(u, meeting)] += a.get("inPerson") is True
    cells = []
    for t in trustees:
        attrs = graph.nodes[t.node]
        start, until = _day(attrs.get("from")), _day(attrs.get("until"))
        row = []
        for m in meetings:
            office = (start is None or start <= m.day) and (until is None or until > m.day)
            count = votes.get((t.node, m.node), Counter())
            row.append(Cell(office, sum(count.values()), in_person[(t.node, m.node)],
                            tuple(sorted(count.items(), key=lambda kv: (-kv[1], kv[0])))))
        cells.append(tuple(row))
    return GovernanceMatrix(str(graph.graph.get("as_of", "")), tuple(trustees), tuple(meetings), tuple(cells))
