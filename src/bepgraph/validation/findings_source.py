"""The one source of findings for a process's doors: validated on the store, or read from findings files.

Why one: GraphQL, ``/viz/data``, ``/viz/quarters`` and the board pack all
show findings. When ``serve --findings-file`` (or ``board-pack
--findings-file``) names a partitioned run's files, a door that validated
on its own would show other findings than its neighbours (and at ten
million trades would run for hours); so no door calls the validation
functions: each asks the process's one source, which is either
:data:`VALIDATED` or a :class:`~.saved_findings.SavedFindings` (which
refuses a date no file covers and never validates).

``vouch`` is asked before a door hands out an answer it kept: with files,
it refuses once the store no longer holds what the files were made from.
``key`` tells the answers made from one source from those of another, so
the process's answer cache never hands a door an answer another source
made (two apps over one store, in the tests).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date
from typing import Protocol

from ..store import Store
from .findings import Report
from .many_dates import cached_validations
from .run import cached_validation

__all__ = ["VALIDATED", "FindingsSource", "Validated"]


class FindingsSource(Protocol):
    """Where a door's findings come from."""

    @property
    def key(self) -> Hashable: ...

    def report(self, store: Store, day: date) -> Report:
        """Every rule's findings as of *day*, or a ParameterError saying why this source has none."""
        ...

    def vouch(self, store: Store) -> None:
        """Refuse (ParameterError) if this source's findings no longer speak for *store*'s facts: asked before
        an answer kept in a cache is handed out, since a server's generation does not count raw writes."""
        ...

    def on_days(self, store: Store, days: Sequence[date]) -> dict[date, Report | None]:
        """The findings of each of *days*; None for a day this source has none of (a file source only)."""
        ...


class Validated:
    """Findings judged on the store, once per date and load, in the process's one cache."""

    key: Hashable = ("validated",)

    def report(self, store: Store, day: date) -> Report:
        return cached_validation(store, day).report

    def vouch(self, store: Store) -> None:
        """Findings judged on the store speak for it whatever it holds."""

    def on_days(self, store: Store, days: Sequence[date]) -> dict[date, Report | None]:
        # the latest a whole run, the others judged back from it (validation/many_dates.py)
        return {day: run.report for day, run in cached_validations(store, list(days)).items()}


VALIDATED = Validated()
