"""The engine, pySHACL (the reference SHACL implementation) and pyshacl-turbo judge every rule case alike.

tests/test_engine.py pins each SHACL component on small graphs; this pins the
real rule shapes on the real derived graph of every case of
tests/rules/cases, so a rule written in SPARQL that the two engines read
differently (a FILTER seeing outer variables in one and not the other)
fails here rather than in a compliance officer's hands.

pySHACL parses a SHACL-SPARQL query again for every focus node (pyparsing,
~0.1 s each); ``parse_once`` memoizes rdflib's parse-and-translate of a
query text, a pure function whose result rdflib itself reuses for prepared
queries, so the cases run in seconds. What pySHACL evaluates is unchanged.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from bepgraph.loading import load_all
from bepgraph.resources import shape_files
from bepgraph.store import EmbeddedStore
from bepgraph.validation.catalogue import rule_catalogue
from bepgraph.validation.derive import derived_for
from bepgraph.validation.engine import ShapeResult, load_shapes, validate

from .pyshacl_reference import pyshacl_reference

CASES = Path(__file__).parent / "rules" / "cases"
SPARQL_COMPONENT = "http://www.w3.org/ns/shacl#SPARQLConstraintComponent"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if (p / "expected.json").is_file())


def _compared(result: ShapeResult) -> tuple[object, ...]:
    """What both engines must agree on: the result's key and, for SHACL-SPARQL, its message,
    which the query's bindings fill in (dates, series, evidence counts)."""
    return (*result.key(), result.message if result.component == SPARQL_COMPONENT else None)


@pytest.fixture(scope="module")
def shapes():  # type: ignore[no-untyped-def]
    return load_shapes(shape_files())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_engine_and_pyshacl_give_the_same_results_on_the_rule_case(case: Path, shapes) -> None:  # type: ignore[no-untyped-def]
    rule = rule_catalogue()[case.parent.name]
    as_of = date.fromisoformat(json.loads((case / "expected.json").read_text(encoding="utf-8"))["as_of"])
    store = EmbeddedStore()
    load_all(store, [case], with_ontology=False)
    with derived_for(store, as_of):
        engine = {_compared(r) for r in validate(store, shapes, only=[rule.shape])}
        data = rdflib.Graph().parse(data=store.dump(ox.RdfFormat.N_TRIPLES), format="nt")  # the union
    reference = {_compared(r) for r in pyshacl_reference(data, shape_files(), only=[rule.shape], parse_once=True)}
    turbo = {_compared(r) for r in pyshacl_reference(data, shape_files(), only=[rule.shape],
                                                     implementation="pyshacl-turbo")}
    assert engine == reference
    assert engine == turbo
    # only the rule's own shape (and its parts) was judged: the comparison is the rule's alone
    assert {k[1] for k in engine} <= {rule.shape} | {s for s in shapes.shape_iris if s.startswith(rule.shape + "-")}
