"""The days the board looks at: the latest day the facts speak of, and the quarter ends of a period.

Why the latest fact and not today: a board reviews a plan as it last stood;
a plan that ended years ago, opened "as of today", shows nothing in force.
The latest day is read once per loaded data (the graph/meta digests, as the
findings cache does), since at a million trades the MAX costs a scan.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

from ..sparql import find_query
from ..store import Store

__all__ = ["LatestFact", "latest_fact_day", "quarter_end", "quarter_ends", "quarter_label"]


def latest_fact_day(store: Store) -> date | None:
    """The last day any loaded fact is dated (viz/latest-fact-select), None when nothing dated is loaded."""
    for row in store.query(find_query("viz/latest-fact-select").text):  # type: ignore[union-attr]
        value = row["latest"]
        return date.fromisoformat(value.value) if value is not None else None
    return None


class LatestFact:
    """:func:`latest_fact_day` kept per loaded data; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._day: date | None = None

    def get(self, store: Store) -> date | None:
        key = (id(store), store.generation())
        with self._lock:
            if key != self._key:
                self._day, self._key = latest_fact_day(store), key
            return self._day


def quarter_end(day: date) -> date:
    """The last day of the calendar quarter *day* falls in."""
    first_of_next = date(day.year + (day.month > 9), (((day.month - 1) // 3 + 1) * 3) % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def quarter_ends(start: date, end: date) -> list[date]:
    """Every quarter end from the quarter of *start* to the last quarter end on or before *end*."""
    out, day = [], quarter_end(start)
    while day <= end:
        out.append(day)
        day = quarter_end(day + timedelta(days=1))
    return out


def quarter_label(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"
