import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from bepgraph.loading import load_all
from bepgraph.namespaces import graph_iri
from bepgraph.store import EmbeddedStore
from bepgraph.validation.derive import compute, derive
from bepgraph.validation.duties import independence_shortfalls, report_duties, retention_duties
from bepgraph.validation.effect import AgreementInForce, PlanInEffect
from bepgraph.validation.facts import Agreement, Report
from bepgraph.validation.persons import Persons

from .derivation import S, adoption, d, make_facts, rel

PREFIX = "PREFIX bep: <https://w3id.org/bepgraph/ontology#>\nPREFIX bepid: <https://w3id.org/bepgraph/id/>\n"
IN_EFFECT = [PlanInEffect(S, d("2002-05-16"), d("2003-05-16"), "lapsed", d("2003-05-16"), ())]


def rows(store: EmbeddedStore, query: str) -> list[tuple[str, ...]]:
    return sorted(tuple(t.value for t in row) for row in store.query(PREFIX + query))  # type: ignore[union-attr]


def report(ident: str, delivered: str, start: str, end: str, by: str = "distributor") -> Report:
    return Report(ident, d(delivered), d(start), d(end), by)


def test_quarter_is_judged_only_after_its_90th_day() -> None:
    duties = report_duties(make_facts(as_of="2002-09-28"), IN_EFFECT)
    assert duties == []
    [q2] = report_duties(make_facts(as_of="2002-09-29"), IN_EFFECT)
    assert (q2.start, q2.end, q2.deadline, q2.fulfilled_by) == (d("2002-04-01"), d("2002-06-30"),
                                                                d("2002-09-28"), ())


def test_reports_that_together_cover_a_quarter_fulfil_it() -> None:
    monthly = [report("R4", "2002-05-10", "2002-04-01", "2002-04-30"),
               report("R5", "2002-06-10", "2002-05-01", "2002-05-31"),
               report("R6", "2002-09-28", "2002-06-01", "2002-06-30")]
    [q2] = report_duties(make_facts(as_of="2002-10-01", reports=monthly), IN_EFFECT)
    assert q2.fulfilled_by == ("R4", "R5", "R6")
    [q2] = report_duties(make_facts(as_of="2002-10-01", reports=monthly[:2]), IN_EFFECT)
    assert q2.fulfilled_by == ()


def test_late_report_or_one_not_from_the_distributor_does_not_fulfil() -> None:
    late = [report("R", "2002-09-29", "2002-04-01", "2002-06-30")]
    other = [report("R", "2002-08-01", "2002-04-01", "2002-06-30", by="jnam")]
    for reports in (late, other):
        [q2] = report_duties(make_facts(as_of="2002-10-01", reports=reports), IN_EFFECT)
        assert q2.fulfilled_by == ()


def test_retention_runs_six_years_from_the_document_or_its_end() -> None:
    agreement = Agreement("DB-1", ("trust", "bd-1"), d("2002-06-01"), related_to_plan=True)
    force = [AgreementInForce("DB-1", d("2002-06-01"), d("2004-02-29"), "terminated", ("E1",))]
    facts = make_facts(agreements=[agreement], reports=[report("R", "2002-08-01", "2002-04-01", "2002-06-30")])
    duties = {(k.table, k.document): (k.retained_until, k.accessible_until)
              for k in retention_duties(facts, IN_EFFECT, force)}
    assert duties == {("plan", "plan"): (d("2009-05-16"), d("2005-05-16")),
                      ("agreements", "DB-1"): (d("2010-02-28"), d("2006-02-28")),
                      ("reports", "R"): (d("2008-08-01"), d("2004-08-01"))}


def test_retention_of_a_plan_still_in_effect_runs_from_its_date() -> None:
    still = [PlanInEffect(S, d("2002-05-16"), None, None, d("2003-05-16"), ())]
    [plan] = retention_duties(make_facts(as_of="2003-01-01"), still, [])
    assert plan.retained_until == d("2008-05-16")


def test_independence_shortfall_names_its_first_day_while_in_effect() -> None:
    rows_ = [rel("R1", "t-1", "officer_of", "jnam", start="2002-09-01"),
             rel("R2", "t-2", "officer_of", "jnam", start="2002-10-01", end="2002-11-15")]
    persons = Persons(make_facts(relationships=rows_, as_of="2004-01-01"))
    [short] = independence_shortfalls(persons, IN_EFFECT)
    assert (short.start, short.end) == (d("2002-10-01"), d("2002-11-15"))


