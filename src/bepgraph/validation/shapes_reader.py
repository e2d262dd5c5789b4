"""Reading a shapes graph: its terms as SPARQL text, its paths, and a shape's values checked as the compiler needs them.

Every refusal names the file, the shape and the component (:class:`ShapesError`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from ..errors import InputError
from ..namespaces import RDF, SH, XSD
from .compiled import RDF_TYPE, SUBCLASS, probe

__all__ = ["SHAPE_KEYS", "ShapesError", "ShapesReader", "node_id", "node_text", "path_text"]

_SEVERITIES = {SH + "Violation": "violation", SH + "Warning": "warning", SH + "Info": "info"}
# sh: predicates the compiler understands on a shape; any other sh: predicate is refused.
SHAPE_KEYS = {
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "deactivated", "severity",
    "message", "property", "path", "name", "description", "order", "group", "sparql", "minCount", "maxCount",
    "datatype", "class", "nodeKind", "in", "hasValue", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "pattern", "flags", "minLength", "maxLength", "equals", "disjoint", "lessThan",
    "lessThanOrEquals", "not", "and", "or", "xone", "node", "defaultValue", "declare",
    "closed", "ignoredProperties", "languageIn", "uniqueLang", "qualifiedValueShape", "qualifiedMinCount",
    "qualifiedMaxCount", "qualifiedValueShapesDisjoint", "prefixes", "select",
}


class ShapesError(InputError):
    """A shapes file uses a construct the engine cannot check; nothing was compiled."""



def node_text(node: Node) -> str:
    """A shapes-file term as SPARQL text, written by Oxigraph's serializer."""
    if isinstance(node, URIRef):
        return str(ox.NamedNode(str(node)))
    if isinstance(node, Literal):
        if node.language:
            return str(ox.Literal(str(node), language=node.language))
        if node.datatype:
            return str(ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype))))
        return str(ox.Literal(str(node)))
    raise TypeError(node)


def node_id(node: Node) -> str:
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def path_text(g: Graph, node: Node) -> str:
    """A SHACL path as a SPARQL property path (an IRI for a predicate path)."""
    if isinstance(node, URIRef):
        return str(ox.NamedNode(str(node)))
    first = g.value(node, URIRef(RDF + "first"))
    if first is not None:
        steps = [path_text(g, s) for s in Collection(g, node)]
        if len(steps) < 2:
            raise ValueError("a sequence path needs at least two steps")
        return "(" + "/".join(steps) + ")"
    for key, fmt in (("inversePath", "^{}"), ("zeroOrMorePath", "({})*"), ("oneOrMorePath", "({})+"),
                     ("zeroOrOnePath", "({})?")):
        inner = g.value(node, URIRef(SH + key))
        if inner is not None:
            return fmt.format(path_text(g, inner))
    alt = g.value(node, URIRef(SH + "alternativePath"))
    if alt is not None:
        return "(" + "|".join(path_text(g, s) for s in Collection(g, alt)) + ")"
    raise ValueError(f"sh:path {node.n3()} is not a SHACL path")


def _local(param: Node) -> str:
    """A parameter's variable name: the local name of its sh:path (SHACL 6.2.1)."""
    text = str(param)
    return re.split(r"[#/:]", text)[-1]


def _components(g: Graph) -> dict[Node, list[tuple[Node, bool]]]:
    """Every sh:ConstraintComponent of the shapes graph: its parameters' paths, and whether each is optional."""
    out: dict[Node, list[tuple[Node, bool]]] = {}
    kinds = set(g.transitive_subjects(URIRef(SUBCLASS), URIRef(SH + "ConstraintComponent")))
    found = {c for k in kinds for c in g.subjects(URIRef(RDF_TYPE), k)}
    for comp in sorted(found, key=str):
        params = []
        for param in g.objects(comp, URIRef(SH + "parameter")):
            path = g.value(param, URIRef(SH + "path"))
            if not isinstance(path, URIRef):
                raise ShapesError(f"constraint component {node_id(comp)}: a parameter's sh:path must be an IRI")
            if str(path).startswith(SH):
                raise ShapesError(f"constraint component {node_id(comp)}: parameter {path} redefines a SHACL Core "
                                  "parameter, which the engine does not support")
            optional = g.value(param, URIRef(SH + "optional"))
            params.append((path, isinstance(optional, Literal) and optional.toPython() is True))
        out[comp] = sorted(params, key=lambda p: str(p[0]))
    return out


