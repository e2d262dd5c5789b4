"""What a store's query answers, typed: the terms of a row, the answer's kinds, and the two a caller reads.

A SPARQL query answers rows (SELECT), a boolean (ASK) or triples (CONSTRUCT,
DESCRIBE); the store gives the union. :func:`solutions` and :func:`triples`
say which one the caller expects, so a wrong kind is a clear refusal rather
than a loop over something that is not rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Union

import pyoxigraph as ox

from ..errors import QueryError

__all__ = ["QueryResult", "Term", "solutions", "triples"]

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal]
QueryResult = Union[ox.QuerySolutions, ox.QueryBoolean, ox.QueryTriples, Iterator[ox.Triple]]


def solutions(result: QueryResult) -> ox.QuerySolutions:
    """A SELECT's rows as such, for a caller that reads them by variable (any other answer is refused)."""
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError(f"the query answered {type(result).__name__}, not a SELECT's rows")
    return result


def triples(result: QueryResult) -> Iterator[ox.Triple]:
    """A CONSTRUCT's or DESCRIBE's triples as such (a SELECT's rows or an ASK's boolean are refused)."""
    if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
        raise QueryError(f"the query answered {type(result).__name__}, not triples")
    return iter(result)
