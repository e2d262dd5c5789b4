"""DataLoaders, created per request: every read of the store batches its keys into VALUES rows.

A request therefore makes one query per depth and per distinct list
question, whatever the number of results: the properties of the 20 trades
on a page are one query, the brokers of those trades one more. Batches
hold at most 1,000 IRIs, since larger VALUES blocks made Oxigraph much
slower (baselines.md).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

import pyoxigraph as ox
from strawberry.dataloader import DataLoader

from ..sparql import find_query
from ..store import Store, Term, bind_values
from .dated import Calendars, dated_rows, is_dated
from .question import PageQuestion, Row

__all__ = ["MAX_BATCH", "Loaders"]

MAX_BATCH = 1000
Props = dict[str, list[Term]]

_SELECT = re.compile(r"^SELECT\b", re.MULTILINE)
_ORDER = re.compile(r"^ORDER BY ([^\n]*)$", re.MULTILINE)


def per_parent(text: str, bindings: Mapping[str, Term], parents: Sequence[str]) -> str:
    """One page per parent in one standard query: *text* (a page for one ``?parent``) repeated as a
    sub-SELECT per parent, joined by UNION, ordered by parent then as each page is.

    Why: a sub-SELECT is evaluated on its own, so a VALUES block outside it
    cannot reach its LIMIT; Oxigraph's LATERAL would, but it is no SPARQL 1.1,
    and other servers refuse it. Bound values are written into each branch
    by :func:`bind_values`, so no parent's text becomes query text.
    """
    at = _SELECT.search(text)
    order = _ORDER.search(text)
    if at is None or order is None:
        raise ValueError("a per-parent page query needs a SELECT and an ORDER BY at the start of a line")
    prologue, body = text[:at.start()], text[at.start():]
    branches = " UNION ".join(
        "{ " + bind_values(body, {**bindings, "parent": ox.NamedNode(p)}) + " }" for p in parents)
    return f"{prologue}SELECT ?parent ?child ?key WHERE {{ {branches} }}\nORDER BY ?parent {order.group(1)}\n"


class Loaders:
    """The loaders of one request."""

    def __init__(self, store: Store, calendars: Calendars | None = None) -> None:
        self.store = store
        self.calendars = calendars
        self.entities: DataLoader[str, Props] = DataLoader(self._entities, max_batch_size=MAX_BATCH)
        self.known: dict[str, Props] = {}  # the properties read so far, for answers that need not wait
        self._children: dict[PageQuestion, DataLoader[str, list[Row]]] = {}
        self._lists: dict[PageQuestion, list[Row]] = {}
        self._related: dict[str, DataLoader[str, list[Row]]] = {}

    async def _entities(self, iris: list[str]) -> list[Props]:
        found: dict[str, Props] = {iri: defaultdict(list) for iri in iris}
        rows = self.store.query(find_query("graphql/entity-properties").text,
                                rows=[{"entity": ox.NamedNode(i)} for i in iris])
        for entity, p, o in rows:  # type: ignore[union-attr]
            found[entity.value][p.value].append(o)
        read = [dict(found[i]) for i in iris]
        self.known.update(zip(iris, read))
        return read

    def _sorted_rows(self, question: PageQuestion, parent: str | None) -> Sequence[Row]:
        rows = [{"parent": ox.NamedNode(parent)}] if parent is not None else None
        return [(r["child"].value, r["key"])
                for r in self.store.query(question.query().text, question.bindings(), rows=rows)]  # type: ignore[union-attr]

    async def _dated(self, question: PageQuestion, parent: str | None) -> Sequence[Row] | None:
        """The rows of a date-ordered page read day by day (:mod:`bepgraph.graphql.dated`), if it is one."""
        if self.calendars is None or not is_dated(question):
            return None
        days = await self.calendars.days(self.store, question.sort_by)
        if days is None:
            return None
        return dated_rows(self.store, question, parent, days, question.limit, lambda q: self._sorted_rows(q, parent))

    def children(self, question: PageQuestion) -> DataLoader[str, list[Row]]:
        """The loader answering *question* for a batch of parents (keys: parent IRIs)."""
        if question not in self._children:
            async def load(parents: list[str]) -> list[list[Row]]:
                if len(parents) == 1:  # one parent (a dashboard's series): its days, one by one
                    dated = await self._dated(question, parents[0])
                    if dated is not None:
                        return [list(dated)]
                pages: dict[str, list[Row]] = {p: [] for p in parents}
                rows = self.store.query(per_parent(question.query().text, question.bindings(), parents))
                for row in rows:  # type: ignore[union-attr]
                    pages[row["parent"].value].append((row["child"].value, row["key"]))
                return [pages[p] for p in parents]

            self._children[question] = DataLoader(load, max_batch_size=MAX_BATCH)
        return self._children[question]

    def related(self, name: str) -> DataLoader[str, list[Row]]:
        """A loader for a named query returning every (?child, ?key) of each bound ?parent, unpaged.

        For short lists only (the agreements of a series).
        """
        if name not in self._related:
            text = find_query(name).text

            async def load(parents: list[str]) -> list[list[Row]]:
                found: dict[str, list[Row]] = {p: [] for p in parents}
                for row in self.store.query(text, rows=[{"parent": ox.NamedNode(p)} for p in parents]):  # type: ignore[union-attr]
                    found[row["parent"].value].append((row["child"].value, row["key"]))
                return [sorted(set(found[p]), key=lambda r: (r[1].value, r[0])) for p in parents]

            self._related[name] = DataLoader(load, max_batch_size=MAX_BATCH)
        return self._related[name]

    async def top(self, question: PageQuestion) -> list[Row]:
        """A top-level list: read by day when ordered by date, else one sorted query; remembered for the request."""
        if question not in self._lists:
            dated = await self._dated(question, None)
            self._lists[question] = list(dated if dated is not None else self._sorted_rows(question, None))
        return self._lists[question]
