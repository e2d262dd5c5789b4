"""Prefetching a page's references: the entities its nodes point at, read in one batch with the page.

A reference field (:func:`bepgraph.graphql.fields.ref_field`) answers at
once when its entity's properties are already known to the request's
loaders, and awaits them otherwise. Awaiting per node is correct but
costly: each of a page's 20 trades asking for its broker makes graphql-core
await 20 results, a task per trade. Reading the brokers right after the
page, for the reference fields the query selects on its nodes, keeps the
page one synchronous subtree for the same one query the awaits would have
batched into.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
import strawberry
from strawberry.types.nodes import SelectedField
from strawberry.utils.str_converters import to_camel_case

from .context import Context
from .fields import REFERENCE

__all__ = ["prefetch_references"]

_REFERENCES: dict[type, dict[str, str]] = {}


def _references(cls: type) -> dict[str, str]:
    """GraphQL field name -> property IRI, for the reference fields of an entity class."""
    known = _REFERENCES.get(cls)
    if known is None:
        known = {}
        for f in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if f.metadata and REFERENCE in f.metadata:
                known[f.graphql_name or to_camel_case(f.python_name)] = f.metadata[REFERENCE]
        _REFERENCES[cls] = known
    return known


def _fields(selections: list[Any]) -> list[SelectedField]:
    """The fields of a selection, fragments opened (whatever their type condition: a superset is fine)."""
    found: list[SelectedField] = []
    for s in selections:
        if isinstance(s, SelectedField):
            found.append(s)
        else:
            found += _fields(s.selections)
    return found


def _node_selection(info: strawberry.Info) -> set[str]:
    """The names of the fields a connection's query asks of each of its nodes (`edges { node }`, `nodes`)."""
    names: set[str] = set()
    for connection in _fields(info.selected_fields):
        for part in _fields(connection.selections):
            if part.name == "nodes":
                names.update(f.name for f in _fields(part.selections))
            elif part.name == "edges":
                for node in (e for e in _fields(part.selections) if e.name == "node"):
                    names.update(f.name for f in _fields(node.selections))
    return names


async def prefetch_references(info: strawberry.Info[Context, None], entities: list[Any]) -> None:
    """Read, in one batch, the entities that the query follows a reference to from a page of *entities*.

    The page's references then answer at once instead of each awaiting the loader: a dashboard's 20
    trades with their brokers stay one synchronous subtree (no task per trade), for the same one
    query the references would have batched into anyway.
    """
    if not entities:
        return
    references = _references(type(entities[0]))
    if not references:
        return
    asked = _node_selection(info)
    followed = [iri for name, iri in references.items() if name in asked]
    if not followed:
        return
    loaders = info.context.loaders
    targets = {t.value for e in entities if e.props is not None for p in followed for t in e.props.get(p, ())
               if isinstance(t, ox.NamedNode)}
    missing = [t for t in sorted(targets) if t not in loaders.known]
    if missing:
        await loaders.entities.load_many(missing)
