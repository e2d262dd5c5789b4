"""Fields read from an entity's properties: one factory per value type, so each type module only names them.

An entity is known by its IRI; its properties come in one batched query
per request depth (:class:`bepgraph.graphql.loaders.Loaders`), and every
field of it reads the same cached property map.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Optional, TypeVar

import pyoxigraph as ox
import strawberry

from ..namespaces import BEP, split_entity_iri
from ..store import Term
from .context import Context

__all__ = [
    "Entity",
    "lazy",
    "with_props",
    "Props",
    "bool_field",
    "date_field",
    "decimal_field",
    "entity_id",
    "int_field",
    "props_of",
    "ref_field",
    "refs_field",
    "text_field",
    "texts_field",
    "to_python",
    "types_of",
]

Props = dict[str, list[Term]]
T = TypeVar("T")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCT_ID = "http://purl.org/dc/terms/identifier"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
DESCRIPTION = "http://purl.org/dc/terms/description"


def prop(name: str) -> str:
    """A property IRI: a bep: local name, or a full IRI given as it is."""
    return name if ":" in name else BEP + name


def entity_id(iri: str) -> str:
    """The bundle id of an entity IRI (the IRI itself for anything else)."""
    split = split_entity_iri(iri)
    return split[1] if split else iri


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


async def props_of(info: strawberry.Info[Context, None], iri: str) -> Props:
    return await info.context.loaders.entities.load(iri)


async def types_of(info: strawberry.Info[Context, None], iri: str) -> set[str]:
    """The bep: local names of the entity's classes."""
    return {t.value[len(BEP):] for t in (await props_of(info, iri)).get(RDF_TYPE, []) if t.value.startswith(BEP)}


def _field(resolver: Callable[..., Any], returns: Any, description: str) -> Any:
    resolver.__annotations__ = {"root": Any, "info": strawberry.Info, "return": returns}
    return strawberry.field(resolver=resolver, description=description)


def _values(name: str) -> Callable[..., Any]:
    """A resolver for every value of *name*: plain when the entity came with its properties
    (a page prefetches them), awaiting the request's loader otherwise."""
    iri = prop(name)

    def convert(props: Props) -> list[Any]:
        return [to_python(t) for t in props.get(iri, [])]

    async def later(root: Any, info: strawberry.Info) -> list[Any]:
        return convert(await props_of(info, root.ref))

    def values(root: Any, info: strawberry.Info) -> Any:
        return convert(root.props) if root.props is not None else later(root, info)

    return values


def _single(name: str, required: bool) -> Callable[..., Any]:
    many = _values(name)

    def pick(root: Any, found: list[Any]) -> Any:
        found = sorted(found, key=str)
        return found[0] if found else (None if not required else _missing(root, name))

    async def later(root: Any, info: strawberry.Info) -> Any:
        return pick(root, await many(root, info))

    def single(root: Any, info: strawberry.Info) -> Any:
        return pick(root, many(root, info)) if root.props is not None else later(root, info)

    return single


def _missing(root: Any, name: str) -> Any:
    raise LookupError(f"{root.ref} has no {name}")


def text_field(name: str, description: str, required: bool = False) -> Any:
    return _field(_single(name, required), str if required else str | None, description)


def texts_field(name: str, description: str) -> Any:
    many = _values(name)

    async def later(root: Any, info: strawberry.Info) -> list[str]:
        return sorted(await many(root, info))

    def texts(root: Any, info: strawberry.Info) -> Any:
        return sorted(many(root, info)) if root.props is not None else later(root, info)

    return _field(texts, list[str], description)


def date_field(name: str, description: str, required: bool = False) -> Any:
    return _field(_single(name, required), date if required else date | None, description)


def decimal_field(name: str, description: str, required: bool = False) -> Any:
    return _field(_single(name, required), Decimal if required else Decimal | None, description)


def int_field(name: str, description: str) -> Any:
    return _field(_single(name, False), int | None, description)


def bool_field(name: str, description: str, required: bool = False) -> Any:
    return _field(_single(name, required), bool if required else bool | None, description)


def ref_field(name: str, returns: Any, make: Callable[[str], Any], description: str, required: bool = False) -> Any:
    """A reference to one entity: *make* builds the GraphQL object from the IRI."""
    iri = prop(name)

    async def ref(root: Any, info: strawberry.Info) -> Any:
        props = root.props if root.props is not None else await props_of(info, root.ref)
        found = sorted(t.value for t in props.get(iri, []) if isinstance(t, ox.NamedNode))
        if found:
            return with_props(make(found[0]), await props_of(info, found[0]))
        return _missing(root, name) if required else None

    return _field(ref, returns if required else Optional[returns], description)


def refs_field(name: str, returns: Any, make: Callable[[str], Any], description: str) -> Any:
    """References to several entities, in IRI order (lists of a row, e.g. an agreement's parties)."""
    iri = prop(name)

    async def refs(root: Any, info: strawberry.Info) -> list[Any]:
        found = sorted(t.value for t in (await props_of(info, root.ref)).get(iri, []) if isinstance(t, ox.NamedNode))
        return [make(i) for i in found]

    return _field(refs, list[returns], description)


@strawberry.interface(description="Anything of the graph that has a bundle id and an IRI.")
class Entity:
    ref: strawberry.Private[str]
    props: strawberry.Private[Props | None] = None  # set when fetched with its page or reference

    @strawberry.field(description="The id in the facts bundle (or the filing's slug).")
    def id(self) -> str:
        return entity_id(self.ref)

    @strawberry.field(description="The IRI of the entity in the graph, for SPARQL.")
    def iri(self) -> str:
        return self.ref


def with_props(entity: Any, props: Props) -> Any:
    """*entity* carrying its properties, so that its scalar fields answer without awaiting."""
    entity.props = props
    return entity


def lazy(module: str, name: str) -> tuple[Any, Callable[[str], Any]]:
    """(annotation, maker) for a type of another module, so type families can point at each other."""
    import importlib
    from typing import Annotated

    annotation = Annotated[name, strawberry.lazy(f"bepgraph.graphql.{module}")]

    def make(iri: str) -> Any:
        return getattr(importlib.import_module(f"bepgraph.graphql.{module}"), name)(ref=iri)

    return annotation, make
