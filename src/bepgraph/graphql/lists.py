"""List fields: every list of the schema is ordered, filtered and paginated the same way.

A list is a class of entities, optionally the ones linking to a parent
through one property; its ordering is an enum whose values are the sort
properties; its filter is an input that turns into a date range and at
most two equality conditions, all bound into the two list queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Protocol

import strawberry

from ..namespaces import BEP
from ..store import Term
from .fields import prop
from .question import PageQuestion
from .pagination import Connection, SortDirection, page_of_children, page_of_list

__all__ = ["FilterParts", "ListKind", "children_field", "list_field", "question_for"]

FilterParts = tuple[Optional[Term], Optional[Term], tuple[tuple[str, Term], ...]]


class Filter(Protocol):
    def parts(self) -> FilterParts: ...


@dataclass(frozen=True)
class ListKind:
    """How one class of entities is listed: its orderings, their default, its date range and filter."""

    cls: str
    order: type[Enum]
    default_order: Enum
    default_direction: SortDirection = SortDirection.ASC
    range_by: str | None = None
    filter: type | None = None


def question_for(kind: ListKind, link: str | None, order_by: Enum | None, direction: SortDirection | None,
                 filter: Filter | None) -> tuple[PageQuestion, str]:
    """The list question and the name of its ordering (cursors are only valid for the same one)."""
    order = order_by or kind.default_order
    way = direction or kind.default_direction
    low, high, wheres = filter.parts() if filter is not None else (None, None, ())
    question = PageQuestion(cls=BEP + kind.cls, sort_by=prop(order.value), descending=way is SortDirection.DESC,
                            link=prop(link) if link else None, range_by=prop(kind.range_by) if kind.range_by else None,
                            low=low, high=high, wheres=wheres)
    return question, f"{kind.cls}:{link or ''}:{order.name}:{way.name}"


def _annotate(resolver: Any, kind: ListKind, returns: Any, first_arg: dict[str, Any] | None = None) -> None:
    resolver.__annotations__ = {
        "root": Any, "info": strawberry.Info, **(first_arg or {}),
        "first": int, "after": Optional[str], "order_by": Optional[kind.order],
        "direction": Optional[SortDirection],
        **({"filter": Optional[kind.filter]} if kind.filter else {}),
        "return": Connection[returns],
    }
    if kind.filter is None:
        import inspect

        sig = inspect.signature(resolver)
        resolver.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "filter"])


def children_field(kind: ListKind, link: str, returns: Any, make: Any, description: str) -> Any:
    """A list of the entities of *kind* whose *link* property points at the parent."""

    async def resolve(root: Any, info: strawberry.Info, first: int = 20, after: str | None = None,
                      order_by: Any = None, direction: SortDirection | None = None, filter: Any = None) -> Any:
        question, order = question_for(kind, link, order_by, direction, filter)
        return await page_of_children(info, root.ref, question, order, first, after, make)

    _annotate(resolve, kind, returns)
    return strawberry.field(resolver=resolve, description=description + _ordering_note(kind))


def list_field(kind: ListKind, returns: Any, make: Any, description: str) -> Any:
    """A top-level list of every entity of *kind*."""

    async def resolve(root: Any, info: strawberry.Info, first: int = 20, after: str | None = None,
                      order_by: Any = None, direction: SortDirection | None = None, filter: Any = None) -> Any:
        question, order = question_for(kind, None, order_by, direction, filter)
        return await page_of_list(info, question, order, first, after, make)

    _annotate(resolve, kind, returns)
    return strawberry.field(resolver=resolve, description=description + _ordering_note(kind))


def _ordering_note(kind: ListKind) -> str:
    return (f" Ordered by {kind.default_order.name} {kind.default_direction.name} unless `orderBy` and "
            "`direction` say otherwise; `first` is at most the service's page size.")
