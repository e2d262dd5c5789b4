"""The SHACL engine: shapes compiled to SPARQL once, run set-at-a-time on the store.

pySHACL stays the reference (``tests/pyshacl_reference.py``, pyshacl-turbo
the second one): the tests check that they give the same results on a case per
constraint component, on every rule case and on the W3C SHACL test suite
(tests/w3c/shacl), and the benchmark (``bench/bench_validation_engine.py``)
measures both. The engine
exists because pySHACL checks one focus node at a time through rdflib,
far too slow for a million trades (README, Measurements).

Every query goes through :meth:`bepgraph.store.Store.query`, so the engine
runs the same on the embedded and the remote store; the default graph is
the union of the named graphs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from ..errors import ParameterError
from ..namespaces import RDF, SH, XSD
from ..store import Store, Term, solutions
from .compile import SUBCLASS, TARGET_CLASS_VAR, Compiled, ShapesError, compile_shapes

__all__ = [
    "Bindings",
    "ShapeResult",
    "Shapes",
    "ShapesError",
    "focus_blocks",
    "in_order",
    "order_key",
    "load_shapes",
    "report_graph",
    "run_constraint",
    "subclasses_of",
    "validate",
]

FOCUS_BATCH = 1000  # larger VALUES blocks make Oxigraph's queries far slower (baselines.md; README, Measurements)
_SEVERITY_IRI = {"violation": SH + "Violation", "warning": SH + "Warning", "info": SH + "Info"}
_INTERNAL = re.compile(r"_(?:o\d+|k|v\d+)")  # the compiler's own variables (keys, outer focus nodes)
_TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


class Bindings(Mapping[str, str]):
    """An immutable, hashable mapping of SPARQL variable names to N-Triples terms."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return f"Bindings({self._items!r})"


@dataclass(frozen=True)
class ShapeResult:
    """One sh:ValidationResult, in plain strings so every door can use it."""

    focus: str
    shape: str
    severity: str
    message: str
    component: str
    path: str | None  # an IRI, or a SPARQL property path for complex paths
    value: str | None  # N-Triples text
    bindings: Mapping[str, str] = field(default_factory=Bindings)

    def __post_init__(self) -> None:
        if not isinstance(self.bindings, Bindings):
            object.__setattr__(self, "bindings", Bindings(self.bindings))

    def key(self) -> tuple[str, str, str, str, str | None, str | None]:
        """What identifies a result across validators (messages and bindings may differ)."""
        return (self.focus, self.shape, self.component, self.severity, self.path, self.value)


@dataclass(frozen=True)
class Shapes:
    """Shapes files parsed and compiled once; cheap to run many times."""

    paths: tuple[Path, ...]
    constraints: tuple[Compiled, ...]
    graph: rdflib.Graph = field(default_factory=rdflib.Graph, compare=False, repr=False)  # the parsed shapes

    @property
    def shape_iris(self) -> frozenset[str]:
        return frozenset(c.shape for c in self.constraints) | frozenset(c.parent for c in self.constraints)


@contextmanager
def _lexical_forms() -> Iterator[None]:
    """rdflib parsing with the shapes' literals as written: SHACL's ``true`` is the term
    "true"^^xsd:boolean, and "1"^^xsd:boolean, which rdflib would normalize into it, is not.
    (The flag is rdflib's process-wide default; shapes are parsed once, at load.)"""
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def _parse(paths: Sequence[Path]) -> tuple[rdflib.Graph, dict[rdflib.term.Node, str]]:
    graph = rdflib.Graph()
    origin: dict[rdflib.term.Node, str] = {}
    for path in paths:
        part = rdflib.Graph()
        try:
            with _lexical_forms():
                part.parse(path, format="turtle")
        except FileNotFoundError:
            raise ShapesError(f"{path}: no such shapes file") from None
        except Exception as exc:  # rdflib raises many parser exception types
            raise ShapesError(f"{path}: not valid Turtle: {exc}") from None
        for s in part.subjects():
            origin.setdefault(s, str(path))
        graph += part
    return graph, origin


def load_shapes(paths: Sequence[Path]) -> Shapes:
    """Parse the shapes files (prefix declarations may sit in any of them) and compile every constraint."""
    paths = tuple(Path(p) for p in paths)
    graph, origin = _parse(paths)
    fallback = ", ".join(str(p) for p in paths)
    return Shapes(paths, tuple(compile_shapes(graph, lambda node: origin.get(node, fallback))), graph)


def focus_blocks(focus: Iterable[str]) -> list[list[str]]:
    """*focus* IRIs as IRI texts in blocks of at most FOCUS_BATCH (ParameterError for one that is not an IRI)."""
    terms = []
    for iri in dict.fromkeys(focus):
        try:
            terms.append(str(ox.NamedNode(iri)))
        except ValueError:
            raise ParameterError(f"focus node '{iri}' is not an IRI (blank nodes cannot be focused)") from None
    return [terms[i:i + FOCUS_BATCH] for i in range(0, len(terms), FOCUS_BATCH)]


