"""A findings timeline is whole validation runs: the runs judged back from the latest date equal the runs
made one date at a time, finding by finding, also where findings appear and then disappear."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.cache import answers
from bepgraph.validation.compile import Compiled
from bepgraph.validation.engine import ShapeResult
from bepgraph.errors import BepgraphError
from bepgraph.validation.many_dates import (ANY_CLASS, Steps, _reading, _reads_change, _settled, cached_validations,
                                            run_validations)
from bepgraph.validation.readings import dated_readings, parse_readings
from bepgraph.validation.run import cached_validation, run_validation
from bepgraph.validation.shares import copies_wanted
from bepgraph.viz.dates import quarter_ends
from bepgraph.viz.pack import build_pack

CASES = Path(__file__).parent / "rules" / "cases"
# a record of the plan's preserved copy arrives late: BEP-10.1 stands at some quarter ends, then not
COMES_AND_GOES = CASES / "BEP-7.4" / "trade-after-assignment"


def keys(store: EmbeddedStore, day: date) -> set[tuple[str, str, str]]:
    return {(f.rule, f.focus.id, f.message) for f in run_validation(store, day).report.findings}


@pytest.fixture(scope="module")
def example() -> EmbeddedStore:
    store = EmbeddedStore()
    load_all(store)
    return store


def _unordered_lists(results: list[ShapeResult]) -> list[ShapeResult]:
    """*results* with each evidence binding's GROUP_CONCAT list sorted: SPARQL leaves its order to the engine's
    plan (a focused run's and a whole run's may differ), and a finding's evidence is a set (findings.md)."""
    def sorted_list(text: str) -> str:  # an N-Triples literal "iri iri ..."
        return '"' + " ".join(sorted(text[1:-1].split(" "))) + '"' if text[:1] == text[-1:] == '"' else text

    def plain(r: ShapeResult) -> ShapeResult:
        return replace(r, bindings={k: sorted_list(v) if k.startswith("evidence") else v
                                    for k, v in r.bindings.items()})
    return [plain(r) for r in results]


def assert_same_runs(store: EmbeddedStore, days: list[date]) -> Steps:
    steps = Steps()
    many = run_validations(store, days, steps=steps)
    assert sorted(many) == sorted(days)
    for day in days:
        one = run_validation(store, day)
        assert many[day].report == one.report, day
        assert _unordered_lists(many[day].results) == _unordered_lists(one.results), day
        assert many[day].derived == one.derived, day
    return steps


def test_runs_judged_back_from_the_latest_equal_one_run_per_quarter_end_on_the_example(example: EmbeddedStore) -> None:
    days = quarter_ends(date(2002, 5, 16), date(2005, 6, 30))
    counts = {run_validation(example, d).report.counts["violation"] for d in days}
    assert len(counts) > 3  # the timeline moves: a run reused for the wrong date would show
    steps = assert_same_runs(example, days)
    # before the latest date, constraints were kept or cut, not all run whole again
    assert steps.kept > 0 and steps.cut > 0
    # ... and the readings shapes/dated-readings.toml declares were used (a regression to "whole" fails)
    assert steps.declared > 0 and steps.focused > 0


def test_runs_equal_where_findings_appear_and_then_disappear() -> None:
    store = EmbeddedStore()
    load_all(store, [COMES_AND_GOES])
    days = quarter_ends(date(2002, 1, 1), date(2004, 12, 31))
    seen = [keys(store, d) for d in days]
    assert any(after - before for before, after in zip(seen, seen[1:])), "no finding appears"
    assert any(before - after for before, after in zip(seen, seen[1:])), "no finding disappears"
    assert_same_runs(store, days)


def test_the_packs_timeline_equals_a_full_validation_at_every_quarter_end(example: EmbeddedStore,
                                                                          tmp_path: Path) -> None:
    summary = build_pack(example, date(2004, 6, 30), tmp_path / "pack.pdf", since=date(2003, 6, 30))
    days = quarter_ends(date(2002, 5, 16), date(2004, 6, 30))
    expected = []
    for day in days:
        counts = run_validation(example, day).report.counts
        expected.append((f"{day.year}Q{(day.month - 1) // 3 + 1}", counts["violation"], counts["warning"]))
    assert summary.timeline == expected


