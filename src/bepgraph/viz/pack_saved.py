"""What the board pack shows when its findings come from findings files (``board-pack --findings-file``).

Why it differs from a pack that validates: at ten million trades the pack
reads the facts from a SPARQL server that holds them (views, money flow,
calendar: queries, as in any pack) but cannot run the rules there; the
findings are those of ``validate --partition --findings-file``, one file
per as-of date. So:

* the findings as of ``--as-of`` (and ``--since``, the previous review)
  must come from a file of that date: otherwise the pack is refused before
  anything is drawn, with the command that makes the missing file;
* the findings at each quarter end are drawn for the quarter ends a file
  is given for; the others are named in the section as not computed, and
  with none there is no figure at all (never an empty chart that reads as
  "no findings");
* the "about" section names the files the findings were read from.

Every file is checked against the store first (bundles' and filing's
sha256, ``validation/saved_findings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..store import Store
from ..validation.findings import Report
from ..validation.saved_findings import SavedFindings

__all__ = ["check_saved_dates", "missing_quarters", "required", "saved_source"]


def check_saved_dates(store: Store, saved: SavedFindings, as_of: date, since: date | None) -> None:
    """Refuse the pack unless the files match the store and hold the findings as of *as_of* and *since*."""
    saved.report(store, as_of)
    if since is not None:
        saved.report(store, since)


def required(runs: Mapping[date, Report | None], day: date) -> Report:
    """The findings of *day*, which the caller made sure are there (check_saved_dates or a validation)."""
    report = runs[day]
    if report is None:  # pragma: no cover - check_saved_dates refused the pack before
        raise AssertionError(f"no findings as of {day}")
    return report


def missing_quarters(quarters: tuple[str, ...], reader: str = "this pack") -> str:
    """The sentence a pack (or *reader*: the /viz page's service) made from findings files says of the
    quarter ends no file is as of."""
    which = ", ".join(quarters)
    return (f"Not computed for {len(quarters)} quarter end{'s' if len(quarters) != 1 else ''} ({which}): {reader} "
            "reads its findings from findings files, and none is as of those days, so they are not drawn. "
            "Make one per quarter end (`bepgraph validate --partition … --as-of DAY --findings-file FILE`) and "
            "pass them all with --findings-file to draw them.")


def saved_source(described: str) -> str:
    """The "about" section's sentence naming the files the findings were read from."""
    return ("The findings were not judged while this pack was made: they were read from findings files of "
            f"partitioned validation runs ({described}), each checked to have been computed from the very bundles "
            "and plan filing the pack's facts come from (their sha256).")