def _selected(shapes: Shapes, only: Iterable[str] | None) -> list[Compiled]:
    if only is None:
        return list(shapes.constraints)
    wanted = set(only)
    unknown = wanted - shapes.shape_iris
    if unknown:
        raise ParameterError(f"no shape with a target is named {', '.join(sorted(unknown))}")
    return [c for c in shapes.constraints if c.shape in wanted or c.parent in wanted]


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """A node as ShapeResult.focus writes it: an IRI bare, a blank node as ``_:id``, a literal in N-Triples."""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term) if isinstance(term, ox.Literal) else term.value


def _shown(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """A node as a message shows it: an IRI or a literal's lexical form bare, a blank node as ``_:id``."""
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def _message(c: Compiled, values: Mapping[str, str]) -> str:
    if c.message is None:
        name = c.component[len(SH):].removesuffix("ConstraintComponent")
        where = f" on {c.path}" if c.path else ""
        return f"{name} constraint of {c.shape}{where} not met"
    return _TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), c.message)


def _results(c: Compiled, rows: ox.QuerySolutions) -> list[ShapeResult]:
    out = []
    names = [v.value for v in rows.variables if v.value != TARGET_CLASS_VAR]
    for row in rows:
        focus = row["this"]
        if focus is None:
            continue
        value, path = row["value"] if "value" in names else None, c.path
        bindings: dict[str, str] = {}
        if "path" in names and isinstance(row["path"], ox.NamedNode):
            path = row["path"].value  # sh:closed, or a SHACL-SPARQL ?path
        if c.sparql:
            bindings = {n: str(row[n]) for n in names if row[n] is not None and not _INTERNAL.fullmatch(n)}
            if value is None and c.path is None:
                value = focus  # SHACL: a node shape's SPARQL result without ?value reports the focus node
        subst = dict(c.params) | {n: _shown(row[n]) for n in names if row[n] is not None and not _INTERNAL.fullmatch(n)}
        out.append(ShapeResult(
            focus=_text(focus), shape=c.shape, severity=c.severity, message=_message(c, subst),
            component=c.component, path=path, value=str(value) if value is not None else None,
            bindings=bindings,
        ))
    return out


def subclasses_of(store: Store, classes: frozenset[str]) -> dict[str, list[str]]:
    """Each target class with its subclasses in the data, asked once per run.

    Why: a target written as the path ``rdf:type/rdfs:subClassOf*`` is
    evaluated per candidate row by Oxigraph (a closure walk each time);
    plain ``rdf:type`` patterns on the known classes are index lookups.
    """
    if not classes:
        return {}
    # one branch per class, its IRI written in the path: Virtuoso walks a path only from a constant
    # (a class bound by VALUES is refused, "transitive start not given"); the IRIs come from the shapes
    rows = store.query("SELECT ?class ?sub WHERE { " + " UNION ".join(
        f"{{ BIND({c} AS ?class) ?sub <{SUBCLASS}>* {c} }}" for c in sorted(classes)) + " }")
    found: dict[str, list[str]] = {c: [c] for c in classes}
    for row in solutions(rows):
        found[str(row["class"])].append(str(row["sub"]))
    # a blank-node subclass cannot be written in a query: that class keeps the path
    return {c: subs for c, subs in found.items() if all(s.startswith("<") for s in subs)}


def validate(store: Store, shapes: Shapes, *, focus: Iterable[str] | None = None,
             only: Iterable[str] | None = None,
             claimed: Callable[[Sequence[Compiled]], Iterable[Compiled]] | None = None) -> list[ShapeResult]:
    """Every result of *shapes* on the union graph of *store*, in a stable order.

    *focus* limits the run to those focus nodes (still only where a shape
    targets them), in ``VALUES`` blocks of at most 1000 IRIs; *only* to
    those shapes (a node shape brings its property shapes); *claimed* to
    the constraints it hands out (a run shared among copies: ``shares.py``).
    """
    constraints = _selected(shapes, only)
    blocks: list[list[str] | None] = [None] if focus is None else list(focus_blocks(focus))
    subclasses = subclasses_of(store, frozenset().union(*(c.target_classes for c in constraints)))
    results: list[ShapeResult] = []
    for c in constraints if claimed is None else claimed(constraints):
        results.extend(run_constraint(store, c, subclasses, blocks))
    return in_order(results)


def run_constraint(store: Store, c: Compiled, subclasses: Mapping[str, Sequence[str]],
                   blocks: Sequence[list[str] | None] = (None,), edit: Callable[[str], str] | None = None
                   ) -> list[ShapeResult]:
    """The results of one constraint (per block of focus nodes), its query text passed through *edit* if given."""
    # A Core query's DISTINCT rows are its results (its keys keep apart what SHACL reports
    # apart: each pair of sh:lessThan values, each language of sh:uniqueLang, each outer
    # focus node of a nested property shape); two constraints that find the same thing give
    # two results, as SHACL has it (two sh:class values, say). A SHACL-SPARQL query's equal
    # solutions count once: a node of two target classes is one focus node.
    found: list[ShapeResult] = []
    for block in blocks:
        text = c.query(block, subclasses)
        found += _results(c, solutions(store.query(edit(text) if edit else text)))
    return list(dict.fromkeys(found)) if c.sparql else found


