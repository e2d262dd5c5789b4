"""Each rule of rules.md against its cases: tests/rules/cases/<rule>/<case>/ is a tiny bundle
(CSV files) and expected.json (the as-of date and the findings of that rule, by focus).

Every rule has a case that breaks it and a close case that does not; only the
rule under test is judged, so a case need not be clean of other breaches.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.run import validate_graph

CASES = Path(__file__).parent / "rules" / "cases"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if (p / "expected.json").is_file())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rule_case_gives_exactly_the_expected_findings(case: Path) -> None:
    rule = case.parent.name
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    store = EmbeddedStore()
    load_all(store, [case], with_ontology=False)
    report = validate_graph(store, date.fromisoformat(expected["as_of"]), rules=[rule])
    found = sorted((f.rule, f.focus.table, f.focus.id, f.severity) for f in report.findings)
    wanted = sorted((e["rule"], e["table"], e["id"], e["severity"]) for e in expected["findings"])
    assert found == wanted, "\n".join(f.message for f in report.findings)
    for finding in report.findings:
        assert finding.citation and finding.message.endswith(".")
        assert "https://" not in finding.message