def test_cached_runs_are_kept_for_the_other_doors(example: EmbeddedStore) -> None:
    days = [date(2003, 3, 31), date(2003, 6, 30)]
    runs = cached_validations(example, days)
    computed = answers().computed
    for day in days:
        assert cached_validation(example, day) is runs[day]  # kept, not run again
    assert answers().computed == computed
    assert cached_validations(example, days) == runs


def test_a_cold_timeline_makes_the_latest_run_in_the_same_private_copy_as_the_earlier_dates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy's first reads of a large store are dear (README, Measurements): the latest date's whole run
    and the dates judged back from it share their copies (one per core, shares.py), and the latest run is
    kept for the other doors."""
    import bepgraph.validation.many_dates as many_dates
    import bepgraph.validation.overlay as overlay

    store = EmbeddedStore()
    load_all(store, [COMES_AND_GOES])
    copies: list[str] = []
    for module in (overlay, many_dates):
        forked = module.in_private_copy

        def counted(*args: object, _forked: object = forked, **kwargs: object) -> object:
            copies.append(str(args[2]))
            return _forked(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(module, "in_private_copy", counted)
    days = [date(2002, 9, 30), date(2003, 6, 30), date(2003, 12, 31)]
    runs = cached_validations(store, days)
    validations = [what for what in copies if what.startswith("the validation")]
    assert len(validations) == copies_wanted() and all(d.isoformat() in what for what in validations
                                                          for d in days), copies
    assert answers().known(store, ("validation", days[-1])) is runs[days[-1]]
    for day in days:
        assert runs[day].report == run_validation(store, day).report


def test_a_store_that_cannot_be_forked_runs_the_dates_one_after_the_other(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "disk")
    load_all(store, [COMES_AND_GOES])
    days = [date(2002, 9, 30), date(2003, 6, 30)]
    many = run_validations(store, days)
    for day in days:
        assert many[day].report == run_validation(store, day).report
    store.close()


def test_a_failing_run_is_reported_not_swallowed(example: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import bepgraph.validation.many_dates as many_dates

    def broken(*args: object) -> object:
        raise ValueError("the rules could not be judged")

    monkeypatch.setattr(many_dates, "part_of", broken)
    with pytest.raises(ValueError, match="could not be judged"):
        run_validations(example, [date(2003, 3, 31), date(2003, 6, 30)])


def constraint(text: str) -> Compiled:
    return Compiled(shape="urn:s", parent="urn:s", component="urn:c", severity="violation", message=None,
                    path=None, text="PREFIX bep: <https://w3id.org/bepgraph/ontology#>\n" + text, sparql=True)


CUT = """SELECT $this ?date WHERE { $this a bep:Transaction ; bep:date ?date .
  ?ctx a bep:ValidationContext ; bep:asOf ?asOf . FILTER (?date <= ?asOf && ?date > ?other) }"""


@pytest.mark.parametrize("text, cut", [
    (CUT, True),
    (CUT.replace("?date > ?other", "?other <= ?asOf"), False),  # the date read another way
    (CUT + " GROUP BY $this ?date", False),  # an aggregate could pool dates
    (CUT.replace("$this a bep:Transaction ; bep:date ?date .", "?m bep:date ?date ."), False),  # not the focus's
    (CUT.replace("&&", "||"), False),
    (CUT.replace("?ctx a", "{ SELECT $this ?a WHERE { $this bep:agreement ?a } } ?ctx a"), True),  # dateless
    (CUT.replace("?ctx a", "{ SELECT $this (MIN(?date) AS ?d) WHERE { $this bep:date ?date } GROUP BY $this } ?ctx a"),
     False),  # a sub-select over dates
    (CUT.replace("bep:date ?date", "bep:meeting/bep:date ?date"), False),  # a path's date, not its own
])
def test_a_constraint_is_cut_only_when_it_reads_the_date_as_its_focus_cut(text: str, cut: bool) -> None:
    reading = _reading(constraint(text))
    assert reading.dated and reading.cut is cut


def test_a_changed_derived_triple_counts_unless_its_subject_cannot_match() -> None:
    c = constraint("SELECT $this WHERE { ?i a bep:Interval ; bep:forSeries $this . ?x bep:meeting/bep:date ?d . }")
    reading = _reading(c)
    interval, approval = "<https://w3id.org/bepgraph/ontology#Interval>", "<https://w3id.org/bepgraph/ontology#Approval>"
    assert _reads_change(c, reading, {"forSeries": {interval}})
    assert not _reads_change(c, reading, {"forSeries": {approval}})  # a pattern asking for an Interval
    assert _reads_change(c, reading, {"forSeries": {ANY_CLASS}})  # a subject of no class
    assert _reads_change(c, reading, {"date": {approval}})  # inside a path: any node
    assert not _reads_change(c, reading, {"effectiveDate": {ANY_CLASS}})  # a term it does not name


@pytest.mark.parametrize(("text", "counts"), [
    # the class asked of ?i in the outer group binds ?i in the OPTIONAL too
    ("SELECT $this WHERE { ?i a bep:Interval ; bep:forSeries $this . OPTIONAL { ?i bep:reason ?why } }", False),
    ("SELECT $this WHERE { ?i a bep:Interval ; bep:forSeries $this . FILTER NOT EXISTS { ?i bep:reason ?w } }", False),
    # a class asked only in a nested group binds nothing outside it
    ("SELECT $this WHERE { $this bep:forSeries ?s . OPTIONAL { ?i a bep:Interval } ?i bep:reason ?why }", True),
    # a sub-select's variables are its own
    ("SELECT $this WHERE { ?i a bep:Interval ; bep:forSeries $this . { SELECT ?w WHERE { ?i bep:reason ?w } } }", True),
])
def test_a_class_asked_in_the_outer_group_binds_the_variable_everywhere_but_in_sub_selects(text: str,
                                                                                        counts: bool) -> None:
    c = constraint(text)
    approval = "<https://w3id.org/bepgraph/ontology#Approval>"
    assert _reads_change(c, _reading(c), {"reason": {approval}}) is counts


# --- the readings declared in shapes/dated-readings.toml ----------------------------------------------
def _cross_with_a_late_termination() -> dict[str, list[dict[str, str]]]:
    """The cross-partition bundle (an expenditure over two benefits of two years: BEP-2.2 appears when the
    second expenditure is dated), plus a termination voted on 2003-02-01 that takes effect on 2002-11-01,
    before the quarter end of 2002-12-31: a trade of 2002-11-15 breaks BEP-4.1 as of 2003-03-31 but not
    as of 2002-12-31 (its interval ended, as of the later date, before the earlier one)."""
    from tests.test_partitioned import BLOTTER, GOVERNANCE, S2, _tx

    tables = {k: list(v) for k, v in (GOVERNANCE | BLOTTER).items()}
    tables["meetings"] = tables["meetings"] + [{"id": "M-2", "date": "2003-02-01", "body": "board",
                                                "in_person": "true", "called_for_plan": "true"}]
    tables["matters"] = tables["matters"] + [{"id": "TERM-1", "meeting": "M-2", "action": "terminate", "series": S2,
                                              "subject": "plan", "notice_date": "2003-01-01",
                                              "effective": "2002-11-01"}]
    tables["ballots"] = tables["ballots"] + [{"matter": "TERM-1", "trustee": f"t-{n}", "vote": "for",
                                              "in_person": "true"} for n in (1, 2, 3)]
    tables["transactions"] = tables["transactions"] + [_tx("T-5", "2002-11-15", S2, "t-rowe-price")]
    return tables


def test_declared_readings_equal_whole_runs_where_an_interval_ends_before_an_earlier_quarter_end(
        tmp_path: Path) -> None:
    from tests.bundles import write_bundle

    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "late-termination", _cross_with_a_late_termination())])
    days = quarter_ends(date(2002, 1, 1), date(2005, 6, 30))
    late = [f for f in run_validation(store, date(2003, 3, 31)).report.findings if f.focus.id == "T-5"]
    assert [f.rule for f in late] == ["BEP-4.1"]  # the termination reaches back as of the later date...
    assert not [f for f in run_validation(store, date(2002, 12, 31)).report.findings if f.focus.id == "T-5"]  # not before
    spent = [keys(store, d) for d in days]
    assert any(("BEP-2.2" in {k[0] for k in after}) and ("BEP-2.2" not in {k[0] for k in before})
               for before, after in zip(spent, spent[1:])), "BEP-2.2 does not appear between two quarter ends"
    steps = assert_same_runs(store, days)
    assert steps.declared > 0 and steps.narrowed > 0


def _but_unguarded(monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    """The timeline with the named guard or `affected` query of shapes/dated-readings.toml always false."""
    import bepgraph.validation.many_dates as many_dates

    asked = many_dates._ask
    monkeypatch.setattr(many_dates, "_ask", lambda copy, name, bindings: False if name == query
                        else asked(copy, name, bindings))


def test_a_negative_expenditure_makes_the_growing_total_rule_run_whole(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A refund (a negative amount) dated between two quarter ends brings a benefit back within its amount:
    BEP-2.2 stands as of the earlier date and not as of the later one, which judging back from the later
    date's results alone would miss."""
    from tests.bundles import write_bundle
    from tests.test_partitioned import BLOTTER, GOVERNANCE, S2, _benefit, _expenditure

    tables = {k: list(v) for k, v in (GOVERNANCE | BLOTTER).items()}
    tables["benefits"] += [_benefit("B-3", "2002-07-15", "", "100.00", S2, S2)]
    tables["expenditures"] += [_expenditure("E-3", "2002-08-01", "B-3", "150.00"),
                               _expenditure("E-4", "2003-02-01", "B-3", "-80.00")]
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "refund", tables)])
    over = {d: ("BEP-2.2", "B-3") in {(k[0], k[1]) for k in keys(store, d)}
            for d in (date(2002, 12, 31), date(2003, 3, 31))}
    assert over == {date(2002, 12, 31): True, date(2003, 3, 31): False}
    days = [date(2002, 12, 31), date(2003, 3, 31)]
    assert_same_runs(store, days)
    _but_unguarded(monkeypatch, "internal/timeline-negative-spending")
    assert run_validations(store, days)[days[0]].report != run_validation(store, days[0]).report


