"""Fields read from an entity's properties: one factory per value type, so each type module only names them.

An entity is known by its IRI; its properties come in one batched query
per request depth (:class:`bepgraph.graphql.loaders.Loaders`), and every
field of it reads the same cached property map. Scalar fields are plain
attributes to strawberry (descriptors computing the value from that map),
which it resolves far more cheaply than fields with resolvers; references
keep a resolver, since they need the request's loaders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Optional, TypeVar

import pyoxigraph as ox
import strawberry

from ..namespaces import BEP, DCTERMS, RDF, RDFS, split_entity_iri
from ..store import Term
from ..terms import to_python
from .context import Context, request_loaders

__all__ = [
    "Entity",
    "lazy",
    "REFERENCE",
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
    "types_of",
]

Props = dict[str, list[Term]]
T = TypeVar("T")
RDF_TYPE = RDF + "type"
LABEL = RDFS + "label"
DCT_ID = DCTERMS + "identifier"
COMMENT = RDFS + "comment"
DESCRIPTION = DCTERMS + "description"


def prop(name: str) -> str:
    """A property IRI: a bep: local name, or a full IRI given as it is."""
    return name if ":" in name else BEP + name


def entity_id(iri: str) -> str:
    """The bundle id of an entity IRI (the IRI itself for anything else)."""
    split = split_entity_iri(iri)
    return split[1] if split else iri


async def props_of(info: strawberry.Info[Context, None], iri: str) -> Props:
    return await info.context.loaders.entities.load(iri)


async def types_of(info: strawberry.Info[Context, None], iri: str) -> set[str]:
    """The bep: local names of the entity's classes."""
    return {t.value[len(BEP):] for t in (await props_of(info, iri)).get(RDF_TYPE, []) if t.value.startswith(BEP)}


def _attribute(read: Callable[[Any], Any], returns: Any, description: str) -> Any:
    """A field strawberry resolves as a plain attribute: *read* computes it from the entity on access.

    Strawberry gives a field without a resolver its cheap path (no Info, no argument parsing, no
    extension chain): about a third of the cost of a resolver field, and a dashboard resolves hundreds
    of these per request. The attribute is a descriptor, so nothing is computed for fields not asked for.
    """
    field = strawberry.field(graphql_type=returns, description=description, default=_Read(read))
    field.init = field.repr = field.compare = False  # not a constructor argument: computed on access
    return field


class _Read:
    """A descriptor computing an entity's field from its properties when the field is read."""

    __slots__ = ("read",)

    def __init__(self, read: Callable[[Any], Any]) -> None:
        self.read = read

    def __get__(self, entity: Any, owner: type | None = None) -> Any:
        return self if entity is None else self.read(entity)


def _values(name: str) -> Callable[[Any], Any]:
    """A reader of every value of *name*: plain when the entity came with its properties (a page or a
    reference prefetches them), awaiting the request's loader otherwise."""
    iri = prop(name)

    def convert(props: Props) -> list[Any]:
        return [to_python(t) for t in props.get(iri, ())]

    async def later(entities: Any, ref: str) -> list[Any]:
        return convert(await entities.load(ref))

    def values(entity: Any) -> Any:
        return convert(entity.props) if entity.props is not None else later(request_loaders().entities, entity.ref)

    return values


def _single(name: str, required: bool) -> Callable[[Any], Any]:
    many = _values(name)

    def pick(entity: Any, found: list[Any]) -> Any:
        if len(found) > 1:
            found = sorted(found, key=str)
        return found[0] if found else (None if not required else _missing(entity, name))

    async def later(entity: Any, pending: Any) -> Any:
        return pick(entity, await pending)

    def single(entity: Any) -> Any:
        found = many(entity)
        return pick(entity, found) if entity.props is not None else later(entity, found)

    return single


def _missing(root: Any, name: str) -> Any:
    raise LookupError(f"{root.ref} has no {name}")


def text_field(name: str, description: str, required: bool = False) -> Any:
    return _attribute(_single(name, required), str if required else Optional[str], description)


def texts_field(name: str, description: str) -> Any:
    many = _values(name)

    async def later(pending: Any) -> list[str]:
        return sorted(await pending)

    def texts(entity: Any) -> Any:
        found = many(entity)
        return sorted(found) if entity.props is not None else later(found)

    return _attribute(texts, list[str], description)


def date_field(name: str, description: str, required: bool = False) -> Any:
    return _attribute(_single(name, required), date if required else Optional[date], description)


def decimal_field(name: str, description: str, required: bool = False) -> Any:
    return _attribute(_single(name, required), Decimal if required else Optional[Decimal], description)


def int_field(name: str, description: str) -> Any:
    return _attribute(_single(name, False), Optional[int], description)


def bool_field(name: str, description: str, required: bool = False) -> Any:
    return _attribute(_single(name, required), bool if required else Optional[bool], description)


def _field(resolver: Callable[..., Any], returns: Any, description: str,
           metadata: dict[str, Any] | None = None) -> Any:
    resolver.__annotations__ = {"root": Any, "info": strawberry.Info, "return": returns}
    return strawberry.field(resolver=resolver, description=description, metadata=metadata)


REFERENCE = "bepgraph.reference"  # field metadata: the property a reference field follows


def ref_field(name: str, returns: Any, make: Callable[[str], Any], description: str, required: bool = False) -> Any:
    """A reference to one entity: *make* builds the GraphQL object from the IRI, with its properties.

    A plain function returning the one awaitable it needs (the referenced entity's properties, batched
    with its siblings') rather than a coroutine function: strawberry then skips its async wrapper.
    """
    iri = prop(name)

    def target(root: Any, props: Props) -> str | None:
        found = sorted(t.value for t in props.get(iri, ()) if isinstance(t, ox.NamedNode))
        if found:
            return found[0]
        return _missing(root, name) if required else None

    async def made(entities: Any, ref: str) -> Any:
        return with_props(make(ref), await entities.load(ref))

    async def later(root: Any, info: strawberry.Info) -> Any:
        ref = target(root, await props_of(info, root.ref))
        return None if ref is None else await made(info.context.loaders.entities, ref)

    def reference(root: Any, info: strawberry.Info) -> Any:
        if root.props is None:
            return later(root, info)
        ref = target(root, root.props)
        if ref is None:
            return None
        loaders = info.context.loaders
        known = loaders.known.get(ref)  # prefetched with its page: answered without awaiting
        return with_props(make(ref), known) if known is not None else made(loaders.entities, ref)

    return _field(reference, returns if required else Optional[returns], description, {REFERENCE: iri})


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

    id = _attribute(lambda e: entity_id(e.ref), str, "The id in the facts bundle (or the filing's slug).")
    iri = _attribute(lambda e: e.ref, str, "The IRI of the entity in the graph, for SPARQL.")


def with_props(entity: Any, props: Props) -> Any:
    """*entity* carrying its properties, so that its scalar fields answer without awaiting."""
    entity.props = props
    return entity


def lazy(module: str, name: str) -> tuple[Any, Callable[[str], Any]]:
    """(annotation, maker) for a type of another module, so type families can point at each other."""
    import importlib
    from typing import Annotated

    annotation = Annotated[name, strawberry.lazy(f"bepgraph.graphql.{module}")]  # type: ignore[valid-type]
    found: list[type] = []  # the class, looked up on first use (its module may import this one's)

    def make(iri: str) -> Any:
        if not found:
            found.append(getattr(importlib.import_module(f"bepgraph.graphql.{module}"), name))
        return found[0](ref=iri)

    return annotation, make
