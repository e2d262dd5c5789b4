"""Cursor (keyset) pagination: every list is ordered by a sort property and the IRI, and resumes after a cursor.

A cursor is the sort property, the sort value and the IRI of the last
entity seen, so the next page is a range condition on an ordered list,
not an offset: stable while data is added, and as cheap on page 1,000 as
on page 1. Pages hold at most ``max_page_size`` entities (settings).
"""

from __future__ import annotations

import base64
import bisect
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import Enum
from typing import Any, Generic, TypeVar

import pyoxigraph as ox
import strawberry

from .context import Context
from .errors import UserInputError
from ..terms import to_python
from .fields import with_props
from .prefetch import prefetch_references
from .question import PAGE_LIMIT, PageQuestion, Row

__all__ = ["Connection", "Edge", "PageInfo", "SortDirection", "decode_cursor", "encode_cursor",
           "page_of_children", "page_of_list", "page_of_sorted", "page_of_values"]

T = TypeVar("T")


@strawberry.enum(description="The direction of an ordering.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(description="Where this page ends and whether more follow.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to get the entities after this one.")
    node: T


@strawberry.type(description="One page of a list, in the order asked for.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        default=None, description="How many entities the whole list holds, where that is known without counting "
                                  "in the store (findings); null for lists read from the store a page at a time.")

    @strawberry.field(description="The entities of the page, without their cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(order: str, key: Any, ident: str) -> str:
    """An opaque cursor for the entity *ident* whose sort value is *key* under ordering *order*."""
    if isinstance(key, ox.Literal):
        key = [key.value, key.datatype.value]
    elif isinstance(key, ox.NamedNode):
        key = [key.value, "iri"]
    raw = json.dumps([order, key, ident], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(order: str, cursor: str) -> tuple[Any, str]:
    """(sort value, id) of a cursor made by :func:`encode_cursor` for the same ordering."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, key, ident = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise UserInputError(f"'{cursor[:40]}' is not a cursor of this list") from None
    if made_for != order or not isinstance(ident, str):
        raise UserInputError("this cursor belongs to another list or ordering; start again without `after`")
    return key, ident


def _key_term(key: Any) -> ox.Literal | ox.NamedNode:
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)):
        raise UserInputError("the cursor is damaged; start again without `after`")
    if key[1] == "iri":
        return ox.NamedNode(key[0])
    return ox.Literal(key[0], datatype=ox.NamedNode(key[1]))


def check_first(info: strawberry.Info[Context, None], first: int) -> None:
    limit = min(info.context.max_page_size, PAGE_LIMIT - 1)
    if not 0 <= first <= limit:
        raise UserInputError(f"`first` must be between 0 and {limit}, not {first}")


def _sorted(rows: Sequence[Row], descending: bool) -> list[Row]:
    return sorted(rows, key=lambda r: (to_python(r[1]), r[0]), reverse=descending)


async def _connection(info: strawberry.Info[Context, None], rows: list[Row], first: int, order: str,
                      make: Callable[[str], T]) -> Connection[T]:
    """The page, its entities carrying their properties (one batched read for the whole page)."""
    page = rows[:first]
    props = await info.context.loaders.entities.load_many([iri for iri, _ in page])
    nodes = [with_props(make(iri), p) for (iri, _), p in zip(page, props)]
    await prefetch_references(info, nodes)
    edges = [Edge(cursor=encode_cursor(order, key, iri), node=node) for (iri, key), node in zip(page, nodes)]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=len(rows) > first,
                                                       end_cursor=edges[-1].cursor if edges else None))


def _resume(question: PageQuestion, order: str, after: str | None) -> PageQuestion:
    if after is None:
        return question
    key, ident = decode_cursor(order, after)
    return replace(question, after=(_key_term(key), ident))


async def page_of_children(info: strawberry.Info[Context, None], parent: str, question: PageQuestion,
                           order: str, first: int, after: str | None, make: Callable[[str], T]) -> Connection[T]:
    """A page of the entities linked to *parent*, batched with the same question for sibling parents."""
    check_first(info, first)
    question = replace(_resume(question, order, after), limit=first + 1)
    rows = await info.context.loaders.children(question).load(parent)
    return await _connection(info, _sorted(rows, question.descending), first, order, make)


async def page_of_list(info: strawberry.Info[Context, None], question: PageQuestion, order: str, first: int,
                 after: str | None, make: Callable[[str], T]) -> Connection[T]:
    """A page of a top-level list."""
    check_first(info, first)
    question = replace(_resume(question, order, after), limit=first + 1)
    rows = await info.context.loaders.top(question)
    return await _connection(info, _sorted(rows, question.descending), first, order, make)


def page_of_values(info: strawberry.Info[Context, None], items: Sequence[T], key: Callable[[T], list[str]],
                   order: str, first: int, after: str | None) -> Connection[T]:
    """A page of a list already in memory (agreements of a series), keyset-paginated on *key* (a list of strings)."""
    ordered = sorted(items, key=key)
    return page_of_sorted(info, ordered, [key(item) for item in ordered], order, first, after)


def page_of_sorted(info: strawberry.Info[Context, None], ordered: Sequence[T], keys: Sequence[list[str]],
                   order: str, first: int, after: str | None) -> Connection[T]:
    """A page of a list in memory, already sorted by *keys* (one list of strings per item): the cursor is
    found by bisection, so a page of a long list (a million trades' findings) costs the page, not the list."""
    check_first(info, first)
    start = 0
    if after is not None:
        last, _ = decode_cursor(order, after)
        if not (isinstance(last, list) and all(isinstance(k, str) for k in last)):
            raise UserInputError("the cursor is damaged; start again without `after`")
        start = bisect.bisect_right(keys, last)
    page = ordered[start:start + first]
    edges = [Edge(cursor=encode_cursor(order, keys[start + n], "-"), node=item) for n, item in enumerate(page)]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=len(ordered) > start + first,
                                                       end_cursor=edges[-1].cursor if edges else None),
                      total_count=len(ordered))