def test_an_adopt_matter_voted_between_two_quarter_ends_makes_bep_4_2_run_again(tmp_path: Path) -> None:
    """A second adopt matter for a series whose adoption window saw activity is a finding from its meeting
    on: BEP-4.2's dated-through reading must not keep the later date's results for the earlier date."""
    import shutil

    from tests.test_adoption_window import CASE, HEADER, SERIES

    bundle = tmp_path / "readopted"
    shutil.copytree(CASE, bundle)
    (bundle / "transactions.csv").write_text(HEADER + f"T-1,2002-07-31,{SERIES},ppm-america,bd-1,,,DB-1,true,1250.00,true\n")
    with (bundle / "meetings.csv").open("a") as f:
        f.write("M-3,2003-02-01,board,,true,true\n")
    with (bundle / "matters.csv").open("a") as f:
        f.write(f"A-3,M-3,adopt,{SERIES},plan,,,,,\n")
    with (bundle / "ballots.csv").open("a") as f:
        f.write("".join(f"A-3,t-{n},for,true\n" for n in (1, 2, 3)))
    store = EmbeddedStore()
    load_all(store, [bundle], with_ontology=False)
    days = [date(2002, 12, 31), date(2003, 3, 31)]
    found = {d: {k[1] for k in keys(store, d) if k[0] == "BEP-4.2"} for d in days}
    assert found == {days[0]: {"A-1", "A-2"}, days[1]: {"A-1", "A-2", "A-3"}}
    steps = assert_same_runs(store, days)
    assert steps.whole > 0


