"""pySHACL as the reference the SHACL engine is checked against (test-only: it patches rdflib while it runs).

The tests compare the engine (:mod:`bepgraph.validation.engine`) with
:func:`pyshacl_reference` on a case per constraint component, on every rule
case and on the W3C SHACL test suite; ``bench/pyshacl_agreement.py`` and
the engine's benchmark use it too. It lives here, not in the package,
because it patches rdflib's query processor for the whole process while
it runs, which no server may do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import rdflib

from bepgraph.namespaces import SH
from bepgraph.validation.compile import node_id, path_text
from bepgraph.validation.engine import _SEVERITY_IRI, ShapeResult, _parse

__all__ = ["pyshacl_reference"]


def _rdflib_text(term: rdflib.term.Node) -> str:
    """An rdflib term in the same N-Triples text Oxigraph writes."""
    if isinstance(term, rdflib.URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    assert isinstance(term, rdflib.Literal)
    if term.language:
        return str(ox.Literal(str(term), language=term.language))
    dt = term.datatype
    return str(ox.Literal(str(term), datatype=ox.NamedNode(str(dt)) if dt else None))


@contextmanager
def _parsed_once() -> Iterator[None]:
    """rdflib's parse-and-translate of a query, memoized per text while inside.

    pySHACL parses a SHACL-SPARQL query again for every focus node (~96 %
    of its time on the example bundle). Translation is a pure function of
    the text, base and namespaces, and rdflib reuses its result itself for
    prepared queries, so what pySHACL evaluates is unchanged. It patches
    rdflib for the whole process while inside: for the tests and the
    benchmarks, not for a server.
    """
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    @lru_cache(maxsize=None)
    def translated(text: str, base: str | None, namespaces: tuple[tuple[str, object], ...]) -> object:
        return translateQuery(parseQuery(text), base, dict(namespaces))

    plain = processor.SPARQLProcessor.query

    def query(self, query, initBindings=None, initNs=None, base=None, DEBUG=False):  # type: ignore[no-untyped-def]
        if isinstance(query, str):
            query = translated(query, base, tuple(sorted((initNs or {}).items())))
        return plain(self, query, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = plain  # type: ignore[method-assign]


def pyshacl_reference(data: rdflib.Dataset | rdflib.Graph, shape_paths: Sequence[Path],
                      only: Iterable[str] | None = None, parse_once: bool = False,
                      implementation: str = "pyshacl") -> list[ShapeResult]:
    """The same shapes through ``pyshacl.validate`` (no inference), as ShapeResults.

    *implementation* ``"pyshacl-turbo"`` runs pyshacl-turbo instead, a
    second reference with pySHACL's ``validate()`` signature (a test extra).

    A dataset is flattened to the union of its graphs first, since the
    engine sees the union (pySHACL would check each named graph alone).
    *only* names the shapes to run, as the engine's ``validate`` takes it: the other
    shapes lose their targets (pySHACL's own ``use_shapes`` reports nothing
    for a shape whose constraints are sh:or/sh:and of other shapes).
    *parse_once* memoizes rdflib's query parsing (:func:`_parsed_once`);
    the benchmarks' "plain pySHACL" leaves it off.
    """
    if implementation == "pyshacl":
        import pyshacl as reference
    elif implementation == "pyshacl-turbo":
        import pyshacl_turbo as reference  # type: ignore[import-not-found,no-redef]
    else:
        raise ValueError(f"unknown SHACL implementation {implementation!r}")

    if isinstance(data, rdflib.Dataset):
        union = rdflib.Graph()
        for s, p, o, _ in data.quads((None, None, None, None)):
            union.add((s, p, o))
        data = union
    shapes_graph, _ = _parse(tuple(Path(p) for p in shape_paths))
    if only is not None:
        kept = {rdflib.URIRef(s) for s in only}
        for key in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
            for shape, target in list(shapes_graph.subject_objects(rdflib.URIRef(SH + key))):
                if shape not in kept:
                    shapes_graph.remove((shape, rdflib.URIRef(SH + key), target))
    with _parsed_once() if parse_once else nullcontext():
        _, report, _ = reference.validate(data, shacl_graph=shapes_graph, inference="none", advanced=True,
                                        allow_warnings=True)
    SHN = rdflib.Namespace(SH)
    severity = {v: k for k, v in _SEVERITY_IRI.items()}
    out = []
    top = report.value(None, rdflib.RDF.type, SHN.ValidationReport, any=False)
    for node in report.objects(top, SHN.result):  # not the sh:detail results nested under them
        path = report.value(node, SHN.resultPath)
        value = report.value(node, SHN.value)
        message = report.value(node, SHN.resultMessage)
        focus = report.value(node, SHN.focusNode)
        out.append(ShapeResult(
            focus=_rdflib_text(focus) if isinstance(focus, rdflib.Literal) else node_id(focus),
            shape=node_id(report.value(node, SHN.sourceShape)),
            severity=severity.get(str(report.value(node, SHN.resultSeverity)), str(report.value(node, SHN.resultSeverity))),
            message=str(message) if message is not None else "",
            component=str(report.value(node, SHN.sourceConstraintComponent)),
            path=None if path is None else (str(path) if isinstance(path, rdflib.URIRef) else path_text(report, path)),
            value=None if value is None else _rdflib_text(value),
        ))
    return sorted(set(out), key=lambda r: (r.key()[:4], r.path or "", r.value or "", r.message))
