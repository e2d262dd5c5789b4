"""How some rules read the as-of date, as shapes/dated-readings.toml declares it (for the findings timeline).

Why a table and not code: what the timeline may reuse from a later date's
results beyond what a constraint's query text shows (``many_dates.py``)
depends on what the rule means: "a trade is judged by the facts of its own
date", "only the expenditures dated up to the as-of date count". Such a
claim is stated once, as data beside the shapes, where a reader of the rule
sees it; tests/test_many_dates.py holds every claim against whole runs at
every quarter end. A malformed table is refused with the reason, never read
half.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import BepgraphError
from ..resources import data_root
from ..sparql import find_query
from .catalogue import rule_catalogue

__all__ = ["FOCUS_DATE", "DATED_THROUGH", "GROWING_TOTAL", "Interval", "Reading", "Readings", "dated_readings"]

FOCUS_DATE = "focus-date"
DATED_THROUGH = "dated-through"
GROWING_TOTAL = "growing-total"
KINDS = (FOCUS_DATE, DATED_THROUGH, GROWING_TOTAL)


@dataclass(frozen=True)
class Interval:
    """A derived class whose nodes stand for an interval of days (local names in the ontology)."""

    start: str
    end: str
    with_end: frozenset[str]


@dataclass(frozen=True)
class Reading:
    """What a rule is declared to read of the as-of date."""

    rule: str
    reads: str  # one of KINDS
    affected: str | None = None  # DATED_THROUGH: the named ASK query: may a focus node change between two dates
    guard: str | None = None  # GROWING_TOTAL: the named ASK query: does the total not grow with the date here


@dataclass(frozen=True)
class Readings:
    intervals: dict[str, Interval]  # class local name -> its interval predicates
    by_shape: dict[str, Reading]  # shape IRI -> the rule's reading


def table_path() -> Path:
    return data_root() / "shapes" / "dated-readings.toml"


def parse_readings(text: str, where: str) -> Readings:
    """The table in *text* (from *where*), checked: known rules and kinds, a named query for each
    dated-through or growing-total rule, every interval with its predicates."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BepgraphError(f"{where}: {exc}") from exc
    intervals: dict[str, Interval] = {}
    for name, spec in table.get("intervals", {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("start"), str) or not isinstance(spec.get("end"), str) \
                or not all(isinstance(p, str) for p in spec.get("with_end", [])):
            raise BepgraphError(f"{where}: interval {name} needs start and end (predicate names) and "
                                f"with_end (a list of predicate names)")
        intervals[name] = Interval(spec["start"], spec["end"], frozenset(spec.get("with_end", [])))
    catalogue = rule_catalogue()
    by_shape: dict[str, Reading] = {}
    for rule, spec in table.get("rules", {}).items():
        if rule not in catalogue:
            raise BepgraphError(f"{where}: rules.\"{rule}\" is not a rule of the catalogue")
        reads = spec.get("reads") if isinstance(spec, dict) else None
        if reads == FOCUS_DATE:
            by_shape[catalogue[rule].shape] = Reading(rule, reads)
        elif reads in (DATED_THROUGH, GROWING_TOTAL):
            key = "affected" if reads == DATED_THROUGH else "guard"
            query = spec.get(key)
            if not isinstance(query, str):
                raise BepgraphError(f"{where}: rules.\"{rule}\" reads {reads} but names no `{key}` query")
            find_query(query)  # a missing query is refused here, not at the first timeline
            by_shape[catalogue[rule].shape] = Reading(rule, reads, **{key: query})
        else:
            raise BepgraphError(f"{where}: rules.\"{rule}\" reads {reads!r}, not one of "
                                + ", ".join(repr(k) for k in KINDS))
    return Readings(intervals, by_shape)


@lru_cache(maxsize=1)
def dated_readings() -> Readings:
    """shapes/dated-readings.toml, read once."""
    path = table_path()
    return parse_readings(path.read_text(encoding="utf-8"), str(path))
