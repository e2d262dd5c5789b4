"""Date-ordered pages read a few days at a time, newest (or oldest) first, instead of sorting a whole list.

A series has tens of thousands of trades at a million; ``ORDER BY
DESC(?date) LIMIT 21`` makes Oxigraph fetch and sort all of them, while
the trades of one day are an index lookup. So a page
ordered by a date reads the days of the calendar (every value of the date
property, cached per generation of the loaded data) one query per day, from
the cursor on, until the page is full. A day's query binds one VALUES row:
Oxigraph 0.5.13 plans a multi-row VALUES block as a join and loses the
lookup (the figures: README, Measurements, "Figures behind the design").
When the days read so far show that eight days would not fill the page,
the list is sparse, hence small, and the rest comes from the ordinary
sorted query, resumed strictly past the days already read: the keyset
order (date, then IRI) is the same either way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

import pyoxigraph as ox

from ..namespaces import XSD
from ..sparql import find_query
from ..store import Store, Term
from .question import PageQuestion, Row


__all__ = ["DAY_QUERIES", "Calendars", "dated_rows", "is_dated"]

DAY_QUERIES = 8  # days read one by one, at most, before the sorted query takes over
XSD_DATE = XSD + "date"
LAST = "\U0010ffff"  # sorts after every IRI: a cursor past the whole of a day, ascending

Day = tuple[date, ox.Literal]


class Calendars:
    """The days on which each date property has values, per generation of the loaded data (app-wide)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[object, str], list[Day] | None] = {}

    def _read(self, store: Store, prop: str) -> list[Day] | None:
        key = (store.generation(), prop)
        with self._lock:
            if key not in self._known:
                self._known = {k: v for k, v in self._known.items() if k[0] == key[0]}  # drop old generations
                rows = store.query(find_query("graphql/calendar").text, {"sortBy": ox.NamedNode(prop)})
                terms = [r["key"] for r in rows]  # type: ignore[union-attr]
                # a value that is not an xsd:date (bad data) cannot be ordered as a day: no calendar
                dated = all(isinstance(t, ox.Literal) and t.datatype.value == XSD_DATE for t in terms)
                self._known[key] = sorted((date.fromisoformat(t.value), t) for t in terms) if dated else None
            return self._known[key]

    async def days(self, store: Store, prop: str) -> list[Day] | None:
        """The sorted days of *prop*, or None when some value is not a plain date: from the cache on the
        event loop, or read in a worker thread (seconds at a million trades) so the loop keeps serving."""
        key = (store.generation(), prop)
        if key in self._known:
            return self._known[key]
        return await asyncio.to_thread(self._read, store, prop)


def is_dated(question: PageQuestion) -> bool:
    """Whether a list question is ordered by the date it is ranged by (trades, benefits by date)."""
    return question.range_by is not None and question.sort_by == question.range_by


def _window(days: list[Day], question: PageQuestion) -> list[Day]:
    """The days a page may hold, in page order, from the cursor's day on."""
    q = question
    low = date.fromisoformat(q.low.value) if q.low is not None else None
    high = date.fromisoformat(q.high.value) if q.high is not None else None
    if q.after is not None:
        at = date.fromisoformat(q.after[0].value)
        high, low = (min(high, at) if high else at, low) if q.descending else (high, max(low, at) if low else at)
    kept = [d for d in days if (low is None or d[0] >= low) and (high is None or d[0] <= high)]
    return kept[::-1] if q.descending else kept


def _past_cursor(rows: list[Row], question: PageQuestion) -> list[Row]:
    q = question
    if q.after is None:
        return rows
    cursor = (date.fromisoformat(q.after[0].value), q.after[1])
    if q.descending:
        return [r for r in rows if (date.fromisoformat(r[1].value), r[0]) < cursor]
    return [r for r in rows if (date.fromisoformat(r[1].value), r[0]) > cursor]


def dated_rows(store: Store, question: PageQuestion, parent: str | None, days: list[Day], limit: int,
               sorted_rows: Callable[[PageQuestion], Sequence[Row]]) -> list[Row]:
    """At least *limit* rows of the page (or all there are), reading day by day, then the sorted query.

    *sorted_rows* asks the ordinary (sorted) list query for a question.
    """
    q = question
    text = find_query("graphql/dated-page").text
    bound: dict[str, Term] = {"class": ox.NamedNode(q.cls), "sortBy": ox.NamedNode(q.sort_by)}
    if parent is not None:
        bound["parent"], bound["link"] = ox.NamedNode(parent), ox.NamedNode(q.link)  # type: ignore[arg-type]
    for n, (where, value) in enumerate(q.wheres, start=1):
        bound[f"where{n}"], bound[f"equals{n}"] = ox.NamedNode(where), value
    window = _window(days, q)
    found: list[Row] = []
    read = 0
    for read, (_, term) in enumerate(window[:DAY_QUERIES], start=1):
        rows = store.query(text, {**bound, "key": term})
        day = list(dict.fromkeys((r["child"].value, r["key"]) for r in rows))  # type: ignore[union-attr]
        found += _past_cursor(day, q)
        if len(found) >= limit or read == len(window):
            return found
        if len(found) * DAY_QUERIES < limit * read:  # at this density the days would not fill the page
            break
    last = window[read - 1][1]  # resume strictly past the days read
    rest = replace(q, after=(last, "" if q.descending else LAST))
    return found + list(sorted_rows(rest))
