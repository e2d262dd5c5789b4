"""Compile SHACL shapes into SPARQL SELECTs, one query per constraint over all targets.

Why a compiler: pySHACL evaluates every constraint once per focus node
through rdflib, which does not scale to the bundles this project reads
(baselines.md); the same checks as a handful of set-at-a-time SELECTs on
Oxigraph do (README, Measurements). Each
constraint becomes one query whose solutions are its violations:
``?this`` is the focus node, ``?value`` the offending value node.

Query text is built only from the shapes files: IRIs and literals are
written by pyoxigraph's serializer and SHACL-SPARQL ``sh:select`` text is
the shapes author's own. Nothing a user types reaches these strings; focus
restrictions are added at run time as ``VALUES`` rows of serialized IRIs.

Nested groups are kept flat at the top level (SPARQL evaluates a nested
group on its own, without the focus bound); inside ``EXISTS`` SPARQL
substitutes the outer bindings, which the logical components rely on.
A Core query projects ``?path`` (sh:closed), ``?_k`` (what keeps results
apart that SHACL reports apart: each sh:lessThan pair, each sh:uniqueLang
language) and ``?_oN`` (the outer focus nodes of a nested property shape).

Supported (the README's table gives each compiled form and its cost): the
Core targets (class with rdfs:subClassOf*, node, subjectsOf, objectsOf,
implicit class), sh:deactivated, custom severities, node and property
shapes with every path kind, nested property shapes, and every Core
component but the derived-integer sh:datatype values Oxigraph folds into
xsd:integer; SHACL-SPARQL constraints and SPARQL-based constraint
components (ASK and SELECT validators) with pre-binding as prebind.py
writes it, $currentShape, $shapesGraph (its GRAPH patterns answered on the
shapes graph here, at load), sh:prefixes through owl:imports. Every query
is parsed here, once. Anything else raises :class:`ShapesError`, located
by file, shape and component, before any data is read.

The parts, one job each: ``shapes_reader.py`` reads the shapes graph,
``core_components.py`` writes the Core components, ``sparql_components.py``
the SHACL-SPARQL ones, ``compiled.py`` holds the compiled form and its
run-time slots; this module finds each shape's targets and walks its
property shapes.
"""


from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from rdflib import Graph, URIRef
from rdflib.term import Node

from ..namespaces import RDFS, SH
from .compiled import FOCUS_SLOT, RDF_TYPE, SUBCLASS, TARGET_CLASS_VAR, Compiled, instances
from .core_components import CoreComponents, exists
from .shapes_reader import SHAPE_KEYS, ShapesError, node_id, node_text, path_text
from .sparql_components import SparqlComponents

__all__ = ["Compiled", "ShapesError", "SUBCLASS", "TARGET_CLASS_VAR", "compile_shapes", "exists", "instances",
           "node_id", "path_text"]

RDFS_CLASS = RDFS + "Class"