def test_compute_needs_no_store() -> None:
    derived = compute(make_facts(adoption("A", "2002-05-16"), as_of="2002-12-31"))
    assert [(i.series, i.start, i.end) for i in derived.intervals] == [(S, d("2002-05-16"), None)]
    assert {(s.trustee, s.day) for s in derived.statuses} >= {("t-1", d("2002-05-16")), ("t-1", d("2002-12-31"))}


def test_derive_writes_the_mini_bundle_status_to_the_derived_graph(mini_bundle: Path) -> None:
    store = EmbeddedStore()
    load_all(store, bundles=[mini_bundle], with_ontology=False)
    summary = derive(store, date(2004, 6, 30))
    assert summary.triples == store.count(graph_iri("derived"))
    assert rows(store, "SELECT ?from ?until ?why WHERE { GRAPH <https://w3id.org/bepgraph/graph/derived> {"
                       " ?i a bep:PlanInEffectInterval ; bep:inEffectFrom ?from ; bep:inEffectUntil ?until ;"
                       " bep:endReason ?why } }") == [("2002-05-16", "2003-05-16", "lapsed")]
    # t-2 owns exactly 5 % of the adviser: interested on the adoption date, so not a Rule 12b-1 Trustee
    assert rows(store, "SELECT ?interested ?r12b1 ?rel WHERE { ?s a bep:TrusteeStatus ;"
                       " bep:trustee <https://w3id.org/bepgraph/id/trustee/t-2> ; bep:onDate '2002-05-16'^^<http://www.w3.org/2001/XMLSchema#date> ;"
                       " bep:isInterestedPerson ?interested ; bep:isRule12b1Trustee ?r12b1 ; bep:restsOn ?rel ."
                       " FILTER(CONTAINS(STR(?rel), 'relationship')) }") == [
        ("true", "false", "https://w3id.org/bepgraph/id/relationship/R-1")]
    assert rows(store, "SELECT ?start WHERE { ?f a bep:ReportDuty ; bep:periodStart ?start ;"
                       " bep:fulfilledBy <https://w3id.org/bepgraph/id/report/RPT-1> }") == [("2002-07-01",)]
    assert rows(store, "SELECT ?start WHERE { ?a a bep:AgreementInForce ; bep:agreement <https://w3id.org/bepgraph/id/agreement/DB-1> ;"
                       " bep:startDate ?start FILTER NOT EXISTS { ?a bep:endDate ?e } }") == [("2002-06-01",)]
    assert rows(store, "SELECT ?date WHERE { ?a a bep:ActionApproval ; bep:action 'adopt' ; bep:date ?date ;"
                       " bep:forSeries <https://w3id.org/bepgraph/id/series/ppm-america-jnl-value-fund> }") == [("2002-05-16",)]


def test_derive_replaces_the_derived_graph_and_ignores_later_facts(mini_bundle: Path) -> None:
    store = EmbeddedStore()
    load_all(store, bundles=[mini_bundle], with_ontology=False)
    derive(store, date(2004, 6, 30))
    summary = derive(store, date(2002, 5, 15))  # the day before the only meeting
    assert rows(store, "SELECT ?d WHERE { <https://w3id.org/bepgraph/id/derived/context> bep:asOf ?d }") == [("2002-05-15",)]
    assert (summary.plan_intervals, summary.approvals, summary.action_approvals) == (0, 0, 0)
    assert rows(store, "SELECT ?i WHERE { ?i a bep:PlanInEffectInterval }") == []


_DERIVED_OF_THE_EXAMPLE = """
import hashlib
from datetime import date
from bepgraph.loading import load_all
from bepgraph.resources import data_root
from bepgraph.store import EmbeddedStore
from bepgraph.validation.overlay import derived_lines
store = EmbeddedStore()
load_all(store, [data_root() / "examples" / "jnl-2002-2005"])
lines = derived_lines(store, date(2002, 6, 30))[1]
print(hashlib.sha256("".join(sorted(lines)).encode()).hexdigest(), len(lines))
"""


def test_the_derived_facts_are_the_same_whatever_order_python_iterates_a_set_in() -> None:
    # each process draws its own string hash seed, which orders sets of ids: an answer that followed
    # that order (which control chain an interested trustee's status rests on) changed between runs
    answers = set()
    for seed in ("0", "1", "2"):
        run = subprocess.run([sys.executable, "-c", _DERIVED_OF_THE_EXAMPLE], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, timeout=300, check=True)
        answers.add(run.stdout)
    assert len(answers) == 1, answers
    assert int(answers.pop().split()[1]) > 1000  # the example's derived graph, not an empty one
