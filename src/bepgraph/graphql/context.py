"""The per-request context: the store, fresh DataLoaders, and the shared as-of cache.

DataLoaders live for one request only, so one request's cache can never
serve another's stale data; the validation runs behind findings and
statuses are cached across requests (see :mod:`bepgraph.graphql.asof`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from strawberry.fastapi import BaseContext

from ..store import Store

if TYPE_CHECKING:
    from .asof import AsOfCache, Snapshot
    from .dated import Calendars
    from .loaders import Loaders

__all__ = ["Context"]


class Context(BaseContext):
    def __init__(self, store: Store, as_of: "AsOfCache", max_page_size: int,
                 calendars: "Calendars | None" = None) -> None:
        from .loaders import Loaders

        super().__init__()
        self.store = store
        self.as_of = as_of
        self.max_page_size = max_page_size
        self.loaders: Loaders = Loaders(store, calendars)
        self._snapshots: dict[date, Snapshot] = {}

    async def snapshot(self, as_of: date | None, findings: bool = False) -> "Snapshot":
        """The as-of answers for *as_of* (today by default), fetched once per request."""
        day = as_of or date.today()
        known = self._snapshots.get(day)
        if known is None or (findings and known.report is None):
            self._snapshots[day] = await self.as_of.get(self.store, day, findings)
        return self._snapshots[day]
