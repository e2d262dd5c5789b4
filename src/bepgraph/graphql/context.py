"""The per-request context: the store, fresh DataLoaders, and the shared as-of cache.

DataLoaders live for one request only, so one request's cache can never
serve another's stale data; the validation runs behind findings and
statuses are cached across requests (see :mod:`bepgraph.graphql.asof`).

Fields that strawberry resolves as plain attributes get no Info; the few
of them that must read the store (an entity made without its properties)
find the request's loaders through :func:`request_loaders`, which the
:class:`RequestScope` extension sets for the time a request executes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date
from typing import TYPE_CHECKING

from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext

from ..store import Store

if TYPE_CHECKING:
    from .asof import AsOfCache, Snapshot
    from .dated import Calendars
    from .loaders import Loaders

__all__ = ["Context", "RequestScope", "request_loaders"]


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


_EXECUTING: ContextVar[Context | None] = ContextVar("bepgraph_graphql_context", default=None)


def request_loaders() -> "Loaders":
    """The loaders of the request being executed (for fields resolved without an Info)."""
    context = _EXECUTING.get()
    if context is None:
        raise RuntimeError("no GraphQL request is executing")
    return context.loaders


class RequestScope(SchemaExtension):
    """Makes the request's context reachable by :func:`request_loaders` while the request executes.

    A context variable, so concurrent requests (each its own task) never see each other's.
    """

    def on_execute(self) -> Iterator[None]:
        token = _EXECUTING.set(self.execution_context.context)
        try:
            yield
        finally:
            _EXECUTING.reset(token)
