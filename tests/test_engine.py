"""The SPARQL-compiled SHACL engine agrees with pySHACL, focuses, reports, and refuses what it cannot check."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib

from bepgraph.errors import ParameterError
from bepgraph.store import EmbeddedStore, RemoteStore, Store
from bepgraph.validation.compile import path_text
from bepgraph.validation.prebind import NESTED, WHERE, Refused, rewrite
from bepgraph.validation.engine import (
    ShapeResult,
    ShapesError,
    load_shapes,
    report_graph,
    validate,
)

from .pyshacl_reference import pyshacl_reference

CASES = Path(__file__).parent / "shacl_cases"
CASE_NAMES = sorted(p.name.removesuffix(".data.ttl") for p in CASES.glob("*.data.ttl"))
EX = "http://example.org/"
SH = "http://www.w3.org/ns/shacl#"


def load_case(store: Store, name: str) -> None:
    triples = ox.parse(path=str(CASES / f"{name}.data.ttl"), format=ox.RdfFormat.TURTLE)
    store.replace_graph(f"http://example.org/graph/{name}", ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))


def case_store(name: str) -> EmbeddedStore:
    store = EmbeddedStore()
    load_case(store, name)
    return store


def comparable(result: ShapeResult) -> tuple[object, ...]:
    """The identifying fields, with blank-node ids and literal lexical forms made engine-neutral.

    Oxigraph and rdflib canonicalize numbers differently ("1.0"^^xsd:decimal
    is "1" in one and "1.0" in the other); the value is what must agree.
    """
    value: object = result.value
    if result.value is not None and result.value.startswith('"'):
        lit = ox_literal(result.value)
        term = (rdflib.Literal(lit.value, lang=lit.language) if lit.language
                else rdflib.Literal(lit.value, datatype=lit.datatype.value))
        value = (str(term.datatype), term.language, str(term) if term.ill_typed else term.toPython())
    elif value is not None and value.startswith("_:"):
        value = "_:"
    return (re.sub(r"^_:.*", "_:", result.focus), result.shape, result.component, result.severity, result.path, value)


def ox_literal(text: str) -> ox.Literal:
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    assert isinstance(triple.object, ox.Literal)
    return triple.object


@pytest.mark.parametrize("name", CASE_NAMES)
def test_engine_finds_the_same_results_as_pyshacl(name: str) -> None:
    shapes_file = CASES / f"{name}.shapes.ttl"
    mine = validate(case_store(name), load_shapes([shapes_file]))
    reference = pyshacl_reference(rdflib.Graph().parse(CASES / f"{name}.data.ttl"), [shapes_file])
    assert mine, "every case must produce results, or it proves nothing"
    assert set(map(comparable, mine)) == set(map(comparable, reference))


def test_every_supported_component_has_a_case() -> None:
    results = [r for name in CASE_NAMES for r in validate(case_store(name), load_shapes([CASES / f"{name}.shapes.ttl"]))]
    components = {r.component.removeprefix(SH) for r in results}
    expected = {
        "MinCount", "MaxCount", "Datatype", "Class", "NodeKind", "In", "HasValue", "MinInclusive", "MaxInclusive",
        "MinExclusive", "MaxExclusive", "Pattern", "MinLength", "MaxLength", "Equals", "Disjoint", "LessThan",
        "LessThanOrEquals", "Not", "And", "Or", "Xone", "Node", "SPARQL", "Closed", "QualifiedMinCount",
        "QualifiedMaxCount", "LanguageIn", "UniqueLang",
    }
    assert {c + "ConstraintComponent" for c in expected} <= components
    assert EX + "SameSeriesComponent" in {r.component for r in results}


def test_a_dataset_is_checked_as_the_union_of_its_graphs() -> None:
    data = rdflib.Dataset()
    data.graph(rdflib.URIRef("urn:g1")).add((rdflib.URIRef(EX + "t1"), rdflib.RDF.type, rdflib.URIRef(EX + "Trade")))
    data.graph(rdflib.URIRef("urn:g2")).add((rdflib.URIRef(EX + "t1"), rdflib.URIRef(EX + "broker"), rdflib.URIRef(EX + "b1")))
    found = pyshacl_reference(data, [CASES / "counts.shapes.ttl"])
    assert {(r.focus, r.shape) for r in found} == {(EX + "t1", EX + "Trade-min2")}


@pytest.mark.parametrize("name", ["targets", "logic", "sparql", "sparql-grouped", "pairs", "nested", "custom", "qualified"])
def test_a_focused_run_equals_the_full_run_filtered_to_the_focus(name: str) -> None:
    store, shapes = case_store(name), load_shapes([CASES / f"{name}.shapes.ttl"])
    full = validate(store, shapes)
    focus = sorted({r.focus for r in full})[::2] + [EX + "not-in-the-graph"]
    assert validate(store, shapes, focus=focus) == [r for r in full if r.focus in focus]


def test_focus_nodes_beyond_one_values_block_are_all_checked() -> None:
    store = EmbeddedStore()
    lines = [f"<{EX}t{i}> <{_rdf('type')}> <{EX}Trade> ." for i in range(2500)]
    lines += [f"<{EX}t{i}> <{EX}broker> <{EX}b1> ." for i in range(0, 2500, 7)]
    store.replace_graph("urn:trades", "\n".join(lines).encode())
    shapes = load_shapes([CASES / "counts.shapes.ttl"])
    full = validate(store, shapes, only=[EX + "Trade-min1"])
    focus = [f"{EX}t{i}" for i in range(0, 2500, 2)]  # 1250 nodes: two VALUES blocks
    focused = validate(store, shapes, focus=focus, only=[EX + "Trade-min1"])
    assert len(full) == 2500 - len(range(0, 2500, 7))
    assert focused == [r for r in full if r.focus in set(focus)]
    assert len(focused) > 1000


def _rdf(name: str) -> str:
    return "http://www.w3.org/1999/02/22-rdf-syntax-ns#" + name


def test_only_runs_the_named_node_shape_with_its_property_shapes() -> None:
    store, shapes = case_store("targets"), load_shapes([CASES / "targets.shapes.ttl"])
    found = validate(store, shapes, only=[EX + "ByNode"])
    assert {r.shape for r in found} == {EX + "ByNode-amount"}
    assert [r.severity for r in found] == ["warning"]
    with pytest.raises(ParameterError, match="Nowhere"):
        validate(store, shapes, only=[EX + "Nowhere"])


def test_a_focus_that_is_not_an_iri_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="not an IRI"):
        validate(case_store("counts"), load_shapes([CASES / "counts.shapes.ttl"]), focus=["not an iri"])


def test_sparql_results_carry_messages_and_projected_bindings() -> None:
    found = validate(case_store("sparql"), load_shapes([CASES / "sparql.shapes.ttl"]))
    warning = next(r for r in found if r.shape == EX + "AffiliatedWithoutBestEx")
    assert warning.severity == "warning"
    assert warning.message == f"trade {EX}t1 with affiliated broker {EX}b2 lacks best execution"
    assert dict(warning.bindings) == {"this": f"<{EX}t1>", "broker": f"<{EX}b2>", "value": f"<{EX}b2>"}
    negative = next(r for r in found if r.shape == EX + "Trade-commission")
    assert (negative.message, negative.path) == ("negative -5", EX + "commission")
    total = next(r for r in found if r.shape == EX + "Totals")
    assert total.bindings["total"] == '"130"^^<http://www.w3.org/2001/XMLSchema#integer>'
    with_path = next(r for r in found if r.shape == EX + "WithPath")
    assert (with_path.path, with_path.value) == (EX + "series", f"<{EX}s1>")


def test_the_target_goes_at_the_head_of_the_where_group_and_this_is_projected() -> None:
    this = frozenset({"this"})
    assert rewrite("SELECT * WHERE { $this ?p ?value }", prebound=this, path=None) == (
        f"SELECT * WHERE {{{WHERE} $this ?p ?value }}")
    assert rewrite("select distinct ?value { $this $PATH ?value }", prebound=this, path="<urn:p>") == (
        f"select distinct ?this  ?value {{{WHERE} $this <urn:p> ?value }}")
    assert rewrite("# { $PATH in a comment\nSELECT $this WHERE { $this ?p '{' }", prebound=this,
                   path=None).endswith(f"{{{WHERE} $this ?p '{{' }}")


def test_a_nested_group_whose_expression_reads_this_gets_the_prebinding_and_a_triple_pattern_does_not() -> None:
    this = frozenset({"this"})
    text = "SELECT $this WHERE { { FILTER ($this = <urn:a>) } UNION { $this <urn:p> ?x } }"
    assert rewrite(text, prebound=this, path=None) == (
        f"SELECT $this WHERE {{{WHERE} {{{NESTED} FILTER ($this = <urn:a>) }} UNION {{ $this <urn:p> ?x }} }}")
    inside_exists = "SELECT $this WHERE { $this <urn:p> ?x FILTER NOT EXISTS { { ?x <urn:q> $this } } }"
    assert NESTED not in rewrite(inside_exists, prebound=this, path=None)  # SPARQL substitutes inside EXISTS
    grouped = "SELECT $this ?n WHERE { { SELECT $this (COUNT(?x) AS ?n) WHERE { $this <urn:p> ?x } GROUP BY ?x } }"
    assert "GROUP BY ?this ?x" in rewrite(grouped, prebound=this, path=None)


@pytest.mark.parametrize(("query", "reason"), [
    ("SELECT $this WHERE { $this ?p ?o MINUS { $this ?p 1 } }", "MINUS"),
    ("SELECT $this WHERE { VALUES ?o { 1 } }", "VALUES"),
    ("SELECT $this WHERE { SERVICE <urn:s> { ?a ?b ?c } }", "SERVICE"),
    ("SELECT $this WHERE { { SELECT ?o WHERE { ?s ?p ?o } } }", "must project $this"),
    ("SELECT $this WHERE { { SELECT * WHERE { FILTER($this = 1) } } }", "must project $this"),
    ("SELECT $this WHERE { BIND (true AS $this) }", "AS ?this"),
    ("SELECT $this WHERE { $this ?p ?o } LIMIT 1", "LIMIT"),
    ("SELECT $this (COUNT(?o) AS ?n) WHERE { $this ?p ?o }", "GROUP BY"),
])
def test_a_query_shacl_forbids_is_refused(query: str, reason: str) -> None:
    with pytest.raises(Refused, match=re.escape(reason)):
        rewrite(query, prebound=frozenset({"this"}), path=None)


def test_core_messages_substitute_parameters_and_core_results_have_no_bindings() -> None:
    found = validate(case_store("counts"), load_shapes([CASES / "counts.shapes.ttl"]))
    missing = next(r for r in found if r.shape == EX + "Trade-min1")
    assert (missing.focus, missing.message, dict(missing.bindings)) == (EX + "t2", "needs a broker (1)", {})


def test_the_report_is_a_w3c_validation_report() -> None:
    results = [r for name in ("paths", "sparql", "pairs") for r in
               validate(case_store(name), load_shapes([CASES / f"{name}.shapes.ttl"]))]
    turtle = report_graph(results, conforms=False)
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    report = graph.value(None, rdflib.RDF.type, rdflib.URIRef(SH + "ValidationReport"), any=False)
    assert graph.value(report, rdflib.URIRef(SH + "conforms")).toPython() is False
    assert len(list(graph.objects(report, rdflib.URIRef(SH + "result")))) == len(results)
    conforms, _, text = pyshacl.validate(graph, shacl_graph=rdflib.Graph().parse(CASES / "report.shapes.ttl"),
                                         inference="none", meta_shacl=True)
    assert conforms, text
    paths = {str(p) if isinstance(p, rdflib.URIRef) else _path(graph, p)
             for p in graph.objects(None, rdflib.URIRef(SH + "resultPath"))}
    assert {r.path for r in results if r.path} == paths
    assert "(^<http://example.org/broker>/<http://example.org/series>)" in paths


def _path(graph: rdflib.Graph, node: rdflib.term.Node) -> str:
    return path_text(graph, node)


def test_an_empty_report_conforms() -> None:
    graph = rdflib.Graph().parse(data=report_graph([], conforms=True), format="turtle")
    assert [c.toPython() for c in graph.objects(None, rdflib.URIRef(SH + "conforms"))] == [True]
    assert not list(graph.objects(None, rdflib.URIRef(SH + "result")))


SHACL_SHACL = Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl"


@pytest.mark.parametrize("name", CASE_NAMES + ["report"])
def test_the_case_shapes_are_valid_shacl(name: str) -> None:
    """pySHACL's meta_shacl check: the shapes graph against the W3C shapes for shapes."""
    shapes = rdflib.Graph().parse(CASES / f"{name}.shapes.ttl")
    conforms, _, text = pyshacl.validate(shapes, shacl_graph=rdflib.Graph().parse(SHACL_SHACL), inference="none")
    assert conforms, text