class ShapesReader:
    """A shapes graph read as the compiler needs it: each value checked, each refusal located."""

    def __init__(self, graph: Graph, origin: Callable[[Node], str]) -> None:
        self.g = graph
        self.origin = origin
        self._fresh = itertools.count(1)
        self.components = _components(graph)

    def fail(self, shape: Node, what: str, component: str | None = None) -> ShapesError:
        where = f" ({component})" if component else ""
        return ShapesError(f"{self.origin(shape)}: shape {node_id(shape)}{where}: {what}")

    def values(self, node: Node, key: str) -> list[Node]:
        return sorted(self.g.objects(node, URIRef(SH + key)), key=str)

    def one(self, node: Node, key: str) -> Node | None:
        found = self.values(node, key)
        if len(found) > 1:
            raise self.fail(node, f"sh:{key} has {len(found)} values; one is allowed")
        return found[0] if found else None

    def iri(self, shape: Node, key: str, node: Node) -> str:
        if not isinstance(node, URIRef):
            raise self.fail(shape, f"sh:{key} must be an IRI, not {node.n3()}")
        return node_text(node)

    def literal(self, shape: Node, key: str, node: Node) -> Literal:
        if not isinstance(node, Literal):
            raise self.fail(shape, f"sh:{key} must be a literal, not {node.n3()}")
        return node

    def integer(self, shape: Node, key: str, node: Node) -> int:
        try:
            return int(self.literal(shape, key, node).toPython())
        except (TypeError, ValueError):
            raise self.fail(shape, f"sh:{key} must be an integer, not {node.n3()}") from None

    def flag(self, node: Node, key: str) -> bool:
        """SHACL's ``true``: the literal "true"^^xsd:boolean itself ("1"^^xsd:boolean is another term)."""
        value = self.one(node, key)
        return isinstance(value, Literal) and value.datatype == URIRef(XSD + "boolean") and str(value) == "true"

    def items(self, shape: Node, key: str, node: Node) -> list[Node]:
        if (node, URIRef(RDF + "first"), None) not in self.g and str(node) != RDF + "nil":
            raise self.fail(shape, f"sh:{key} must be an RDF list")
        return list(Collection(self.g, node))

    def deactivated(self, node: Node) -> bool:
        return self.flag(node, "deactivated")

    def severity(self, shape: Node) -> str:
        value = self.one(shape, "severity")
        if value is None:
            return "violation"
        if not isinstance(value, URIRef):
            raise self.fail(shape, f"sh:severity must be an IRI, not {value.n3()}")
        return _SEVERITIES.get(str(value), str(value))

    def message(self, node: Node) -> str | None:
        found = [m for m in self.g.objects(node, URIRef(SH + "message")) if isinstance(m, Literal)]
        found.sort(key=lambda m: (m.language not in (None, "en"), str(m)))
        return str(found[0]) if found else None

    def check_keys(self, shape: Node, allowed: set[str]) -> None:
        names = sorted({str(p)[len(SH):] for p in self.g.predicates(shape, None) if str(p).startswith(SH)})
        refused = [f"sh:{n}" for n in names if n not in allowed]
        if refused:
            verb = "is" if len(refused) == 1 else "are"
            raise self.fail(shape, f"{', '.join(refused)} {verb} not supported by the engine")

    def check_property(self, prop: Node) -> None:
        self.check_keys(prop, SHAPE_KEYS)
        if self.one(prop, "path") is None:
            raise self.fail(prop, "a property shape needs sh:path")

    def path(self, shape: Node, node: Node) -> str:
        try:
            return path_text(self.g, node)
        except ValueError as exc:
            raise self.fail(shape, str(exc)) from None

    def path_of(self, shape: Node) -> str | None:
        """The SPARQL path of a property shape's sh:path (None for a node shape)."""
        node = self.one(shape, "path")
        return None if node is None else self.path(shape, node)

    def fresh(self) -> str:
        return f"?_v{next(self._fresh)}"

    def term(self, shape: Node, key: str, node: Node) -> str:
        if isinstance(node, BNode):
            raise self.fail(shape, f"sh:{key} cannot be a blank node (a query cannot name it)")
        return node_text(node)

    def custom_params(self, shape: Node, comp: Node) -> list[dict[str, Node]]:
        """Each combination of *shape*'s values for *comp*'s parameters (none when a required one is missing)."""
        combos: list[dict[str, Node]] = [{}]
        for param, optional in self.components[comp]:
            found = sorted(self.g.objects(shape, param), key=str)
            if not found:
                if optional:
                    continue
                return []
            combos = [dict(c, **{_local(param): v}) for c in combos for v in found]
        return combos if combos != [{}] else []

    def parses(self, shape: Node, text: str, component: str) -> None:
        """The query must parse now, not at validation time: it is run once on an empty store."""
        try:
            ox.Store().query(probe(text))
        except (SyntaxError, ValueError, OSError) as exc:
            raise self.fail(shape, f"its query does not parse: {exc}", component) from None
