"""Calendar arithmetic for the rules' deadlines, done in Python because SPARQL cannot.

The shapes receive every deadline as a literal: date arithmetic inside
SPARQL is not defined on 29 February, and a wrong deadline makes a violation
silently disappear (rules.md, Notes). Every function here is pure.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = [
    "REPORT_DAYS",
    "add_days",
    "add_years",
    "anniversary",
    "day_before",
    "quarter_bounds",
    "quarter_of",
    "quarters_between",
    "report_deadline",
    "retention_until",
]

REPORT_DAYS = 90  # Rule 12b-1(b)(3)(ii) as the plan applies it: within 90 days after the quarter
RETAINED_YEARS = 6  # Rule 12b-1(f): six years ...
ACCESSIBLE_YEARS = 2  # ... the first two in an easily accessible place


def add_years(day: date, years: int) -> date:
    """*day* moved by whole years; 29 February falls back to 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # only 29 February can fail
        return day.replace(year=day.year + years, day=28)


def anniversary(day: date) -> date:
    """The first anniversary of *day*: "within one year of D" means on or before it."""
    return add_years(day, 1)


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)


def day_before(day: date) -> date:
    return day - timedelta(days=1)


def quarter_of(day: date) -> tuple[int, int]:
    """(year, quarter 1-4) of *day*."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day (inclusive, as reports state their periods) of a calendar quarter."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1-4, not {quarter}")
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, day_before(following)


def quarters_between(start: date, end: date) -> list[tuple[int, int]]:
    """Every calendar quarter with at least one day in [start, end] (inclusive), in order."""
    found: list[tuple[int, int]] = []
    year, quarter = quarter_of(start)
    while quarter_bounds(year, quarter)[0] <= end:
        found.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return found


def report_deadline(quarter_end: date) -> date:
    """The 90th day after the quarter's last day: the report is due on or before it."""
    return add_days(quarter_end, REPORT_DAYS)


def retention_until(start: date) -> tuple[date, date]:
    """(retained until, easily accessible until): six and two years after *start*."""
    return add_years(start, RETAINED_YEARS), add_years(start, ACCESSIBLE_YEARS)
