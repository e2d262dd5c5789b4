"""The shapes graph: valid SHACL, one named shape per rule of rules.md, each with its metadata, docs current."""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
import rdflib

from bepgraph.resources import shape_files
from bepgraph.validation.catalogue import rule_catalogue
from bepgraph.validation.docs import render, rules_doc_path

RULES_MD = Path(__file__).parent.parent / "docs" / "rule-catalogue.md"  # the published copy of rules.md
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
BEP = rdflib.Namespace("https://w3id.org/bepgraph/ontology#")


def _shapes_graph() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in shape_files():
        g.parse(path, format="turtle")
    return g


def _rules_md() -> dict[str, tuple[str, list[str]]]:
    """rule id -> (severity, citation strings) from the rules table of rules.md."""
    rules = {}
    for line in RULES_MD.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"BEP-[\dH]+\.\d+", cells[0]):
            rules[cells[0]] = (cells[1], _expand(cells[4]))
    return rules


def _expand(source: str) -> list[str]:
    """'Plan ¶4, ¶5; Rule 12b-1(b)(1), (b)(2)' -> ['Plan ¶4', 'Plan ¶5', 'Rule 12b-1(b)(1)', 'Rule 12b-1(b)(2)']."""
    out = []
    for part in source.split("; "):
        head, *more = part.split(", ")
        out.append(head)
        for item in more:
            mark = item[0]
            stem = head[: head.index(mark)] if mark in "¶§" else re.sub(r"\(.*", "", head)
            out.append(stem + item)
    return out


def test_shapes_graph_passes_pyshacl_meta_shacl() -> None:
    conforms, _, text = pyshacl.validate(rdflib.Graph(), shacl_graph=_shapes_graph(), meta_shacl=True)
    assert conforms, text


def test_meta_shacl_would_reject_a_malformed_shape() -> None:
    g = _shapes_graph()
    g.add((rdflib.URIRef("urn:bad"), SH.targetClass, BEP.Transaction))
    g.add((rdflib.URIRef("urn:bad"), SH.minCount, rdflib.Literal("one")))
    with pytest.raises(pyshacl.errors.ReportableRuntimeError):
        pyshacl.validate(rdflib.Graph(), shacl_graph=g, meta_shacl=True)


def test_every_rule_of_rules_md_has_exactly_one_shape() -> None:
    g = _shapes_graph()
    ids = [str(o) for o in g.objects(None, BEP.ruleId)]
    assert sorted(ids) == sorted(_rules_md())
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rule_id", sorted(_rules_md()))
def test_shape_states_severity_message_and_citation_of_rules_md(rule_id: str) -> None:
    severity, citation = _rules_md()[rule_id]
    rule = rule_catalogue()[rule_id]
    assert rule.severity == severity
    assert list(rule.citation) == citation
    assert rule.message.endswith(".") and rule.message.count(".") >= 1
    assert rule.description
    g = _shapes_graph()
    shape = rdflib.URIRef(rule.shape)
    assert (shape, SH.severity, None) in g and (shape, SH.message, None) in g
    assert rule.shape.endswith("#" + rule_id), "shapes are named for their rule"


def test_docs_rules_md_is_generated_from_the_current_shapes() -> None:
    assert rules_doc_path().read_text(encoding="utf-8") == render(), "run python -m bepgraph.validation.docs"
