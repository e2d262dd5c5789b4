"""The findings standing at each quarter end of the plan's life, for the page's date slider.

Why a cache of its own: each quarter end is a whole validation run; the
slider asks for a dozen of them and keeps only two counts of each, so the
counts are kept per loaded data (the store's generation) and per day, apart
from the findings cache that keeps whole reports for a few dates. The
quarter ends not yet judged are judged together, back from the latest
(``validation/many_dates.py``). The findings come from the process's one
source (``validation/findings_source.py``): with findings files, the
quarter ends no file covers are left out and named, never validated.
"""

from __future__ import annotations

import threading
from datetime import date

from ..sparql import find_query
from ..store import Store
from .dates import quarter_ends, quarter_label
from ..validation.findings_source import FindingsSource

__all__ = ["QuarterCounts", "plan_date"]


def plan_date(store: Store) -> date | None:
    """The day the plan was adopted (viz/plan-date-select), None without a filing."""
    for row in store.query(find_query("viz/plan-date-select").text):  # type: ignore[union-attr]
        return date.fromisoformat(row["planDate"].value)
    return None


class QuarterCounts:
    """Violations and warnings standing at each quarter end, per loaded data and findings source; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._counts: dict[date, tuple[int, int] | None] = {}  # None: the source has no findings that day

    def get(self, store: Store, until: date, source: FindingsSource) -> tuple[list[dict[str, object]], list[date]]:
        """Every quarter end from the plan's adoption to *until* that *source* has findings of, with its
        counts; and the quarter ends it has none of (a findings-file source only)."""
        start = plan_date(store)
        if start is None or start > until:
            return [], []
        key = (id(store), store.generation(), source.key)
        days = quarter_ends(start, until)
        with self._lock:
            if key != self._key:
                self._key, self._counts = key, {}
            known = dict(self._counts)
        missing = [day for day in days if day not in known]
        fresh: dict[date, tuple[int, int] | None] = {}
        if missing:  # validated: judged back from the latest (validation/many_dates.py)
            fresh = {day: None if r is None else (r.counts["violation"], r.counts["warning"])
                     for day, r in source.on_days(store, missing).items()}
            with self._lock:
                if key == self._key:
                    self._counts.update(fresh)
        counts = known | fresh
        return ([{"quarter": quarter_label(day), "end": day.isoformat(), "violations": c[0], "warnings": c[1]}
                 for day in days if (c := counts[day]) is not None],
                [day for day in days if counts[day] is None])
