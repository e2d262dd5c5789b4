"""RDF terms as Python values: the one converter, beside the store's terms, for every door that reads rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from .store import Term

__all__ = ["to_python"]


def to_python(term: Term) -> Any:
    """A literal as the Python value of its datatype; an IRI as its string."""
    if isinstance(term, ox.Literal):
        dt = term.datatype.value.rsplit("#", 1)[-1]
        if dt == "date":
            return date.fromisoformat(term.value)
        if dt == "decimal":
            return Decimal(term.value)
        if dt == "integer":
            return int(term.value)
        if dt == "boolean":
            return term.value == "true"
        return term.value
    return term.value
