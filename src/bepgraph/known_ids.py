"""Ids the loaded facts know: a door given one they don't says so, with the nearest known ones.

Why: a filter on an unknown series or rule used to match nothing and
read as "the graph conforms" (or an empty list, or no rows); a typo must
be an error instead. The check is one ASK per id given; the list of known
ids (for the suggestion) is read only when the id is unknown.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from .errors import ParameterError
from .namespaces import KIND_OF_TABLE, TABLE_OF_KIND, entity_iri, split_entity_iri
from .sparql import NamedQuery, find_query
from .store import Store, Term

__all__ = ["UnknownId", "check_entity_parameters", "check_known", "check_rules", "nearest"]


class UnknownId(ParameterError):
    """An id the loaded facts (or the rule catalogue) do not know; ``kind``, ``id``, ``nearest`` say which."""

    def __init__(self, kind: str, ident: str, nearest: list[str]) -> None:
        near = f"; nearest known: {', '.join(nearest)}" if nearest else ""
        super().__init__(f"unknown {kind} '{ident}'{near}")
        self.kind, self.id, self.nearest = kind, ident, nearest

    @property
    def extensions(self) -> dict[str, object]:
        """What a GraphQL client reads from the error (graphql-core copies it into the error's extensions)."""
        return {"code": "NOT_FOUND", "kind": self.kind, "id": self.id, "nearest": self.nearest}


def nearest(ident: str, known: Iterable[str], count: int = 3) -> list[str]:
    """The known ids closest to *ident* (difflib's ratio), at most *count*."""
    pool = sorted(set(known))
    close = difflib.get_close_matches(ident, pool, n=count, cutoff=0.4)
    return close or difflib.get_close_matches(ident, pool, n=count, cutoff=0.0)


def _known_ids(store: Store, table: str) -> list[str]:
    prefix = entity_iri(table, "")
    rows = store.query(find_query("internal/entity-ids").text, {"prefix": ox.Literal(prefix)})
    found = (split_entity_iri(r["entity"].value) for r in rows)  # type: ignore[union-attr]
    return [f[1] for f in found if f is not None and f[0] == table]


def check_known(store: Store, kind: str, ident: str) -> None:
    """Raise :class:`UnknownId` unless the loaded facts know entity *ident* of *kind* ("series", "trustee"…)."""
    table = TABLE_OF_KIND.get(kind, kind)
    iri = ox.NamedNode(entity_iri(table, ident))
    if not bool(store.query(find_query("internal/entity-exists").text, {"entity": iri})):
        raise UnknownId(KIND_OF_TABLE.get(table, kind), ident, nearest(ident, _known_ids(store, table)))


def check_rules(rules: Iterable[str]) -> None:
    """Raise :class:`UnknownId` for the first rule id the catalogue does not hold."""
    from .validation.catalogue import rule_catalogue

    catalogue = rule_catalogue()
    for rule in rules:
        if rule not in catalogue:
            raise UnknownId("rule", rule, nearest(rule, catalogue))


def check_entity_parameters(store: Store, query: NamedQuery, bindings: Mapping[str, Term]) -> None:
    """Every parameter of *query* typed as an entity kind names an entity the loaded facts know."""
    for param in query.parameters:
        if param.type in TABLE_OF_KIND and param.name in bindings:
            found = split_entity_iri(bindings[param.name].value)
            if found is not None:
                check_known(store, param.type, found[1])
