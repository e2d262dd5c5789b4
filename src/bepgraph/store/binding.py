"""Values bound into a query as a ``VALUES`` block at the head of its WHERE group: user text never becomes query text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pyoxigraph as ox

from ..errors import QueryError
from ..sparql_lexer import tokens
from .results import Term

__all__ = ["bind_values"]

_TOKEN = tokens(
    r"""(?P<where>(?<![\w:?$])WHERE\s*\{)""",
    r"""(?P<construct>(?<![\w:?$])CONSTRUCT\b)|(?P<brace>\{)""",
    flags=re.IGNORECASE,
)


def bind_values(
    query: str,
    bindings: Mapping[str, Term] | None,
    rows: Sequence[Mapping[str, Term]] | None = None,
) -> str:
    """*query* with a ``VALUES`` block of *bindings* opening its WHERE group.

    *rows* (optional) binds several rows over the same variables, each
    joined with *bindings*: a batch of IRIs for one variable, as DataLoaders
    send them. Terms are written by Oxigraph's own serializer, so a value
    can never close its literal or IRI and add query text.
    """
    if not bindings and rows is None:
        return query
    fixed = dict(bindings or {})
    batch = list(rows) if rows is not None else [{}]
    names = list(fixed) + [n for n in (batch[0] if batch else {}) if n not in fixed]
    if any(set(row) != set(names) - set(fixed) for row in batch):
        raise QueryError("every bound row must bind the same variables")
    construct = False  # a CONSTRUCT's first group is its template; WHERE is then mandatory
    for match in _TOKEN.finditer(query):
        construct = construct or bool(match.group("construct"))
        # SELECT and ASK may open their group without the optional keyword WHERE: `ASK { … }`
        if match.group("where") or (match.group("brace") and not construct):
            lines = " ".join(
                "(" + " ".join(str(_check_term(n, {**fixed, **row}[n])) for n in names) + ")"
                for row in batch
            )
            heads = " ".join(f"?{_check_name(n)}" for n in names)
            at = match.end()
            return f"{query[:at]} VALUES ({heads}) {{ {lines} }}{query[at:]}"
    raise QueryError("the query has no WHERE clause to bind parameters into")


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise QueryError(f"'{name}' is not a SPARQL variable name")
    return name


def _check_term(name: str, term: object) -> Term:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise QueryError(f"'{name}' is not a SPARQL variable name")
    if not isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        raise QueryError(f"the value bound to ?{name} is not an RDF term")
    return term

