"""`bepgraph validate`: exit codes, the findings JSON of findings.md, the SHACL report, filters, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib

from bepgraph.cli import main

CASES = Path(__file__).parent / "rules" / "cases"
BROKEN = CASES / "BEP-1.1" / "directed-without-best-execution"  # T-1 lacks best execution
CLEAN = CASES / "BEP-1.1" / "undirected-without-best-execution"
H1 = CASES / "BEP-H.1" / "directed-trade-on-the-compliance-date"
SERIES = "ppm-america-jnl-value-fund"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_violations_exit_1_and_json_has_the_shape_of_findings_md(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(BROKEN), "--as-of", "2002-12-31", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert list(doc) == ["as_of", "conforms", "counts", "findings"]
    assert doc["as_of"] == "2002-12-31" and doc["conforms"] is False
    assert set(doc["counts"]) == {"violation", "warning", "info"}
    assert doc["counts"]["violation"] == sum(f["severity"] == "violation" for f in doc["findings"])
    finding = next(f for f in doc["findings"] if f["rule"] == "BEP-1.1")
    assert list(finding) == ["rule", "severity", "focus", "series", "message", "citation", "evidence"]
    assert finding["focus"] == {"table": "transactions", "id": "T-1",
                                "iri": "https://w3id.org/bepgraph/id/transaction/T-1"}
    assert finding["series"] == [SERIES]
    assert finding["citation"] == ["Plan ¶1", "ICA §17(e)"]
    assert "T-1" in finding["message"]


def test_conforming_rule_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(CLEAN), "--as-of", "2002-12-31", "--rule", "BEP-1.1", "--format", "json")
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES / "BEP-3.2" / "broker-under-common-control-with-adviser"
    code, out, _ = _run(capsys, str(case), "--as-of", "2002-12-31", "--rule", "BEP-3.2", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["conforms"] is True and doc["counts"]["warning"] == 1
    assert doc["findings"][0]["evidence"], "the affiliation's relationships are the evidence"
    assert set(doc["findings"][0]["evidence"]) <= {"relationships/R-1", "relationships/R-2"}


@pytest.mark.parametrize("argv", [
    ["--as-of", "2002-13-01"],
    ["--as-of", "2002-12-31", "--rule", "BEP-99.9"],
])
def test_bad_parameters_exit_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = _run(capsys, str(BROKEN), *argv)
    assert code == 2 and out == ""
    assert "bepgraph: error:" in err and "Traceback" not in err


def test_bad_bundle_exits_2_naming_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "transactions.csv").write_text("id,date\nT-1,yesterday\n", encoding="utf-8")
    code, _, err = _run(capsys, str(tmp_path), "--as-of", "2002-12-31")
    assert code == 2 and "transactions.csv" in err and "Traceback" not in err


def test_turtle_is_a_shacl_validation_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(BROKEN), "--as-of", "2002-12-31", "--rule", "BEP-1.1", "--format", "turtle")
    assert code == 1
    g = rdflib.Graph().parse(data=out, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    report = g.value(predicate=rdflib.RDF.type, object=sh.ValidationReport)
    assert report is not None and g.value(report, sh.conforms).toPython() is False
    results = list(g.objects(report, sh.result))
    assert len(results) == 1
    assert str(g.value(results[0], sh.focusNode)) == "https://w3id.org/bepgraph/id/transaction/T-1"
    assert str(g.value(results[0], sh.sourceShape)).endswith("#BEP-1.1")


def test_rule_and_series_filters(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, str(H1), "--as-of", "2004-12-31", "--format", "json")
    everything = json.loads(out)["findings"]
    assert {f["rule"] for f in everything} > {"BEP-H.1"}
    _, out, _ = _run(capsys, str(H1), "--as-of", "2004-12-31", "--format", "json", "--rule", "BEP-H.1")
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"BEP-H.1"}
    _, out, _ = _run(capsys, str(H1), "--as-of", "2004-12-31", "--format", "json", "--series", "alger-jnl-growth-fund")
    assert json.loads(out)["findings"] == []
    _, out, _ = _run(capsys, str(H1), "--as-of", "2004-12-31", "--format", "json", "--series", SERIES)
    assert json.loads(out)["findings"] and all(SERIES in f["series"] for f in json.loads(out)["findings"])


def test_text_summary_groups_by_rule_and_series_with_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(H1), "--as-of", "2004-12-31", "--rule", "BEP-H.1")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "As of 2004-12-31, for BEP-H.1: 2 violations, 0 warnings, 0 infos."  # scoped: no verdict on the graph
    assert "BEP-H.1 (violation, 2 findings) Rule 12b-1(h)(1)" in lines
    assert f"  {SERIES}: 2 findings" in lines
    assert any(line.startswith("    transactions/T-2: Directed transaction T-2") for line in lines)