class _Compiler(CoreComponents, SparqlComponents):
    """The whole compiler: a shape's targets, then its constraints and its property shapes', as Compiled queries."""

    def target(self, shape: Node) -> str | None:
        """A pattern binding ?this to every focus node of *shape*, or None when it has no target."""
        classes = [self.iri(shape, "targetClass", c) for c in self.values(shape, "targetClass")]
        if (shape, URIRef(RDF_TYPE), URIRef(RDFS_CLASS)) in self.g and isinstance(shape, URIRef):
            classes.append(node_text(shape))
        alts = [f"\x01?this|{' '.join(classes)}\x01"] if classes else []
        nodes = [n for n in self.values(shape, "targetNode")]
        if nodes:
            alts.append("VALUES ?this { " + " ".join(self.term(shape, "targetNode", n) for n in nodes) + " }")
        alts += [f"?this {self.iri(shape, 'targetSubjectsOf', p)} [] ." for p in self.values(shape, "targetSubjectsOf")]
        alts += [f"[] {self.iri(shape, 'targetObjectsOf', p)} ?this ." for p in self.values(shape, "targetObjectsOf")]
        if not alts:
            return None
        if len(alts) == 1:
            return alts[0]
        return " UNION ".join(f"{{ {a} }}" for a in alts)

    def compile_tree(self, shape: Node, parent: Node, target: str, seen: tuple[Node, ...],
                     keys: tuple[str, ...] = ()) -> Iterator[Compiled]:
        """*shape*'s constraints on the focus nodes *target* binds to ?this, then its property shapes'.

        A property shape's own property shapes take its value nodes as their
        focus nodes; the outer focus nodes stay in the results' *keys*, since
        SHACL reports a value node once for each focus node that reaches it.
        """
        if shape in seen:
            raise self.fail(shape, "recursive shapes are not supported")
        if self.deactivated(shape):
            return
        seen = seen + (shape,)
        yield from self.compile_shape(shape, parent, target, keys)
        path_node = self.one(shape, "path")
        for prop in self.values(shape, "property"):
            self.check_property(prop)
            if path_node is None:
                yield from self.compile_tree(prop, parent, target, seen, keys)
                continue
            outer = f"?_o{len(keys) + 1}"
            # a focused run limits the results' focus nodes: here the value nodes, not the outer ones
            renamed = FOCUS_SLOT.sub("", re.sub(r"\?this\b", outer, target))
            inner = (f"\x00?this\x00{{ SELECT DISTINCT ?this {' '.join((*keys, outer))} WHERE {{ {renamed} "
                     f"{outer} {self.path(shape, path_node)} ?this . }} }}")
            yield from self.compile_tree(prop, parent, inner, seen, (*keys, outer))

    def compile_shape(self, shape: Node, parent: Node, target: str, keys: tuple[str, ...] = ()) -> Iterator[Compiled]:
        severity, message = self.severity(shape), self.message(shape)
        path_node = self.one(shape, "path")
        path = None if path_node is None else str(path_node) if isinstance(path_node, URIRef) else self.path(shape, path_node)
        for component, alts, params in self.constraints(shape, "?this", "?value", (), top=True):
            bodies = []
            for body, var in alts:
                bind = f" BIND({var} AS ?value)" if var not in (None, "?value") else ""
                bodies.append(f"{{ {target} {body}{bind} }}")
            where = " UNION ".join(bodies)
            text = f"SELECT DISTINCT ?this ?value ?path ?_k {' '.join(keys)} WHERE {{ {where} }}"
            self.parses(shape, text, component)
            yield Compiled(node_id(shape), node_id(parent), component, severity, message, path, text, params=params)
        for constraint in self.values(shape, "sparql"):
            yield self.compile_sparql(shape, parent, constraint, target, severity, message, path)
        for comp in self.components:
            for custom in self.custom_params(shape, comp):
                yield self.compile_custom(shape, parent, comp, custom, target, severity, message, path)


def compile_shapes(graph: Graph, origin: Callable[[Node], str]) -> list[Compiled]:
    """Every constraint of every targeted shape in *graph*, compiled; raises ShapesError on anything else."""
    c = _Compiler(graph, origin)
    shapes = {s for s in graph.subjects(URIRef(RDF_TYPE), URIRef(SH + "NodeShape"))}
    shapes |= {s for s in graph.subjects(URIRef(RDF_TYPE), URIRef(SH + "PropertyShape"))}
    for key in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "property", "sparql"):
        shapes |= set(graph.subjects(URIRef(SH + key), None))
    for pred in ("target",):
        for s in graph.subjects(URIRef(SH + pred), None):
            raise c.fail(s, f"sh:{pred} (SPARQL-based targets) is not supported by the engine")
    out: list[Compiled] = []
    for shape in sorted(shapes, key=str):
        c.check_keys(shape, SHAPE_KEYS)
        if c.values(shape, "select") and shape not in c.values(shape, "sparql"):
            raise c.fail(shape, "sh:select on a shape that is not its own sh:sparql constraint")
        target = c.target(shape)
        if target is None or c.deactivated(shape):
            continue
        if c.one(shape, "path") is not None:
            c.check_property(shape)
        out.extend(c.compile_tree(shape, shape, "\x00?this\x00" + target, ()))
    return out
