"""One list question (class, link, order, filters, cursor): shared by the loaders that answer it and the
dated pages and pagination that shape it, so it lives in a module of its own."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..sparql import NamedQuery, find_query
from ..store import Term

__all__ = ["PAGE_LIMIT", "PageQuestion", "Row"]

PAGE_LIMIT = 101  # the LIMIT written in the list queries: the largest page plus one
Row = tuple[str, Term]  # (entity IRI, sort key)


@dataclass(frozen=True)
class PageQuestion:
    """One list question (class, link, order, filters, cursor), asked of one or many parents."""

    cls: str
    sort_by: str
    descending: bool
    link: str | None = None
    range_by: str | None = None
    low: Term | None = None
    high: Term | None = None
    wheres: tuple[tuple[str, Term], ...] = ()
    after: tuple[Term, str] | None = None
    limit: int = PAGE_LIMIT  # rows wanted (a page plus one); the sorted queries always read PAGE_LIMIT

    def bindings(self) -> dict[str, Term]:
        bound: dict[str, Term] = {"class": ox.NamedNode(self.cls), "sortBy": ox.NamedNode(self.sort_by)}
        if self.link:
            bound["link"] = ox.NamedNode(self.link)
        if self.range_by and (self.low is not None or self.high is not None):
            bound["rangeBy"] = ox.NamedNode(self.range_by)
            if self.low is not None:
                bound["low"] = self.low
            if self.high is not None:
                bound["high"] = self.high
        if len(self.wheres) > 2:
            raise ValueError("a list question takes at most two equality filters")
        for n, (where, value) in enumerate(self.wheres, start=1):
            bound[f"where{n}"] = ox.NamedNode(where)
            bound[f"equals{n}"] = value
        if self.after is not None:
            bound["afterKey"] = self.after[0]
            bound["afterChild"] = ox.Literal(self.after[1])
        return bound

    def query(self) -> NamedQuery:
        shape = "children" if self.link else "list"
        return find_query(f"graphql/{shape}-{'desc' if self.descending else 'asc'}")
