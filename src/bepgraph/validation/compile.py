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
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from ..errors import InputError
from ..namespaces import OWL, RDF, RDFS, SH, XSD
from .prebind import NESTED, WHERE, Refused, graph_groups, rewrite

__all__ = ["Compiled", "ShapesError", "compile_shapes", "path_text", "TARGET_CLASS_VAR", "instances"]

RDF_TYPE = RDF + "type"
RDFS_CLASS = RDFS + "Class"
SUBCLASS = RDFS + "subClassOf"
OWL_IMPORTS = OWL + "imports"
SHAPES_GRAPH = "urn:x-bepgraph:shapes-graph"  # $shapesGraph's value (its GRAPH patterns are answered at load)
INSTANCE_OF = f"<{RDF_TYPE}>/<{SUBCLASS}>*"
TARGET_CLASS_VAR = "_class"  # the class variable of a checked target (never projected)
#: a constraint's alternative query bodies, each with the variable holding its value node (None: no value)
Alternatives = list[tuple[str, str | None]]
#: a constraint component as the compiler yields it: its IRI, its alternatives, its parameters
Component = tuple[str, Alternatives, tuple[tuple[str, str], ...]]
# Run time writes a focus VALUES block at "\x00?var\x00" and a target class's instances at "\x01?var|classes\x01";
# control characters never reach a query from a shapes file (prebind refuses them in SPARQL text).
_FOCUS_SLOT = re.compile("\x00(\\?[A-Za-z_0-9]+)\x00")
_CLASS_SLOT = re.compile("\x01(\\?[A-Za-z_0-9]+)\\|([^\x01]*)\x01")

# Datatypes whose lexical forms Oxigraph can check by casting (an ill-typed literal violates sh:datatype).
_CASTABLE = {XSD + n for n in ("boolean", "integer", "decimal", "float", "double", "dateTime", "date", "time",
                               "duration", "dayTimeDuration", "yearMonthDuration")}
