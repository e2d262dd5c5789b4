"""Validating only what a new bundle changes gives the same findings as validating everything again."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from bepgraph.loading import bundle_graph, load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.run import affected_focus, derived_triples, run_validation, validate_changes

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


EXAMPLE = Path(__file__).parents[1] / "examples" / "jnl-2002-2005"
EXAMPLE_AS_OF = date(2005, 7, 31)


def _rows(table: str) -> list[dict[str, str]]:
    with (EXAMPLE / f"{table}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _change_of_trades(count: int) -> dict[str, list[dict[str, str]]]:
    """New trades (copies of the example's last ones under new ids) with the rows they refer to, repeated."""
    trades = [dict(row, id="C-" + row["id"]) for row in _rows("transactions")[-count:]]
    return {"transactions": trades, "organizations": _rows("organizations"), "series": _rows("series"),
            "agreements": _rows("agreements")}


def test_new_trades_that_repeat_the_rows_they_refer_to_are_validated_alone_and_equal_a_full_run(
        tmp_path: Path) -> None:
    change = write_bundle(tmp_path / "change", _change_of_trades(200))
    store = EmbeddedStore()
    load_all(store, [EXAMPLE])
    before = run_validation(store, EXAMPLE_AS_OF)
    old_trades = {f.focus.id for f in before.report.findings if f.focus.table == "transactions"}

    load_all(store, [change])
    derived = derived_triples(store)
    focus = affected_focus(store, [bundle_graph(change)], derived)
    incremental = validate_changes(store, EXAMPLE_AS_OF, before, [bundle_graph(change)])
    full = run_validation(store, EXAMPLE_AS_OF)

    assert incremental.report.as_dict() == full.report.as_dict()
    new_trades = {f.focus.id for f in full.report.findings if f.focus.id.startswith("C-")}
    assert {"C-" + t for t in old_trades} & new_trades, "copies of breaking trades break the rules again"
    trades = {iri for iri in focus if "/transaction/" in iri}
    assert len(trades) == 200 and all("/transaction/C-" in iri for iri in trades), \
        "only the new trades are judged again: the repeated rows are no change, other trades are not neighbours"


APPROVED = Path(__file__).parent / "rules" / "cases" / "BEP-4.2" / "activity-on-the-day-the-adoption-held-every-approval"


def test_a_new_trade_in_an_adoption_gap_is_found_on_the_adopt_matters_as_a_full_run_finds_it(tmp_path: Path) -> None:
    # BEP-4.2's window: from the first adopt meeting (2002-05-16) to the day every approval is held (2002-08-01)
    late = {"transactions": [{"id": "T-7", "date": "2002-07-31", "series": SERIES, "placed_by": "jnam",
                              "executing_broker": "distributor", "directed": "true", "commission": "10.00",
                              "best_execution": "true"}]}
    second = write_bundle(tmp_path / "second", late)
    store = EmbeddedStore()
    load_all(store, [APPROVED], with_ontology=False)
    as_of = date(2002, 12, 31)
    before = run_validation(store, as_of)
    assert not any(f.rule in ("BEP-4.1", "BEP-4.2") for f in before.report.findings)

    load_all(store, [second], with_ontology=False)
    incremental = validate_changes(store, as_of, before, [bundle_graph(second)])
    fresh = EmbeddedStore()
    load_all(fresh, [APPROVED, second], with_ontology=False)
    full = run_validation(fresh, as_of)

    assert incremental.report.as_dict() == full.report.as_dict()
    found = {(f.rule, f.focus.id) for f in full.report.findings if f.rule in ("BEP-4.1", "BEP-4.2")}
    assert found == {("BEP-4.1", "T-7"), ("BEP-4.2", "A-1"), ("BEP-4.2", "A-2")}
