"""Compile SHACL shapes into SPARQL SELECTs, one query per constraint over all targets.

Why a compiler: pySHACL evaluates every constraint once per focus node
through rdflib (105 s for 10k trades, see baselines.md); the same checks as
a handful of set-at-a-time SELECTs on Oxigraph take seconds at 100k. Each
constraint becomes one query whose solutions are its violations:
``?this`` is the focus node, ``?value`` the offending value node.

Query text is built only from the shapes files: IRIs and literals are
written by pyoxigraph's serializer and SHACL-SPARQL ``sh:select`` text is
the shapes author's own. Nothing a user types reaches these strings; focus
restrictions are added at run time as ``VALUES`` rows of serialized IRIs.

Nested groups are kept flat at the top level (SPARQL evaluates a nested
group on its own, without the focus bound); inside ``EXISTS`` Oxigraph
substitutes the outer bindings, which the logical components rely on.

Supported: targets (class with rdfs:subClassOf*, node, subjectsOf,
objectsOf, implicit class), sh:deactivated, node and property shapes with
predicate, inverse, sequence, alternative and */+/? paths; the Core
components min/maxCount, datatype (ill-typed literals violate), class,
nodeKind, in, hasValue, min/max In/Exclusive (incomparable values
violate), pattern+flags, min/maxLength, equals, disjoint, lessThan(OrEquals),
not/and/or/xone/node over such shapes; SHACL-SPARQL sh:sparql constraints
($this bound by the target at the head of the WHERE group, $PATH,
sh:prefixes/sh:declare). Anything else raises :class:`ShapesError`.
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

__all__ = ["Compiled", "ShapesError", "compile_shapes", "path_text", "FOCUS_SLOT", "TARGET_CLASS_VAR", "instances"]

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
RDFS_CLASS = "http://www.w3.org/2000/01/rdf-schema#Class"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
XSD = "http://www.w3.org/2001/XMLSchema#"
INSTANCE_OF = f"<{RDF_TYPE}>/<{SUBCLASS}>*"
FOCUS_SLOT = "\x00focus\x00"  # where run time puts a VALUES ?this block; never in shapes text
TARGET_CLASS_VAR = "_class"  # the class variable of a checked target (never projected)
CLASS_MARK = "\x01"  # brackets the target classes' IRI texts; run time writes their instances pattern there
_CLASS_SLOT = re.compile("\x01([^\x01]*)\x01")

# Datatypes whose lexical forms Oxigraph can check by casting (an ill-typed literal violates sh:datatype).
_CASTABLE = {XSD + n for n in ("boolean", "integer", "decimal", "float", "double", "dateTime", "date", "time",
                               "duration", "dayTimeDuration", "yearMonthDuration", "int", "long")}
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
}
_SPARQL_KEYS = {"select", "prefixes", "message", "deactivated"}


class ShapesError(InputError):
    """A shapes file uses a construct the engine cannot check; nothing was compiled."""


@dataclass(frozen=True)
class Compiled:
    """One constraint as one SELECT; ``parts`` joined by a focus ``VALUES`` block (or nothing) is the query."""

    shape: str  # sh:sourceShape, "_:id" when blank
    parent: str  # the shape whose targets give the focus nodes
    component: str
    severity: str
    message: str | None
    path: str | None  # sh:resultPath: an IRI for a predicate path, else SPARQL property path text
    parts: tuple[str, ...]
    sparql: bool = False
    params: tuple[tuple[str, str], ...] = ()  # component parameters, for {$name} in Core messages

    @property
    def target_classes(self) -> frozenset[str]:
        """The IRI texts of the target classes (their subclasses are looked up in the data at run time)."""
        return frozenset(c for part in self.parts for m in _CLASS_SLOT.finditer(part) for c in m.group(1).split())

    def query(self, focus_values: str = "", subclasses: Mapping[str, Sequence[str]] | None = None) -> str:
        """The SELECT; with *subclasses* (class IRI text -> the IRI texts of it and its subclasses)
        each target class becomes plain ``rdf:type`` patterns the planner can order, else a path."""
        text = focus_values.join(self.parts)
        return _CLASS_SLOT.sub(lambda m: instances(m.group(1).split(), subclasses, checked=self.sparql), text)


def instances(classes: Sequence[str], subclasses: Mapping[str, Sequence[str]] | None, checked: bool = False) -> str:
    """A pattern binding ?this to each instance of *classes*: through their known *subclasses*
    (class IRI text -> its subclasses' IRI texts), or the subclass path when they are not known.

    *checked* writes the class test as a filter on ``?this rdf:type ?_class``:
    the same solutions, but Oxigraph's planner, which breaks ties between
    equally selective patterns by their order, then starts from the shape
    author's own first pattern (a small derived table, say) rather than
    from every instance of the target class.
    """
    known = subclasses or {}
    if any(c not in known for c in classes):
        paths = [f"?this {INSTANCE_OF} {c} ." for c in classes]
        return paths[0] if len(paths) == 1 else " UNION ".join(f"{{ {p} }}" for p in paths)
    members = sorted({m for c in classes for m in (c, *known[c])})
    if checked:
        return f"?this <{RDF_TYPE}> ?{TARGET_CLASS_VAR} . FILTER (?{TARGET_CLASS_VAR} IN ({', '.join(members)}))"
    if len(members) == 1:
        return f"?this <{RDF_TYPE}> {members[0]} ."
    return " UNION ".join(f"{{ ?this <{RDF_TYPE}> {c} }}" for c in members)


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

    # --- reading the shapes graph -------------------------------------------------
    def fail(self, shape: Node, what: str) -> ShapesError:
        return ShapesError(f"{self.origin(shape)}: shape {node_id(shape)}: {what}")

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

    def items(self, shape: Node, key: str, node: Node) -> list[Node]:
        if (node, URIRef(RDF + "first"), None) not in self.g and str(node) != RDF + "nil":
            raise self.fail(shape, f"sh:{key} must be an RDF list")
        return list(Collection(self.g, node))

    def deactivated(self, node: Node) -> bool:
        flag = self.one(node, "deactivated")
        return flag is not None and isinstance(flag, Literal) and flag.toPython() is True

    def severity(self, shape: Node) -> str:
        value = self.one(shape, "severity")
        if value is None:
            return "violation"
        if str(value) not in _SEVERITIES:
            raise self.fail(shape, f"unsupported sh:severity {value.n3()} (use sh:Violation, sh:Warning or sh:Info)")
        return _SEVERITIES[str(value)]

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

    def fresh(self) -> str:
        return f"?_v{next(self._fresh)}"

    # --- targets --------------------------------------------------------------------
    def target(self, shape: Node) -> str | None:
        """A pattern binding ?this to every focus node of *shape*, or None when it has no target."""
        classes = [self.iri(shape, "targetClass", c) for c in self.values(shape, "targetClass")]
        if (shape, URIRef(RDF_TYPE), URIRef(RDFS_CLASS)) in self.g and isinstance(shape, URIRef):
            classes.append(node_text(shape))
        alts = [f"{CLASS_MARK}{' '.join(classes)}{CLASS_MARK}"] if classes else []
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

    def term(self, shape: Node, key: str, node: Node) -> str:
        if isinstance(node, BNode):
            raise self.fail(shape, f"sh:{key} cannot be a blank node")
        return node_text(node)

    # --- Core constraints -----------------------------------------------------------
    def constraints(self, shape: Node, focus: str, value: str | None, stack: tuple[Node, ...]
                    ) -> Iterator[tuple[str, list[tuple[str, str | None]], tuple[tuple[str, str], ...]]]:
        """(component, alternatives, params) for each Core constraint of *shape* on *focus*.

        An alternative is a flat group body (focus bound before it) and the
        variable holding the value node it reports (None: no value).
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
            dt = self.iri(shape, "datatype", node)
            cond = f"isLiteral({v}) && sameTerm(datatype({v}), {dt})"
            if str(node) in _CASTABLE:
                cond += f" && COALESCE(isLiteral({dt}({v})), false)"
            yield SH + "DatatypeConstraintComponent", each(f"!({cond})"), (("datatype", str(node)),)
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
            members = [f"sameTerm({v}, {self.term(shape, 'in', m)})" for m in self.items(shape, "in", node)]
            yield SH + "InConstraintComponent", each(f"!({' || '.join(members) or 'false'})"), ()
        for node in self.values(shape, "hasValue"):
            term = self.term(shape, "hasValue", node)
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
        yield from self.pair_constraints(shape, focus, path, v if path else (value or self.fresh()), reach)
        yield from self.logical_constraints(shape, each, stack, v)

    def distinct_values(self, focus: str, path: str, n: int) -> str:
        names = [self.fresh() for _ in range(n)]
        triples = " ".join(f"{focus} {path} {x} ." for x in names)
        apart = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        return triples + (f" FILTER({' && '.join(apart)})" if apart else "")

    def pair_constraints(self, shape: Node, focus: str, path: str | None, v: str, reach: str
                         ) -> Iterator[tuple[str, list[tuple[str, str | None]], tuple[tuple[str, str], ...]]]:
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
                yield (SH + key[0].upper() + key[1:] + "ConstraintComponent",
                       [(f"{reach}{focus} {other} {w} . FILTER(!COALESCE({v} {op} {w}, false))", v)],
                       ((key, str(node)),))

    def logical_constraints(self, shape: Node, each: Callable[[str], list[tuple[str, str | None]]],
                            stack: tuple[Node, ...], v: str
                            ) -> Iterator[tuple[str, list[tuple[str, str | None]], tuple[tuple[str, str], ...]]]:
        for node in self.values(shape, "node"):
            yield SH + "NodeConstraintComponent", each(f"EXISTS {{ {self.violation(node, v, stack)} }}"), ()
        for node in self.values(shape, "not"):
            yield SH + "NotConstraintComponent", each(f"NOT EXISTS {{ {self.violation(node, v, stack)} }}"), ()
        for key, joiner in (("and", " || "), ("or", " && ")):
            for node in self.values(shape, key):
                fails = [f"EXISTS {{ {self.violation(m, v, stack)} }}" for m in self.items(shape, key, node)]
                empty = "false" if key == "and" else "true"
                yield SH + key.capitalize() + "ConstraintComponent", each(joiner.join(fails) or empty), ()
        for node in self.values(shape, "xone"):
            passes = [f"IF(EXISTS {{ {self.violation(m, v, stack)} }}, 0, 1)" for m in self.items(shape, "xone", node)]
            yield SH + "XoneConstraintComponent", each(f"({' + '.join(passes) or '0'}) != 1"), ()

    def violation(self, shape: Node, focus: str, stack: tuple[Node, ...]) -> str:
        """A pattern with a solution exactly when *focus* does not conform to *shape* (used inside EXISTS)."""
        if self.values(shape, "sparql"):
            raise self.fail(shape, "sh:sparql inside sh:node/sh:not/sh:and/sh:or/sh:xone is not supported")
        self.check_keys(shape, _SHAPE_KEYS)
        if self.deactivated(shape):
            return "FILTER(false)"
        alts = [body for _, group, _ in self.constraints(shape, focus, None, stack) for body, _ in group]
        for prop in self.values(shape, "property"):
            self.check_property(prop)
            if not self.deactivated(prop):
                alts += [body for _, group, _ in self.constraints(prop, focus, None, stack) for body, _ in group]
        if not alts:
            return "FILTER(false)"
        return " UNION ".join(f"{{ {a} }}" for a in alts)

    def check_property(self, prop: Node) -> None:
        self.check_keys(prop, _SHAPE_KEYS)
        if self.one(prop, "path") is None:
            raise self.fail(prop, "a property shape needs sh:path")
        if self.values(prop, "property"):
            raise self.fail(prop, "sh:property inside a property shape is not supported")

    # --- top level ------------------------------------------------------------------
    def compile_shape(self, shape: Node, parent: Node, target: str) -> Iterator[Compiled]:
        if self.deactivated(shape):
            return
        severity, message = self.severity(shape), self.message(shape)
        path_node = self.one(shape, "path")
        path = None if path_node is None else str(path_node) if isinstance(path_node, URIRef) else self.path(shape, path_node)
        for component, alts, params in self.constraints(shape, "?this", "?value", ()):
            bodies = []
            for body, var in alts:
                bind = " BIND(?this AS ?value)" if var == "?this" else ""
                bodies.append(f"{{ {FOCUS_SLOT}{target} {body}{bind} }}")
            where = " UNION ".join(bodies)
            parts = tuple(f"SELECT DISTINCT ?this ?value WHERE {{ {where} }}".split(FOCUS_SLOT))
            yield Compiled(node_id(shape), node_id(parent), component, severity, message, path, parts, params=params)
        for constraint in self.values(shape, "sparql"):
            yield self.compile_sparql(shape, parent, constraint, target, severity, message, path)

    def compile_sparql(self, shape: Node, parent: Node, constraint: Node, target: str, severity: str,
                       message: str | None, path: str | None) -> Compiled:
        self.check_keys(constraint, _SPARQL_KEYS)
        select = self.one(constraint, "select")
        if select is None:
            raise self.fail(shape, "its sh:sparql constraint has no sh:select")
        prefixes = "".join(self.prefix_lines(shape, p) for p in self.values(constraint, "prefixes"))
        try:
            head, rest = split_select(str(select), None if path is None else self.path(shape, self.one(shape, "path")))
        except ValueError as exc:
            raise self.fail(shape, f"sh:select: {exc}") from None
        if self.deactivated(constraint):
            head, rest = "SELECT ?this WHERE { FILTER(false) ", "}"
        return Compiled(node_id(shape), node_id(parent), SH + "SPARQLConstraintComponent", severity,
                        self.message(constraint) or message, path,
                        (prefixes + head, f"{target} {rest}"), sparql=True)

    def prefix_lines(self, shape: Node, holder: Node) -> str:
        lines = []
        for decl in self.values(holder, "declare"):
            prefix, namespace = self.one(decl, "prefix"), self.one(decl, "namespace")
            if prefix is None or namespace is None or not re.fullmatch(r"[A-Za-z][\w.-]*|", str(prefix)):
                raise self.fail(shape, f"a sh:declare of {node_id(holder)} lacks a valid sh:prefix and sh:namespace")
            lines.append(f"PREFIX {prefix}: {ox.NamedNode(str(namespace))}\n")
        if not lines and holder not in set(self.g.subjects()):
            raise self.fail(shape, f"sh:prefixes {node_id(holder)} declares no prefixes in the shapes files")
        return "".join(lines)


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


# --- SHACL-SPARQL text ---------------------------------------------------------------
_TOKEN = re.compile(
    r"""(?P<skip>\#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|<[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<var>[?$][A-Za-z_][A-Za-z0-9_]*)|(?P<open>\{)"""
    r"""|(?P<select>(?<![\w:?$])SELECT\b)|(?P<group>(?<![\w:?$])GROUP\s+BY\b)""",
    re.IGNORECASE,
)


def split_select(text: str, path: str | None) -> tuple[str, str]:
    """*text* cut just inside its WHERE group, with $PATH replaced and ?this projected.

    The target pattern goes at the head of that group so that ``$this`` is
    bound by it, as SHACL's pre-binding asks, in one query for all targets.
    """
    out: list[str] = []
    last, select_at, open_at, projects_this, grouped = 0, -1, -1, False, False
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "var":
            name = m.group()[1:]
            if name in ("currentShape", "shapesGraph"):
                raise ValueError(f"${name} is not supported")
            if name == "PATH":
                if path is None:
                    raise ValueError("$PATH is only meaningful in a property shape")
                out.append(text[last:m.start()] + path)
                last = m.end()
            elif name == "this" and select_at >= 0 and open_at < 0:
                projects_this = True
        elif kind == "select" and select_at < 0:
            select_at = m.end()
        elif kind == "group":
            grouped = True
        elif kind == "open" and open_at < 0 and select_at >= 0:
            out.append(text[last:m.end()])
            last = m.end()
            open_at = len("".join(out))
    out.append(text[last:])
    if select_at < 0 or open_at < 0:
        raise ValueError("not a SELECT query with a WHERE group")
    joined = "".join(out)
    head, rest = joined[:open_at], joined[open_at:]
    projection = re.sub(r"\s*(WHERE)?\s*\{\s*$", "", head[select_at:], flags=re.IGNORECASE)
    if not projects_this and not re.search(r"(^|\s)\*(\s|$)", projection):
        if grouped:
            raise ValueError("an aggregate query must project $this")
        mod = re.match(r"\s*(DISTINCT|REDUCED)?", head[select_at:], re.IGNORECASE)
        cut = select_at + (mod.end() if mod else 0)
        head = f"{head[:cut]} ?this{head[cut:]}"
    return head + " ", rest


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
        target = c.target(shape)
        if target is None or c.deactivated(shape):
            continue
        if c.one(shape, "path") is not None:
            c.check_property(shape)
        out.extend(c.compile_shape(shape, shape, target))
        for prop in c.values(shape, "property"):
            c.check_property(prop)
            out.extend(c.compile_shape(prop, shape, target))
    return out
