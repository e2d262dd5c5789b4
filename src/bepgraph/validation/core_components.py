"""SHACL Core's constraint components as SPARQL: each constraint of a shape as flat group bodies whose solutions
are its violations, and a whole shape as a pattern that has a solution when a node does not conform."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence

from rdflib import Literal, URIRef
from rdflib.term import Node

from ..namespaces import SH, XSD
from ..sparql_lexer import tokens
from .compiled import INSTANCE_OF
from .shapes_reader import SHAPE_KEYS, ShapesReader, node_text

__all__ = ["Alternatives", "Component", "CoreComponents", "exists"]

#: a constraint's alternative query bodies, each with the variable holding its value node (None: no value)
Alternatives = list[tuple[str, str | None]]
#: a constraint component as the compiler yields it: its IRI, its alternatives, its parameters
Component = tuple[str, Alternatives, tuple[tuple[str, str], ...]]

# Datatypes whose lexical forms Oxigraph can check by casting (an ill-typed literal violates sh:datatype).
_CASTABLE = {XSD + n for n in ("boolean", "integer", "decimal", "float", "double", "dateTime", "date", "time",
                               "duration", "dayTimeDuration", "yearMonthDuration")}
_NODE_KINDS = {
    "IRI": "isIRI({v})", "BlankNode": "isBlank({v})", "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "(isIRI({v}) || isBlank({v}))", "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
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



class CoreComponents(ShapesReader):
    """The Core constraint components of a shape, compiled."""

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
        yield from self.value_constraints(shape, focus, path, v, reach, each)
        yield from self.string_constraints(shape, focus, path, v, top, each)
        if self.flag(shape, "closed"):
            yield SH + "ClosedConstraintComponent", self.closed(shape, focus, path, top), (("closed", "true"),)
        elif self.values(shape, "ignoredProperties"):
            raise self.fail(shape, "sh:ignoredProperties without sh:closed true has no effect; remove it or close the shape")
        yield from self.qualified(shape, focus, path, stack)
        yield from self.pair_constraints(shape, focus, path, v if path else (value or self.fresh()), reach, top)
        yield from self.logical_constraints(shape, each, stack, v)

    def value_constraints(self, shape: Node, focus: str, path: str | None, v: str, reach: str,
                          each: Callable[[str], Alternatives]) -> Iterator[Component]:
        """The value type, value range and other value constraints: datatype, class, node kind, in, hasValue."""
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

    def string_constraints(self, shape: Node, focus: str, path: str | None, v: str, top: bool,
                           each: Callable[[str], Alternatives]) -> Iterator[Component]:
        """The string-based constraints: pattern, lengths, languageIn, uniqueLang."""
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
        self.check_keys(shape, SHAPE_KEYS)
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


_NESTED_TEST = re.compile(r"\{\s*FILTER\s+(NOT\s+)?EXISTS\s*\{(?P<inner>.*)\}\s*\}", re.DOTALL)
_BRACES = tokens(r"(?P<open>\{)|(?P<close>\})")


def _balanced(text: str) -> bool:
    """Whether every brace of *text* (outside strings, comments and IRIs) is closed within it, in order."""
    depth = 0
    for match in _BRACES.finditer(text):
        if match.group("skip"):
            continue
        depth += 1 if match.group("open") else -1
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