def order_key(r: ShapeResult) -> tuple[object, ...]:
    """A result's place in the engine's stable order."""
    return (r.key()[:4], r.path or "", r.value or "", r.message, tuple(sorted(r.bindings.items())))


def in_order(results: Iterable[ShapeResult]) -> list[ShapeResult]:
    """Results in the engine's stable order (whatever order the constraints ran in)."""
    return sorted(results, key=order_key)


# --- the W3C report --------------------------------------------------------------------
def _node(text: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if text.startswith('"'):
        return _term(text)  # a literal focus node (sh:targetNode "x", sh:targetObjectsOf)
    return ox.BlankNode(text[2:]) if text.startswith("_:") else ox.NamedNode(text)


def _term(ntriples: str) -> Term:
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {ntriples} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    term: Term = triple.object
    return term


_PATH_TOKEN = re.compile(r"\s*(<[^>]*>|[()/|^*+?])")


def _path_quads(text: str, graph: ox.DefaultGraph) -> tuple[ox.NamedNode | ox.BlankNode, list[ox.Quad]]:
    """A SPARQL path text written by :func:`path_text` back as a SHACL path in RDF."""
    tokens = [t for t in _PATH_TOKEN.findall(text)]
    quads: list[ox.Quad] = []
    rdf = RDF

    def rdf_list(items: list[ox.NamedNode | ox.BlankNode]) -> ox.BlankNode:
        head = ox.BlankNode()
        cell: ox.NamedNode | ox.BlankNode = head
        for i, item in enumerate(items):
            nxt = ox.BlankNode() if i + 1 < len(items) else ox.NamedNode(rdf + "nil")
            quads.append(ox.Quad(cell, ox.NamedNode(rdf + "first"), item, graph))
            quads.append(ox.Quad(cell, ox.NamedNode(rdf + "rest"), nxt, graph))
            cell = nxt
        return head

    def wrap(key: str, inner: ox.NamedNode | ox.BlankNode) -> ox.BlankNode:
        node = ox.BlankNode()
        quads.append(ox.Quad(node, ox.NamedNode(SH + key), inner, graph))
        return node

    def parse(i: int) -> tuple[ox.NamedNode | ox.BlankNode, int]:
        if tokens[i] == "^":
            inner, i = parse(i + 1)
            return wrap("inversePath", inner), i
        if tokens[i].startswith("<"):
            return ox.NamedNode(tokens[i][1:-1]), i + 1
        steps, sep, i = [], None, i + 1  # "("
        while tokens[i] != ")":
            if tokens[i] in "/|":
                sep, i = tokens[i], i + 1
                continue
            step, i = parse(i)
            steps.append(step)
        i += 1
        if sep is None and i < len(tokens) and tokens[i] in "*+?":
            key = {"*": "zeroOrMorePath", "+": "oneOrMorePath", "?": "zeroOrOnePath"}[tokens[i]]
            return wrap(key, steps[0]), i + 1
        if sep == "|":
            return wrap("alternativePath", rdf_list(steps)), i
        return rdf_list(steps), i

    node, _ = parse(0)
    return node, quads


def report_graph(results: Sequence[ShapeResult], conforms: bool) -> bytes:
    """*results* as a W3C ``sh:ValidationReport`` in Turtle."""
    g = ox.DefaultGraph()
    report = ox.BlankNode()

    def sh(name: str) -> ox.NamedNode:
        return ox.NamedNode(SH + name)

    rdf_type = ox.NamedNode(RDF + "type")
    boolean = ox.NamedNode(XSD + "boolean")
    quads = [ox.Quad(report, rdf_type, sh("ValidationReport"), g),
             ox.Quad(report, sh("conforms"), ox.Literal(str(conforms).lower(), datatype=boolean), g)]
    for r in results:
        node = ox.BlankNode()
        quads += [
            ox.Quad(report, sh("result"), node, g),
            ox.Quad(node, rdf_type, sh("ValidationResult"), g),
            ox.Quad(node, sh("focusNode"), _node(r.focus), g),
            ox.Quad(node, sh("sourceShape"), _node(r.shape), g),
            ox.Quad(node, sh("resultSeverity"), ox.NamedNode(_SEVERITY_IRI.get(r.severity, r.severity)), g),
            ox.Quad(node, sh("sourceConstraintComponent"), ox.NamedNode(r.component), g),
            ox.Quad(node, sh("resultMessage"), ox.Literal(r.message), g),
        ]
        if r.path is not None:
            path, extra = _path_quads(r.path, g) if r.path.startswith(("(", "^")) else (ox.NamedNode(r.path), [])
            quads += [ox.Quad(node, sh("resultPath"), path, g), *extra]
        if r.value is not None:
            quads.append(ox.Quad(node, sh("value"), _term(r.value), g))
    return ox.serialize(quads, format=ox.RdfFormat.TURTLE,
                        prefixes={"sh": SH, "xsd": XSD}) or b""