@pytest.mark.parametrize(("name", "shape", "construct"), [
    ("shapesgraph", "InShapes", "matches a blank node of the shapes graph"),
    ("byte", "Byte", "keeps such literals as xsd:integer"),
    ("minus", "Minus", "MINUS is not allowed"),
    ("unknown-prefix", "NoPrefix", "its query does not parse"),
    ("target", "Custom", "sh:target"),
    ("recursive", "Friend", "recursive"),
    ("nested-sparql", "Inner", "sh:sparql inside"),
    ("aggregate", "Totals", "must project $this"),
])
def test_an_unsupported_construct_is_a_located_error(name: str, shape: str, construct: str) -> None:
    path = CASES / f"unsupported-{name}.shapes.ttl"
    with pytest.raises(ShapesError) as caught:
        load_shapes([path])
    message = str(caught.value)
    assert str(path) in message and f"{EX}{shape}" in message and construct in message
    assert caught.value.exit_code == 2


def test_a_shapes_file_that_is_not_turtle_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("ex:Trade a sh:NodeShape .\n")
    with pytest.raises(ShapesError, match=re.escape(str(bad))):
        load_shapes([bad])
    with pytest.raises(ShapesError, match="no such shapes file"):
        load_shapes([tmp_path / "missing.ttl"])