_SEVERITIES = {SH + "Violation": "violation", SH + "Warning": "warning", SH + "Info": "info"}
_NODE_KINDS = {
    "IRI": "isIRI({v})", "BlankNode": "isBlank({v})", "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "(isIRI({v}) || isBlank({v}))", "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
# sh: predicates the compiler understands on a shape; any other sh: predicate is refused.
_SHAPE_KEYS = {
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "deactivated", "severity",
    "message", "property", "path", "name", "description", "order", "group", "sparql", "minCount", "maxCount",
    "datatype", "class", "nodeKind", "in", "hasValue", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "pattern", "flags", "minLength", "maxLength", "equals", "disjoint", "lessThan",
    "lessThanOrEquals", "not", "and", "or", "xone", "node", "defaultValue", "declare",
    "closed", "ignoredProperties", "languageIn", "uniqueLang", "qualifiedValueShape", "qualifiedMinCount",
    "qualifiedMaxCount", "qualifiedValueShapesDisjoint", "prefixes", "select",
}
_SPARQL_KEYS = {"select", "prefixes", "message", "deactivated"}
# Oxigraph 0.5 stores "1"^^xsd:byte as "1"^^xsd:integer: these datatypes cannot be told apart after loading.
_FOLDED = {XSD + n for n in ("byte", "short", "int", "long", "unsignedByte", "unsignedShort", "unsignedInt",
                             "unsignedLong", "positiveInteger", "nonNegativeInteger", "negativeInteger",
                             "nonPositiveInteger")}
# XSD datatypes outside _CASTABLE whose lexical space a regular expression checks (None: every string).
_LEXICAL = {
    XSD + "string": None, XSD + "anyURI": None, XSD + "normalizedString": r"^[^\r\n\t]*$",
    XSD + "token": r"^([^\s]+( [^\s]+)*)?$", XSD + "language": r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$",
    XSD + "hexBinary": r"^([0-9a-fA-F]{2})*$", XSD + "gYear": r"^-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?$",
    XSD + "gYearMonth": r"^-?[0-9]{4,}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$",
}


class ShapesError(InputError):
    """A shapes file uses a construct the engine cannot check; nothing was compiled."""


@dataclass(frozen=True)
class Compiled:
    """One constraint as one SELECT over all its focus nodes (``text`` holds the run-time slots)."""

    shape: str  # sh:sourceShape, "_:id" when blank
    parent: str  # the shape whose targets give the focus nodes
    component: str
    severity: str  # "violation", "warning", "info", or a custom severity's IRI
    message: str | None
    path: str | None  # sh:resultPath: an IRI for a predicate path, else SPARQL property path text
    text: str
    sparql: bool = False  # SHACL-SPARQL: the query's own variables are the result's bindings
    params: tuple[tuple[str, str], ...] = ()  # component parameters, for {$name} in messages

    @property
    def target_classes(self) -> frozenset[str]:
        """The IRI texts of the target classes (their subclasses are looked up in the data at run time)."""
        return frozenset(c for m in _CLASS_SLOT.finditer(self.text) for c in m.group(2).split())

    def query(self, focus: Sequence[str] | None = None, subclasses: Mapping[str, Sequence[str]] | None = None) -> str:
        """The SELECT, limited to the *focus* IRI texts when given; with *subclasses* (class IRI text
        -> the IRI texts of it and its subclasses) each target class becomes plain ``rdf:type``
        patterns the planner can order, else a path."""
        values = (lambda m: f"VALUES {m.group(1)} {{ {' '.join(focus)} }} ") if focus is not None else ""
        text = _FOCUS_SLOT.sub(values, self.text)
        return _CLASS_SLOT.sub(lambda m: instances(m.group(2).split(), subclasses, checked=self.sparql,
                                                   var=m.group(1)), text)


def instances(classes: Sequence[str], subclasses: Mapping[str, Sequence[str]] | None, checked: bool = False,
              var: str = "?this") -> str:
    """A pattern binding *var* to each instance of *classes*: through their known *subclasses*
    (class IRI text -> its subclasses' IRI texts), or the subclass path when they are not known.

    *checked* writes the class test as a filter on ``?this rdf:type ?_class``:
    the same solutions, but Oxigraph's planner, which breaks ties between
    equally selective patterns by their order, then starts from the shape
    author's own first pattern (a small derived table, say) rather than
    from every instance of the target class.
    """
    known = subclasses or {}
    if any(c not in known for c in classes):
        paths = [f"{var} {INSTANCE_OF} {c} ." for c in classes]
        return paths[0] if len(paths) == 1 else " UNION ".join(f"{{ {p} }}" for p in paths)
    members = sorted({m for c in classes for m in (c, *known[c])})
    if checked:
        return f"{var} <{RDF_TYPE}> ?{TARGET_CLASS_VAR} . FILTER (?{TARGET_CLASS_VAR} IN ({', '.join(members)}))"
    if len(members) == 1:
        return f"{var} <{RDF_TYPE}> {members[0]} ."
    return " UNION ".join(f"{{ {var} <{RDF_TYPE}> {c} }}" for c in members)


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


class _Compiler:
    def __init__(self, graph: Graph, origin: Callable[[Node], str]) -> None:
        self.g = graph
        self.origin = origin
        self._fresh = itertools.count(1)
        self.components = _components(graph)
        self._shapes_store: ox.Store | None = None

    # --- reading the shapes graph -------------------------------------------------
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

    def path(self, shape: Node, node: Node) -> str:
        try:
            return path_text(self.g, node)
        except ValueError as exc:
            raise self.fail(shape, str(exc)) from None

    def path_of(self, shape: Node) -> str | None:
        """The SPARQL path of a property shape's sh:path (None for a node shape)."""
        node = self.one(shape, "path")
        return None if node is None else self.path(shape, node)

    def member(self, shape: Node, v: str, members: Sequence[Node]) -> str:
        """*v* is one of *members*, term for term (SHACL's sh:in), without a chain of sameTerm.

        Why: Virtuoso 7.2 answers ``sameTerm(?v, <a>) || sameTerm(?v, <b>)``
        as false for every value. ``IN`` compares IRIs as terms; a literal is
        the same term when its lexical form, datatype and language agree.
        """
        iris = [self.term(shape, "in", m) for m in members if isinstance(m, URIRef)]
        tests = [f"(isIRI({v}) && {v} IN ({', '.join(iris)}))"] if iris else []
        for m in members:
            if isinstance(m, Literal):
                text = self.term(shape, "in", m)
                kind = (f"LANG({v}) = LANG({text})" if m.language
                        else f"LANG({v}) = \"\" && DATATYPE({v}) = DATATYPE({text})")
                tests.append(f"(isLiteral({v}) && STR({v}) = STR({text}) && {kind})")
            elif not isinstance(m, URIRef):
                self.term(shape, "in", m)  # a blank node: refused there
        return " || ".join(tests) or "false"

    def fresh(self) -> str:
        return f"?_v{next(self._fresh)}"

    def term(self, shape: Node, key: str, node: Node) -> str:
        if isinstance(node, BNode):
            raise self.fail(shape, f"sh:{key} cannot be a blank node (a query cannot name it)")
        return node_text(node)

    # --- targets --------------------------------------------------------------------
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

    # --- Core constraints -----------------------------------------------------------
    def constraints(self, shape: Node, focus: str, value: str | None, stack: tuple[Node, ...], top: bool = False
                    ) -> Iterator[Component]:
        """(component, alternatives, params) for each Core constraint of *shape* on *focus*.

        An alternative is a flat group body (focus bound before it) and the
        variable holding the value node it reports (None: no value). At the
        *top* level a body may bind ``?path`` (sh:closed) and ``?_k`` (a key
        that keeps results apart, sh:uniqueLang's language).
        """
        if shape in stack:
            raise self.fail(shape, "recursive shapes are not supported")
        stack = stack + (shape,)
        path_node = self.one(shape, "path")
        path = self.path(shape, path_node) if path_node is not None else None
        v = (value or self.fresh()) if path else focus
        reach = f"{focus} {path} {v} . " if path else ""

        def each(cond: str) -> list[tuple[str, str | None]]:
            return [(f"{reach}FILTER({cond})", v)]

        for key, comp in (("minCount", "MinCount"), ("maxCount", "MaxCount")):
            for node in self.values(shape, key):
                if path is None:
                    raise self.fail(shape, f"sh:{key} needs sh:path (it is a property shape parameter)")
                n = self.integer(shape, key, node)
                if key == "minCount":
                    body = f"FILTER NOT EXISTS {{ {self.distinct_values(focus, path, n)} }}" if n > 0 else "FILTER(false)"
                else:
                    body = f"FILTER EXISTS {{ {self.distinct_values(focus, path, n + 1)} }}"
                yield SH + comp + "ConstraintComponent", [(body, None)], ((key, str(n)),)
        for node in self.values(shape, "datatype"):
            yield SH + "DatatypeConstraintComponent", each(f"!({self.datatype(shape, node, v)})"), (("datatype", str(node)),)
        for node in self.values(shape, "class"):
            cls = self.iri(shape, "class", node)
            yield (SH + "ClassConstraintComponent",
                   [(f"{reach}FILTER NOT EXISTS {{ {v} {INSTANCE_OF} {cls} }}", v)], (("class", str(node)),))
        for node in self.values(shape, "nodeKind"):
            kind = str(node)[len(SH):] if str(node).startswith(SH) else ""
            if kind not in _NODE_KINDS:
                raise self.fail(shape, f"unknown sh:nodeKind {node.n3()}")
            yield SH + "NodeKindConstraintComponent", each("!" + _NODE_KINDS[kind].format(v=v)), (("nodeKind", str(node)),)
        for node in self.values(shape, "in"):
            yield SH + "InConstraintComponent", each(f"!({self.member(shape, v, self.items(shape, 'in', node))})"), ()
        for node in self.values(shape, "hasValue"):
            term = self.term(shape, "hasValue", node)
            alts: Alternatives
            if path:
                alts = [(f"FILTER NOT EXISTS {{ {focus} {path} {term} }}", None)]
            else:
                alts = [(f"FILTER(!sameTerm({focus}, {term}))", None)]
            yield SH + "HasValueConstraintComponent", alts, (("hasValue", str(node)),)
        for key, op in (("minInclusive", ">="), ("maxInclusive", "<="), ("minExclusive", ">"), ("maxExclusive", "<")):
            for node in self.values(shape, key):
                bound = node_text(self.literal(shape, key, node))
                yield (SH + key[0].upper() + key[1:] + "ConstraintComponent",
                       each(f"!COALESCE({v} {op} {bound}, false)"), ((key, str(node)),))
        flags = self.one(shape, "flags")
        for node in self.values(shape, "pattern"):
            args = node_text(Literal(str(self.literal(shape, "pattern", node))))
            if flags is not None:
                args += ", " + node_text(Literal(str(self.literal(shape, "flags", flags))))
            yield (SH + "PatternConstraintComponent",
                   each(f"isBlank({v}) || !REGEX(STR({v}), {args})"), (("pattern", str(node)),))
        for key, op in (("minLength", "<"), ("maxLength", ">")):
            for node in self.values(shape, key):
                n = self.integer(shape, key, node)
                yield (SH + key[0].upper() + key[1:] + "ConstraintComponent",
                       each(f"isBlank({v}) || STRLEN(STR({v})) {op} {n}"), ((key, str(n)),))
        for node in self.values(shape, "languageIn"):
            ranges = [node_text(Literal(str(self.literal(shape, "languageIn", r))))
                      for r in self.items(shape, "languageIn", node)]
            ok = " || ".join(f"langMatches(lang({v}), {r})" for r in ranges) or "false"
            yield SH + "LanguageInConstraintComponent", each(f"!(isLiteral({v}) && ({ok}))"), ()
        if self.flag(shape, "uniqueLang"):
            if path is None:
                raise self.fail(shape, "sh:uniqueLang needs sh:path (it is a property shape parameter)")
            a, b = self.fresh(), self.fresh()
            body = (f"{focus} {path} {a} . {focus} {path} {b} . "
                    f"FILTER(!sameTerm({a}, {b}) && lang({a}) != \"\" && LCASE(lang({a})) = LCASE(lang({b})))")
            if top:
                body += f" BIND(LCASE(lang({a})) AS ?_k)"
            yield SH + "UniqueLangConstraintComponent", [(body, None)], (("uniqueLang", "true"),)
        if self.flag(shape, "closed"):
            yield SH + "ClosedConstraintComponent", self.closed(shape, focus, path, top), (("closed", "true"),)
        elif self.values(shape, "ignoredProperties"):
            raise self.fail(shape, "sh:ignoredProperties without sh:closed true has no effect; remove it or close the shape")
        yield from self.qualified(shape, focus, path, stack)
        yield from self.pair_constraints(shape, focus, path, v if path else (value or self.fresh()), reach, top)
        yield from self.logical_constraints(shape, each, stack, v)

    def datatype(self, shape: Node, node: Node, v: str) -> str:
        """A condition true when *v* is a well-formed literal of the datatype *node*."""
        dt = self.iri(shape, "datatype", node)
        name = str(node)
        if name in _FOLDED:
            raise self.fail(shape, f"sh:datatype {node.n3()} cannot be checked: the store (Oxigraph) keeps such "
                                   "literals as xsd:integer, so the original datatype is lost at load",
                            "sh:DatatypeConstraintComponent")
        cond = f"isLiteral({v}) && sameTerm(datatype({v}), {dt})"
        if name in _CASTABLE:
            return cond + f" && COALESCE(isLiteral({dt}({v})), false)"
        if name.startswith(XSD):
            if name not in _LEXICAL:
                raise self.fail(shape, f"sh:datatype {node.n3()}: the engine cannot check its lexical space",
                                "sh:DatatypeConstraintComponent")
            if _LEXICAL[name] is not None:
                cond += f" && REGEX(STR({v}), {node_text(Literal(_LEXICAL[name]))})"
        return cond

    def closed(self, shape: Node, focus: str, path: str | None, top: bool) -> list[tuple[str, str | None]]:
        """A result per triple of a value node whose predicate is neither a property shape's path nor ignored."""
        allowed = []
        for prop in self.values(shape, "property"):
            prop_path = self.one(prop, "path")
            if isinstance(prop_path, URIRef):
                allowed.append(node_text(prop_path))
        for node in self.values(shape, "ignoredProperties"):
            allowed += [self.iri(shape, "ignoredProperties", m) for m in self.items(shape, "ignoredProperties", node)]
        p, o = ("?path" if top else self.fresh()), self.fresh()
        v = self.fresh() if path else focus
        reach = f"{focus} {path} {v} . " if path else ""
        keep = f" FILTER({p} NOT IN ({', '.join(sorted(set(allowed)))}))" if allowed else ""
        return [(f"{reach}{v} {p} {o} .{keep}", o)]

    def qualified(self, shape: Node, focus: str, path: str | None, stack: tuple[Node, ...]
                  ) -> Iterator[Component]:
        """sh:qualifiedValueShape with sh:qualifiedMin/MaxCount: n distinct conforming value nodes, as minCount."""
        keys = ("qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint")
        qvs = self.values(shape, "qualifiedValueShape")
        if not qvs:
            return  # SHACL: a component whose mandatory parameter is absent does not apply
        if path is None:
            raise self.fail(shape, "sh:qualifiedValueShape needs sh:path (it is a property shape parameter)")
        siblings: list[Node] = []
        if self.flag(shape, "qualifiedValueShapesDisjoint"):
            for parent in self.g.subjects(URIRef(SH + "property"), shape):
                for prop in self.g.objects(parent, URIRef(SH + "property")):
                    siblings += [s for s in self.g.objects(prop, URIRef(SH + "qualifiedValueShape")) if s not in qvs]
        for q in qvs:
            def conforming(n: int) -> str:
                names = [self.fresh() for _ in range(n)]
                parts = [f"{focus} {path} {x} . FILTER NOT EXISTS {{ {self.violation(q, x, stack)} }}" for x in names]
                for x in names:
                    parts += [f"FILTER EXISTS {{ {self.violation(s, x, stack)} }}" for s in sorted(set(siblings), key=str)]
                apart = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
                return " ".join(parts) + (f" FILTER({' && '.join(apart)})" if apart else "")
            for node in self.values(shape, "qualifiedMinCount"):
                n = self.integer(shape, "qualifiedMinCount", node)
                body = f"FILTER NOT EXISTS {{ {conforming(n)} }}" if n > 0 else "FILTER(false)"
                yield SH + "QualifiedMinCountConstraintComponent", [(body, None)], (("qualifiedMinCount", str(n)),)
            for node in self.values(shape, "qualifiedMaxCount"):
                n = self.integer(shape, "qualifiedMaxCount", node)
                yield (SH + "QualifiedMaxCountConstraintComponent", [(f"FILTER EXISTS {{ {conforming(n + 1)} }}", None)],
                       (("qualifiedMaxCount", str(n)),))

    def distinct_values(self, focus: str, path: str, n: int) -> str:
        names = [self.fresh() for _ in range(n)]
        triples = " ".join(f"{focus} {path} {x} ." for x in names)
        apart = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        return triples + (f" FILTER({' && '.join(apart)})" if apart else "")

    def pair_constraints(self, shape: Node, focus: str, path: str | None, v: str, reach: str, top: bool
                         ) -> Iterator[Component]:
        alts: Alternatives
        for node in self.values(shape, "equals"):
            other = self.iri(shape, "equals", node)
            if path:
                alts = [(f"{reach}FILTER NOT EXISTS {{ {focus} {other} {v} }}", v),
                        (f"{focus} {other} {v} . FILTER NOT EXISTS {{ {focus} {path} {v} }}", v)]
            else:  # the value node is the focus node itself; v names the other values
                alts = [(f"FILTER NOT EXISTS {{ {focus} {other} {focus} }}", focus),
                        (f"{focus} {other} {v} . FILTER(!sameTerm({v}, {focus}))", v)]
            yield SH + "EqualsConstraintComponent", alts, (("equals", str(node)),)
        for node in self.values(shape, "disjoint"):
            other = self.iri(shape, "disjoint", node)
            alts = [(f"{reach}{focus} {other} {v} .", v)] if path else [(f"{focus} {other} {focus} .", focus)]
            yield SH + "DisjointConstraintComponent", alts, (("disjoint", str(node)),)
        for key, op in (("lessThan", "<"), ("lessThanOrEquals", "<=")):
            for node in self.values(shape, key):
                if path is None:
                    raise self.fail(shape, f"sh:{key} needs sh:path (it is a property shape parameter)")
                other, w = self.iri(shape, key, node), self.fresh()
                pair = f" BIND({w} AS ?_k)" if top else ""  # one result per pair of values (SHACL 4.5.3)
                yield (SH + key[0].upper() + key[1:] + "ConstraintComponent",
                       [(f"{reach}{focus} {other} {w} . FILTER(!COALESCE({v} {op} {w}, false)){pair}", v)],
                       ((key, str(node)),))

    def logical_constraints(self, shape: Node, each: Callable[[str], list[tuple[str, str | None]]],
                            stack: tuple[Node, ...], v: str
                            ) -> Iterator[Component]:
        for node in self.values(shape, "node"):
            yield SH + "NodeConstraintComponent", each(exists(self.violation(node, v, stack))), ()
        for node in self.values(shape, "not"):
            yield SH + "NotConstraintComponent", each(exists(self.violation(node, v, stack), negated=True)), ()
        for key, joiner in (("and", " || "), ("or", " && ")):
            for node in self.values(shape, key):
                fails = [exists(self.violation(m, v, stack)) for m in self.items(shape, key, node)]
                empty = "false" if key == "and" else "true"
                yield SH + key.capitalize() + "ConstraintComponent", each(joiner.join(fails) or empty), ()
        for node in self.values(shape, "xone"):
            passes = [f"IF({exists(self.violation(m, v, stack))}, 0, 1)" for m in self.items(shape, "xone", node)]
            yield SH + "XoneConstraintComponent", each(f"({' + '.join(passes) or '0'}) != 1"), ()

    def violation(self, shape: Node, focus: str, stack: tuple[Node, ...]) -> str:
        """A pattern with a solution exactly when *focus* does not conform to *shape* (used inside EXISTS)."""
        if shape in stack:
            raise self.fail(shape, "recursive shapes are not supported")
        if self.values(shape, "sparql"):
            raise self.fail(shape, "sh:sparql inside sh:node/sh:not/sh:and/sh:or/sh:xone/sh:qualifiedValueShape "
                                   "is not supported", "sh:SPARQLConstraintComponent")
        if any(self.custom_params(shape, comp) for comp in self.components):
            raise self.fail(shape, "a SPARQL-based constraint component inside sh:node/sh:not/sh:and/sh:or/sh:xone "
                                   "is not supported")
        self.check_keys(shape, _SHAPE_KEYS)
        if self.deactivated(shape):
            return "FILTER(false)"
        alts = [body for _, group, _ in self.constraints(shape, focus, None, stack) for body, _ in group]
        inner = stack + (shape,)
        path_node = self.one(shape, "path")
        path = self.path(shape, path_node) if path_node is not None else None
        for prop in self.values(shape, "property"):
            self.check_property(prop)
            if self.deactivated(prop):
                continue
            if path is None:
                alts.append(self.violation(prop, focus, inner))
            else:
                x = self.fresh()
                alts.append(f"{focus} {path} {x} . {{ {self.violation(prop, x, inner)} }}")
        if not alts:
            return "FILTER(false)"
        return " UNION ".join(f"{{ {a} }}" for a in alts)

    def check_property(self, prop: Node) -> None:
        self.check_keys(prop, _SHAPE_KEYS)
        if self.one(prop, "path") is None:
            raise self.fail(prop, "a property shape needs sh:path")

    # --- top level ------------------------------------------------------------------
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
            renamed = _FOCUS_SLOT.sub("", re.sub(r"\?this\b", outer, target))
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

    def prebinding(self, shape: Node, target: str, consts: Mapping[str, str]) -> tuple[str, str]:
        """The pattern at the head of the WHERE group, and the one for a nested group that needs the
        pre-bound variables (the target as a DISTINCT sub-SELECT, so it binds each focus node once)."""
        binds = "".join(f" BIND({t} AS ?{n})" for n, t in sorted(consts.items()))
        return f"{target}{binds} ", f"{{ SELECT DISTINCT ?this WHERE {{ {target} }} }}{binds}"

    def current(self, shape: Node, text: str, component: str) -> dict[str, str]:
        """$currentShape and $shapesGraph, where *text* reads them."""
        consts: dict[str, str] = {}
        if re.search(r"[?$]shapesGraph\b", text):
            consts["shapesGraph"] = f"<{SHAPES_GRAPH}>"
        if re.search(r"[?$]currentShape\b", text):
            if isinstance(shape, BNode):
                raise self.fail(shape, "$currentShape of a blank-node shape cannot be pre-bound (a query cannot "
                                       "name a blank node)", component)
            consts["currentShape"] = node_text(shape)
        return consts

    def in_shapes_graph(self, shape: Node, text: str, prefixes: str, consts: Mapping[str, str], component: str,
                        prebound: tuple[str, ...] = ("this",)) -> str:
        """*text* with each ``GRAPH $shapesGraph { P }`` replaced by P's solutions on the shapes graph.

        The data store does not hold the shapes graph, but P cannot depend
        on the data (it is matched in the shapes graph, evaluated on its
        own as any nested group); so P is answered here, once, and its
        solutions become a VALUES table the query joins with.
        """
        if re.search("[\x00-\x08]", text):
            raise self.fail(shape, "the query text holds control characters", component)
        groups = graph_groups(text, "shapesGraph")
        if not groups:
            return text
        out, last = [], 0
        for start, body_at, body_end, end in groups:
            body = text[body_at:body_end]
            used = set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", body))
            if used & set(prebound) or re.search(r"(?i)\b(GRAPH|SERVICE)\b", body):
                raise self.fail(shape, f"GRAPH $shapesGraph {{ ... }} may not read {', '.join('$' + n for n in prebound)}, "
                                       "nor name another graph", component)
            binds = " ".join(f"BIND({t} AS ?{n})" for n, t in sorted(consts.items()))
            try:
                solutions = self.shapes_store().query(f"{prefixes}SELECT * WHERE {{ {binds} {body} }}")
                assert isinstance(solutions, ox.QuerySolutions)  # a SELECT
                rows = list(solutions)
            except (SyntaxError, ValueError, OSError) as exc:
                raise self.fail(shape, f"GRAPH $shapesGraph {{ ... }} does not parse: {exc}", component) from None
            names = sorted({v.value for v in solutions.variables} - set(consts))
            if used - set(names) - set(consts):  # read by an expression only: the outer query may bind it
                raise self.fail(shape, "GRAPH $shapesGraph { ... } reads a variable it does not bind: "
                                       + ", ".join(sorted("?" + n for n in used - set(names) - set(consts))), component)
            table = []
            for row in rows:
                terms = [row[n] for n in names]
                if any(isinstance(t, ox.BlankNode) for t in terms):
                    raise self.fail(shape, "GRAPH $shapesGraph { ... } matches a blank node of the shapes graph, "
                                           "which the data cannot share", component)
                table.append("(" + " ".join("UNDEF" if t is None else str(t) for t in terms) + ")")
            if not rows:
                values = "FILTER(false)"
            elif not names:
                values = ""
            else:
                values = f"\x04VALUES ({' '.join('?' + n for n in names)}) {{ {' '.join(table)} }}"
            out += [text[last:start], f"{{ {values} }}"]
            last = end
        out.append(text[last:])
        return "".join(out)

    def shapes_store(self) -> ox.Store:
        if self._shapes_store is None:
            self._shapes_store = ox.Store()
            self._shapes_store.load(self.g.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        return self._shapes_store

    def select_text(self, shape: Node, text: str, prefixes: str, target: str, consts: Mapping[str, str],
                    path: str | None, component: str) -> str:
        """A SHACL-SPARQL SELECT (constraint or validator) over all of *target* at once."""
        try:
            text = self.in_shapes_graph(shape, text, prefixes, consts, component)
            rewritten = rewrite(text, prebound=frozenset({"this", *consts}), path=path).replace("\x04VALUES", "VALUES")
        except Refused as exc:
            raise self.fail(shape, f"sh:select: {exc}", component) from None
        head, nested = self.prebinding(shape, target, consts)
        return prefixes + rewritten.replace(WHERE, " " + head, 1).replace(NESTED, " " + nested + " ")

    def compile_sparql(self, shape: Node, parent: Node, constraint: Node, target: str, severity: str,
                       message: str | None, path: str | None) -> Compiled:
        component = "sh:SPARQLConstraintComponent"
        if constraint != shape:  # a shape may be its own sh:sparql constraint
            self.check_keys(constraint, _SPARQL_KEYS)
        select = self.one(constraint, "select")
        if select is None:
            raise self.fail(shape, "its sh:sparql constraint has no sh:select", component)
        prefixes = self.prefixes(shape, constraint)
        path_sparql = None if path is None else self.path_of(shape)
        consts = self.current(shape, str(select), component)
        text = self.select_text(shape, str(select), prefixes, target, consts, path_sparql, component)
        if self.deactivated(constraint):
            text = "SELECT ?this WHERE { FILTER(false) }"
        self.parses(shape, text, component)
        return Compiled(node_id(shape), node_id(parent), SH + "SPARQLConstraintComponent", severity,
                        self.message(constraint) or message, path, text, sparql=True)

    def parses(self, shape: Node, text: str, component: str) -> None:
        """The query must parse now, not at validation time: it is run once on an empty store."""
        probe = _FOCUS_SLOT.sub("", _CLASS_SLOT.sub(lambda m: f"{m.group(1)} <{RDF_TYPE}> <urn:x> .", text))
        try:
            ox.Store().query(probe)
        except (SyntaxError, ValueError, OSError) as exc:
            raise self.fail(shape, f"its query does not parse: {exc}", component) from None

    def prefixes(self, shape: Node, holder: Node) -> str:
        """PREFIX lines of every sh:declare reached from *holder*'s sh:prefixes, through owl:imports."""
        lines: dict[str, str] = {}
        todo = list(self.values(holder, "prefixes"))
        seen: set[Node] = set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for decl in self.values(node, "declare"):
                prefix, namespace = self.one(decl, "prefix"), self.one(decl, "namespace")
                if prefix is None or namespace is None or not re.fullmatch(r"[A-Za-z][\w.-]*|", str(prefix)):
                    raise self.fail(shape, f"a sh:declare of {node_id(node)} lacks a valid sh:prefix and sh:namespace")
                line = f"PREFIX {prefix}: {ox.NamedNode(str(namespace))}\n"
                if lines.get(str(prefix), line) != line:
                    raise self.fail(shape, f"the prefix {prefix}: is declared with two namespaces")
                lines[str(prefix)] = line
            todo += list(self.g.objects(node, URIRef(OWL_IMPORTS)))
        return "".join(lines[p] for p in sorted(lines))

    # --- SPARQL-based constraint components -----------------------------------------
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

    def compile_custom(self, shape: Node, parent: Node, comp: Node, params: Mapping[str, Node], target: str,
                       severity: str, message: str | None, path: str | None) -> Compiled:
        name = node_id(comp)
        is_property = self.one(shape, "path") is not None
        validator = None
        for key in ("propertyValidator" if is_property else "nodeValidator", "validator"):
            found = self.values(comp, key)
            if found:
                validator = found[0]
                break
        if validator is None:
            raise self.fail(shape, "the constraint component has no validator for a "
                                   f"{'property' if is_property else 'node'} shape", name)
        consts = {}
        for key, value in params.items():
            if isinstance(value, BNode):
                raise self.fail(shape, f"parameter {key} is a blank node, which a query cannot name", name)
            consts[key] = node_text(value)
        path_sparql = None if path is None else self.path_of(shape)
        select, ask = self.one(validator, "select"), self.one(validator, "ask")
        if (select is None) == (ask is None):
            raise self.fail(shape, "a validator needs exactly one of sh:select and sh:ask", name)
        prefixes = self.prefixes(shape, validator)
        consts |= self.current(shape, str(select or ask), name)
        if select is not None:
            text = self.select_text(shape, str(select), prefixes, target, consts, path_sparql, name)
            sparql = True
        else:
            text = self.ask_text(shape, str(ask), prefixes, target, consts, path_sparql, name)
            sparql = False
        self.parses(shape, text, name)
        msg = self.message(validator) or self.message(comp) or message
        return Compiled(node_id(shape), node_id(parent), str(comp), severity, msg, path, text, sparql=sparql,
                        params=tuple((k, str(v)) for k, v in sorted(params.items())))

    def ask_text(self, shape: Node, text: str, prefixes: str, target: str, consts: Mapping[str, str],
                 path: str | None, component: str) -> str:
        """An ASK validator: a result for each value node for which the ASK is false, in one query.
        The ASK body runs inside NOT EXISTS, where SPARQL substitutes $this, $value and the parameters."""
        try:
            text = self.in_shapes_graph(shape, text, prefixes, consts, component, ("this", "value"))
            rewritten = rewrite(text, prebound=frozenset({"this", "value", *consts}), path=path,
                                ask=True).replace("\x04VALUES", "VALUES")
        except Refused as exc:
            raise self.fail(shape, f"sh:ask: {exc}", component) from None
        at = rewritten.index(WHERE)
        end = rewritten.rindex("}")
        body = rewritten[at + 1:end].replace(NESTED, " ")
        head = re.fullmatch(r"(?P<prologue>(?:\s*(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>))*)\s*ASK(\s+WHERE)?\s*\{",
                            rewritten[:at], re.IGNORECASE)
        if head is None or rewritten[end + 1:].strip():
            raise self.fail(shape, "sh:ask: only an ASK query with one WHERE group is supported", component)
        binds = "".join(f" BIND({t} AS ?{n})" for n, t in sorted(consts.items()))
        reach = f"?this {path} ?value ." if path else "BIND(?this AS ?value)"
        return (f"{prefixes}{head.group('prologue')}\nSELECT DISTINCT ?this ?value WHERE {{ {target} {reach}{binds} "
                f"FILTER NOT EXISTS {{ {body} }} }}")


_NESTED_TEST = re.compile(r"\{\s*FILTER\s+(NOT\s+)?EXISTS\s*\{(?P<inner>.*)\}\s*\}", re.DOTALL)
_SKIP = re.compile(r'''"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|<[^<>"{}|^`\\\s]*>|[{}]''')


def _balanced(text: str) -> bool:
    """Whether every brace of *text* (outside strings and IRIs) is closed within it, in order."""
    depth = 0
    for match in _SKIP.finditer(text):
        token = match.group()
        if token in "{}":
            depth += 1 if token == "{" else -1
            if depth < 0:
                return False
    return depth == 0


def exists(pattern: str, negated: bool = False) -> str:
    """``EXISTS { pattern }`` (``NOT EXISTS`` when *negated*), a lone nested test lifted out.

    ``EXISTS { { FILTER NOT EXISTS { X } } }`` is ``NOT EXISTS { X }``, and
    so on for each sign: the same answer, without the EXISTS nested in
    EXISTS that Virtuoso 7.2's compiler fails on (sh:and/sh:or/sh:not of
    value tests).
    """
    match = _NESTED_TEST.fullmatch(pattern.strip())
    if match and _balanced(match.group("inner")):
        inner_negated = bool(match.group(1))
        return exists(match.group("inner"), negated != inner_negated)
    return f"{'NOT ' if negated else ''}EXISTS {{ {pattern} }}"


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


# --- paths ---------------------------------------------------------------------------
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
        c.check_keys(shape, _SHAPE_KEYS)
        if c.values(shape, "select") and shape not in c.values(shape, "sparql"):
            raise c.fail(shape, "sh:select on a shape that is not its own sh:sparql constraint")
        target = c.target(shape)
        if target is None or c.deactivated(shape):
            continue
        if c.one(shape, "path") is not None:
            c.check_property(shape)
        out.extend(c.compile_tree(shape, shape, "\x00?this\x00" + target, ()))
    return out
