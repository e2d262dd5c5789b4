"""SHACL-SPARQL as SPARQL the engine runs: sh:sparql constraints and SPARQL-based constraint components (ASK and
SELECT validators), pre-bound as prebind.py writes it, with $currentShape and $shapesGraph answered here."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyoxigraph as ox
from rdflib import BNode, URIRef
from rdflib.term import Node

from ..namespaces import OWL, SH
from .compiled import Compiled
from .prebind import NESTED, WHERE, Refused, graph_groups, rewrite
from .shapes_reader import ShapesReader, node_id, node_text

__all__ = ["SHAPES_GRAPH", "SparqlComponents"]

OWL_IMPORTS = OWL + "imports"
SHAPES_GRAPH = "urn:x-bepgraph:shapes-graph"  # $shapesGraph's value (its GRAPH patterns are answered at load)
SPARQL_KEYS = {"select", "prefixes", "message", "deactivated"}


class SparqlComponents(ShapesReader):
    """A shape's SHACL-SPARQL constraints and SPARQL-based constraint components, compiled."""

    _shapes_store: ox.Store | None = None  # the shapes graph in a store of its own, loaded when first asked

    def compile_sparql(self, shape: Node, parent: Node, constraint: Node, target: str, severity: str,
                       message: str | None, path: str | None) -> Compiled:
        component = "sh:SPARQLConstraintComponent"
        if constraint != shape:  # a shape may be its own sh:sparql constraint
            self.check_keys(constraint, SPARQL_KEYS)
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
                        self.message(constraint) or message, path, text, sparql=True, grouped=groups(text))

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
                        params=tuple((k, str(v)) for k, v in sorted(params.items())), grouped=sparql and groups(text))

    def select_text(self, shape: Node, text: str, prefixes: str, target: str, consts: Mapping[str, str],
                    path: str | None, component: str) -> str:
        """A SHACL-SPARQL SELECT (constraint or validator) over all of *target* at once."""
        try:
            text = self.in_shapes_graph(shape, text, prefixes, consts, component)
            rewritten = rewrite(text, prebound=frozenset({"this", *consts}), path=path).replace("\x04VALUES", "VALUES")
        except Refused as exc:
            raise self.fail(shape, f"sh:select: {exc}", component) from None
        head, nested = self.prebinding(shape, target, consts)
        if groups(rewritten) and "UNION" in target:  # several targets may bind one focus node twice, which a
            head = nested + " "                      # group would count (one class's subclasses: Compiled.query)
        return prefixes + rewritten.replace(WHERE, " " + head, 1).replace(NESTED, " " + nested + " ")

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


_AGGREGATE = re.compile(r"\b(?:COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\(", re.IGNORECASE)
_GROUPED = re.compile(r"\b(?:GROUP\s+BY|HAVING)\b", re.IGNORECASE)


def groups(text: str) -> bool:
    """Whether the outer SELECT of the query *text* groups its solutions (an aggregate in its projection,
    or GROUP BY or HAVING after its WHERE group): pre-binding $this binds each focus node once, while the
    target written as patterns may bind it once per matching class, which a group would count."""
    text = re.sub(r"(?m)^\s*#.*$", "", text)  # whole-line comments (the shapes' own explanations)
    select = re.search(r"\bSELECT\b", text, re.IGNORECASE)
    if select is None or "{" not in text:
        return False
    return bool(_AGGREGATE.search(text[select.start():text.index("{", select.start())])
                or _GROUPED.search(text[text.rindex("}") + 1:]))