@pytest.fixture(scope="module")
def oxigraph_server() -> Iterator[str]:
    binary = shutil.which("oxigraph") or str(Path(__import__("sys").executable).parent / "oxigraph")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the oxigraph server did not start") from None
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.server
def test_the_engine_gives_the_same_results_on_a_remote_store(oxigraph_server: str) -> None:
    remote = RemoteStore(oxigraph_server + "/query")
    try:
        for name in ("logic", "sparql", "paths"):
            load_case(remote, name)
            shapes = load_shapes([CASES / f"{name}.shapes.ttl"])
            assert validate(remote, shapes) == validate(case_store(name), shapes)
            remote.drop_graph(f"http://example.org/graph/{name}")
    finally:
        remote.close()


def test_an_ask_validator_reports_each_failing_value_node_and_this_is_prebound_in_a_union_branch() -> None:
    """SHACL 6.3: a result per value node whose ASK is false, with that node as sh:value; SHACL 5.2.1:
    $this bound inside a nested group too (t2 only, not every trade); GRAPH $shapesGraph matched in
    the shapes graph ($currentShape's ex:mark is "tagged", so only t2's "other" tag is reported)."""
    store = EmbeddedStore()
    load_case(store, "custom")  # the same data as the custom components' case
    found = validate(store, load_shapes([CASES / "ask.shapes.ttl"]))
    assert sorted((r.focus, r.shape, r.component, r.path, r.value) for r in found) == [
        (EX + "t2", EX + "Grouped", SH + "SPARQLConstraintComponent", None, f"<{EX}t2>"),
        (EX + "t2", EX + "Marked", SH + "SPARQLConstraintComponent", None, '"other"'),
        (EX + "t2", EX + "Trade-amount", EX + "MaxAmountComponent", EX + "amount",
         '"500"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    ]