def test_declared_readings_equal_whole_runs_on_a_generated_bundle(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "generated"
    subprocess.run([sys.executable, "-m", "bepgraph.examples.generate", "--out", str(out), "--trades", "3000",
                    "--seed", "7"], check=True, capture_output=True)
    store = EmbeddedStore()
    load_all(store, [out])
    steps = assert_same_runs(store, quarter_ends(date(2002, 5, 16), date(2005, 6, 30)))
    assert steps.declared > 0


def _line(s: str, p: str, o: str) -> str:
    return f"<{s}> <https://w3id.org/bepgraph/ontology#{p}> {o} ."


def _day(text: str) -> str:
    return f'"{text}"^^<http://www.w3.org/2001/XMLSchema#date>'


TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def test_an_interval_is_settled_only_when_it_ends_or_starts_after_the_earlier_date() -> None:
    node, new = "urn:x:in-force/A", "urn:x:in-force/B"
    common = {f"<{node}> {TYPE} <https://w3id.org/bepgraph/ontology#AgreementInForce> .",
              _line(node, "startDate", _day("2002-01-01"))}
    day, readings = date(2003, 9, 30), dated_readings()

    def ended(on: str) -> frozenset[str]:
        return frozenset(common | {_line(node, "endDate", _day(on)), _line(node, "endReason", '"assigned"')})

    assert _settled(ended("2003-10-01"), frozenset(common), day, readings) == ended("2003-10-01") - common
    assert _settled(ended("2003-09-30"), frozenset(common), day, readings) == frozenset()  # on the day: not settled
    assert _settled(ended("2003-10-01"), ended("2003-09-15"), day, readings) == frozenset()  # its end moved
    starts = {f"<{new}> {TYPE} <https://w3id.org/bepgraph/ontology#AgreementInForce> ."}
    later = frozenset(common | starts | {_line(new, "startDate", _day("2003-10-01"))})
    assert _settled(later, frozenset(common), day, readings) == later - common
    sooner = frozenset(common | starts | {_line(new, "startDate", _day("2003-09-30"))})
    assert _settled(sooner, frozenset(common), day, readings) == frozenset()
    other = "urn:x:status/A"  # not an interval the table declares
    status = frozenset(common | {f"<{other}> {TYPE} <https://w3id.org/bepgraph/ontology#TrusteeStatus> .",
                                 _line(other, "endDate", _day("2004-01-01"))})
    assert _settled(status, frozenset(common), day, readings) == frozenset()


@pytest.mark.parametrize(("table", "reason"), [
    ('[rules."BEP-99"]\nreads = "focus-date"', "not a rule of the catalogue"),
    ('[rules."BEP-1.3"]\nreads = "always"', "not one of 'focus-date', 'dated-through', 'growing-total'"),
    ('[rules."BEP-2.2"]\nreads = "growing-total"', "names no `guard` query"),
    ('[rules."BEP-2.2"]\nreads = "dated-through"', "names no `affected` query"),
    ('[rules."BEP-2.2"]\nreads = "dated-through"\naffected = "internal/no-such-query"', "no query named"),
    ('[intervals.AgreementInForce]\nstart = "startDate"', "needs start and end"),
    ('[rules."BEP-1.3"\nreads = 1', "table.toml"),
])
def test_a_malformed_readings_table_is_refused_with_its_reason(table: str, reason: str) -> None:
    with pytest.raises(BepgraphError, match=reason.replace("(", r"\(").replace("`", "`")) as caught:
        parse_readings(table, "table.toml")
    assert reason in str(caught.value)
