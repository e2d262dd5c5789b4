"""What the generator builds: rows per table, the deliberate breaches, and the timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = ["Breach", "Facts", "Timeline", "ExpectedWarning", "cents", "iso"]


def iso(day: dt.date) -> str:
    return day.isoformat()


def cents(amount: int) -> str:
    """Whole cents as a decimal string with two places (never a float)."""
    return f"{amount // 100}.{amount % 100:02d}"


@dataclass(frozen=True)
class Breach:
    """One finding the example is built to produce: rule id, focus entity and why."""

    rule: str
    table: str
    id: str
    why: str


@dataclass(frozen=True)
class ExpectedWarning:
    """A finding that asks for review (not a breach) which the example produces on purpose."""

    rule: str
    table: str
    id: str
    why: str


@dataclass(frozen=True)
class Timeline:
    """The dates the blotter must respect so that its bulk stays clean."""

    plan_date: dt.date
    first_trade: dt.date
    last_trade: dt.date
    directed_from: dt.date
    directed_until: dt.date  # last day directed activity is allowed for any series
    lapsed_series: str
    lapse_date: dt.date  # first day the plan is out of effect for lapsed_series


@dataclass
class Facts:
    """Rows of the governance tables (dicts by column name) and what was planted in them."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    breaches: list[Breach] = field(default_factory=list)

    def add(self, table: str, **cells: str) -> dict[str, str]:
        row = {k.rstrip("_"): v for k, v in cells.items()}
        self.rows.setdefault(table, []).append(row)
        return row
