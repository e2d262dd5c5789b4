"""The W3C SHACL test suite through the engine: each test's data in an EmbeddedStore, its shapes
through ``load_shapes``, the report compared as the suite's README says (suite.py).

``mf:result sht:Failure`` means the shapes must be refused: here, a
:class:`ShapesError` from ``load_shapes``, before any data is read.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from bepgraph.store import EmbeddedStore
from bepgraph.validation.engine import ShapeResult, Shapes, ShapesError, load_shapes, validate

from .suite import SH, Report, W3CShaclTest, describe, expected_report, load_suite, plain, same_report

TESTS = load_suite()
# The tests the engine refuses instead of passing: test id -> (shape, component, reason) its ShapesError must name.
REFUSED = {
    # Oxigraph stores "1"^^xsd:byte as "1"^^xsd:integer, so no sh:datatype xsd:byte answer can be right
    "core/property/datatype-ill-formed": ("http://example.org/shacl-test/s", "sh:DatatypeConstraintComponent",
                                          "keeps such literals as xsd:integer"),
}


def _term(text: str) -> Node:
    """An engine result's node (an IRI, ``_:id`` or N-Triples text) as an rdflib term."""
    if text.startswith("_:"):
        return BNode(text[2:])
    if text.startswith("<"):
        return URIRef(text[1:-1])
    if not text.startswith('"'):
        return URIRef(text)
    lit = next(iter(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES))).object
    assert isinstance(lit, ox.Literal)
    if lit.language:
        return Literal(lit.value, lang=lit.language)
    return plain(Literal(lit.value, datatype=URIRef(lit.datatype.value)))


_SEVERITY = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}


def engine_report(results: list[ShapeResult], shapes: Shapes) -> Report:
    """The engine's results as a suite Report (blank source shapes described from the shapes graph)."""
    from .suite import _path  # the same path text both sides

    out = Graph()
    for r in results:
        node = BNode()
        out.add((node, SH.focusNode, _term(r.focus)))
        out.add((node, SH.resultSeverity, _SEVERITY.get(r.severity, URIRef(r.severity))))
        out.add((node, SH.sourceConstraintComponent, URIRef(r.component)))
        shape = _term(r.shape)
        out.add((node, SH.sourceShape, shape))
        if isinstance(shape, BNode):
            for path in shapes.graph.objects(shape, SH.path):
                out.add((shape, SH.path, _path(shapes.graph, path)))
        if r.path is not None:
            out.add((node, SH.resultPath, Literal(r.path) if r.path.startswith(("(", "^")) else URIRef(r.path)))
        if r.value is not None:
            out.add((node, SH.value, _term(r.value)))
    return Report(conforms=not results, results=out)


def data_store(test: W3CShaclTest) -> EmbeddedStore:
    store = EmbeddedStore()
    quads = ox.parse(path=str(test.data), format=ox.RdfFormat.TURTLE, base_iri=test.data.as_uri())
    store.replace_graph(test.data.as_uri(), ox.serialize(quads, format=ox.RdfFormat.N_TRIPLES))
    return store


def run_engine(test: W3CShaclTest) -> Report:
    shapes = load_shapes([test.shapes])
    return engine_report(validate(data_store(test), shapes), shapes)


def test_the_suite_has_its_98_core_and_22_sparql_tests_and_one_is_refused() -> None:
    assert len(TESTS) == 120
    assert set(REFUSED) <= {t.id for t in TESTS} and len(REFUSED) <= 1
    assert sum(t.id.startswith("core/") for t in TESTS) == 98
    assert sum(t.id.startswith("sparql/") for t in TESTS) == 22
    assert len({t.id for t in TESTS}) == 120


@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_w3c_shacl(test: W3CShaclTest) -> None:
    if test.id in REFUSED:
        shape, component, reason = REFUSED[test.id]
        with pytest.raises(ShapesError) as refused:
            load_shapes([test.shapes])
        message = str(refused.value)
        assert str(test.shapes) in message and shape in message and component in message and reason in message
        return
    if test.failure:
        with pytest.raises(ShapesError):
            load_shapes([test.shapes])
        return
    actual, expected = run_engine(test), expected_report(test)
    assert same_report(actual, expected), (
        f"{test.id} ({test.label})\nexpected {describe(expected)}\nactual {describe(actual)}")
