"""The W3C SHACL test suite: its manifests read, and validation reports compared as its README says.

The suite lives beside the clone, in ``../shared/w3c/shacl`` (CI puts the
shared folder there too), so it is read through a path relative to the
repository root rather than copied in.

A report is compared on the ``sh:conforms`` flag and its results as a
multiset of (focus node, result path, value, severity, source shape, source
constraint component), blank nodes matched up to isomorphism: each result
becomes one blank node carrying those six terms (a complex path as its SPARQL
text, a blank source shape with its own ``sh:path``), and the two
graphs must be isomorphic, so a repeated result counts twice and a blank
node stands for the same node wherever it recurs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic, to_isomorphic
from rdflib.term import Node

from bepgraph.validation.compile import path_text

__all__ = ["SUITE", "W3CShaclTest", "Report", "load_suite", "report_of", "same_report", "describe"]

SUITE = (Path(__file__).parents[3] / ".." / "shared" / "w3c" / "shacl").resolve()
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SH = Namespace("http://www.w3.org/ns/shacl#")
FIELDS = (SH.focusNode, SH.resultPath, SH.value, SH.resultSeverity, SH.sourceShape, SH.sourceConstraintComponent)


@dataclass(frozen=True)
class W3CShaclTest:
    id: str  # the test's IRI relative to the suite root, "core/node/class-003"
    label: str
    data: Path
    shapes: Path
    failure: bool  # mf:result sht:Failure: a validator must refuse the shapes
    expected: Graph | None  # the graph holding the expected report (the test's own file)
    report: Node | None


@dataclass(frozen=True)
class Report:
    """A validation report reduced to what the suite compares."""

    conforms: bool
    results: Graph  # one blank node per result, with the six compared terms


def _entries(manifest: Path) -> Iterator[W3CShaclTest]:
    g = Graph().parse(manifest, format="turtle")
    root = URIRef(manifest.as_uri())
    for included in g.objects(root, MF.include):
        yield from _entries(Path(str(included).removeprefix("file://")))
    for head in g.objects(root, MF.entries):
        for entry in Collection(g, head):
            action = g.value(entry, MF.action)
            result = g.value(entry, MF.result)
            yield W3CShaclTest(
                id=str(entry).removeprefix(SUITE.as_uri() + "/"),
                label=str(g.value(entry, Namespace("http://www.w3.org/2000/01/rdf-schema#").label) or ""),
                data=Path(str(g.value(action, SHT.dataGraph)).removeprefix("file://")),
                shapes=Path(str(g.value(action, SHT.shapesGraph)).removeprefix("file://")),
                failure=result == SHT.Failure,
                expected=None if result == SHT.Failure else g,
                report=None if result == SHT.Failure else result,
            )


def load_suite() -> list[W3CShaclTest]:
    """Every test of the suite's manifests, in manifest order; fails loudly when the suite is absent."""
    manifest = SUITE / "manifest.ttl"
    if not manifest.is_file():
        raise FileNotFoundError(f"the W3C SHACL test suite is not at {SUITE} (expected ../shared/w3c/shacl beside the clone)")
    return list(_entries(manifest))


def _path(graph: Graph, node: Node) -> Node:
    """A SHACL path as a term: its IRI, or a complex path's SPARQL text (so a path written as a
    fresh structure in one report and shared with the shape in the other still compares equal)."""
    if isinstance(node, URIRef):
        return node
    try:
        return Literal(path_text(graph, node))
    except ValueError:
        return Literal("not a SHACL path")


XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")


_STORED = ox.Store()


def plain(term: Node) -> Node:
    """A literal as the store holds it: Oxigraph keeps numbers and booleans in canonical form
    ("4.0"^^xsd:decimal is "4"), so the expected report's literals are compared in that form;
    and RDF 1.1's simple literal is an xsd:string, which rdflib keeps apart."""
    if not isinstance(term, Literal):
        return term
    lit = ox.Literal(str(term), language=term.language) if term.language else ox.Literal(
        str(term), datatype=ox.NamedNode(str(term.datatype or XSD_STRING)))
    _STORED.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), lit))
    stored = next(iter(_STORED.quads_for_pattern(None, None, None))).object
    _STORED.clear()
    if stored.language:
        return Literal(stored.value, lang=stored.language)
    if stored.datatype.value == str(XSD_STRING):
        return Literal(stored.value)
    return Literal(stored.value, datatype=URIRef(stored.datatype.value))


def report_of(graph: Graph, report: Node, shapes: Graph) -> Report:
    """The report at *report* in *graph*; *shapes* describes the blank source shapes (their sh:path)."""
    conforms = graph.value(report, SH.conforms)
    out = Graph()
    for result in graph.objects(report, SH.result):  # not the sh:detail results nested under them
        node = BNode()
        for key in FIELDS:
            for value in graph.objects(result, key):
                out.add((node, key, _path(graph, value) if key == SH.resultPath else plain(value)))
                if key == SH.sourceShape and isinstance(value, BNode):
                    for path in shapes.objects(value, SH.path):
                        out.add((value, SH.path, _path(shapes, path)))
    return Report(conforms=bool(conforms is not None and conforms.toPython() is True), results=out)


def expected_report(test: W3CShaclTest) -> Report:
    assert test.expected is not None and test.report is not None
    return report_of(test.expected, test.report, test.expected)


def describe(report: Report) -> str:
    """The results in a stable text, for a failing test's message."""
    lines = []
    canon = to_isomorphic(report.results)
    for result in sorted(set(canon.subjects(SH.focusNode, None)), key=str):
        terms = []
        for key in FIELDS:
            value = canon.value(result, key)
            name = key.removeprefix(str(SH)) if isinstance(key, str) else key
            terms.append(f"{name}={_short(canon, value)}")
        lines.append("  " + " ".join(terms))
    return f"conforms={report.conforms}, {len(lines)} results\n" + "\n".join(sorted(lines))


def _short(g: Graph, value: Node | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, BNode):
        path = g.value(value, SH.path)
        return f"[sh:path {_short(g, path)}]" if path is not None else "_:"
    if isinstance(value, Literal):
        return value.n3()
    return str(value).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def same_report(actual: Report, expected: Report) -> bool:
    return actual.conforms == expected.conforms and isomorphic(actual.results, expected.results)


Validator = Callable[[W3CShaclTest], Report]
