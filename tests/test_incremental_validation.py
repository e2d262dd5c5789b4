"""Validating only what a new bundle changes gives the same findings as validating everything again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bepgraph.loading import bundle_graph, load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.run import run_validation, validate_changes

from .bundles import write_bundle

FIRST = Path(__file__).parent / "rules" / "cases" / "BEP-6.1" / "quarter-without-report-after-its-90th-day"
AS_OF = date(2002, 12, 30)
SERIES = "ppm-america-jnl-value-fund"

# refers only to the filing's entities, so it loads on its own beside the first bundle
SECOND = {
    "transactions": [
        {"id": "T-8", "date": "2002-05-01", "series": SERIES, "placed_by": "jnam", "executing_broker": "distributor",
         "directed": "true", "commission": "10.00", "best_execution": "true"},
        {"id": "T-9", "date": "2002-08-01", "series": SERIES, "placed_by": "jnam", "executing_broker": "distributor",
         "directed": "true", "commission": "10.00", "best_execution": "false"},
    ],
    # fulfils the quarter the first bundle left unreported: a derived fact changes
    "reports": [{"id": "RPT-9", "delivered": "2002-12-20", "period_start": "2002-07-01", "period_end": "2002-09-30",
                 "by": "distributor", "amounts": "true", "purposes": "true"}],
}


def test_validating_only_the_changes_equals_a_full_run(tmp_path: Path) -> None:
    second = write_bundle(tmp_path / "second", SECOND)
    store = EmbeddedStore()
    load_all(store, [FIRST], with_ontology=False)
    before = run_validation(store, AS_OF)
    assert any(f.rule == "BEP-6.1" for f in before.report.findings)

    load_all(store, [second], with_ontology=False)
    incremental = validate_changes(store, AS_OF, before, [bundle_graph(second)])

    fresh = EmbeddedStore()
    load_all(fresh, [FIRST, second], with_ontology=False)
    full = run_validation(fresh, AS_OF)

    assert incremental.report.as_dict() == full.report.as_dict()
    rules = {(f.rule, f.focus.id) for f in full.report.findings}
    assert ("BEP-4.1", "T-8") in rules and ("BEP-1.1", "T-9") in rules
    assert not any(f.rule == "BEP-6.1" for f in full.report.findings), "the new report fulfils the quarter"
    assert len(incremental.results) == len(full.results)
