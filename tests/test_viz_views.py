"""The board views, their findings marks, the analysis, the page JSON and the calendar, on the example bundle.

Expected numbers are recomputed from the bundle's CSV files, not copied
from a run, so a view that drops or double-counts a row fails here.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import networkx as nx
import pytest

from bepgraph.errors import ParameterError
from bepgraph.loading import load_all
from bepgraph.namespaces import entity_iri
from bepgraph.resources import example_bundle
from bepgraph.store import EmbeddedStore
from bepgraph.validation.findings import Report
from bepgraph.viz.analysis import analyse
from bepgraph.viz.calendar import compliance_calendar
from bepgraph.viz.marks import findings_as_of, mark_findings
from bepgraph.viz.page_data import COLLAPSE_ABOVE, collapse_groups, to_page_data
from bepgraph.viz.views import Period, build_view

MID = date(2004, 6, 30)
YEAR = Period(date(2003, 7, 1), date(2004, 6, 30))


def rows(table: str) -> list[dict[str, str]]:
    with open(example_bundle() / f"{table}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def org(ident: str) -> str:
    return entity_iri("organizations", ident)


def in_year(day: str) -> bool:
    return YEAR.start <= date.fromisoformat(day) <= YEAR.end


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    s = EmbeddedStore()
    load_all(s)
    yield s


@pytest.fixture(scope="module")
def report(store: EmbeddedStore) -> Report:
    return findings_as_of(store, MID)


def kinds(graph: nx.MultiDiGraph) -> Counter[str]:
    return Counter(str(a["kind"]) for _, a in graph.nodes(data=True))


def test_structure_holds_the_trust_its_series_advisers_and_the_agreements_in_force(store: EmbeddedStore) -> None:
    graph = build_view(store, "structure", MID)
    k = kinds(graph)
    assert (k["trust"], k["adviser"], k["distributor"], k["series"], k["sub-adviser"]) == (1, 1, 1, 38, 14)
    assert graph.has_edge(org("trust"), org("jnam"))
    lakeshore = entity_iri("agreements", "db-lakeshore")  # assigned on 2003-09-30: in force before, not after
    assert lakeshore in build_view(store, "structure", date(2003, 6, 30))
    assert lakeshore not in graph
    cobalt = entity_iri("agreements", "db-cobalt")  # its replacement, in force from 2003-11-17
    assert cobalt in graph
    assert {u for u, _ in graph.in_edges(cobalt)} >= {org("trust"), org("distributor"), org("cobalt-financial")}
    assert sum(1 for u, _, a in graph.in_edges(cobalt, data=True) if a["relation"] == "coveredBy") == 11


def test_control_shows_relationships_in_force_and_the_derived_affiliations(store: EmbeddedStore) -> None:
    graph = build_view(store, "control", MID)
    relations = Counter(a["relation"] for *_, a in graph.edges(data=True))
    in_force = [r for r in rows("relationships")
                if date.fromisoformat(r["from"]) <= MID and (not r["to"] or date.fromisoformat(r["to"]) > MID)]
    assert sum(n for rel, n in relations.items() if rel != "affiliated") == len(in_force)
    assert relations["affiliated"] > 0
    status = {a["id"]: a.get("interested") for n, a in graph.nodes(data=True) if a["kind"] == "trustee"}
    assert status["t-hollis"] is True and status["t-fenwick"] is True
    assert status["t-okafor"] is False
    assert "t-whitcomb" not in status  # retired on 2004-01-01


def test_money_flow_sums_the_directed_commissions_of_the_period_exactly(store: EmbeddedStore) -> None:
    graph = build_view(store, "money", MID, YEAR)
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in rows("transactions"):
        if t["directed"] == "true" and in_year(t["date"]):
            expected[(entity_iri("series", t["series"]), org(t["executing_broker"]))] += Decimal(t["commission"])
    drawn = {(u, v): a["amount"] for u, v, a in graph.edges(data=True) if a["relation"] == "commission"}
    assert drawn == expected
    benefits = sum(Decimal(b["amount"]) for b in rows("benefits") if in_year(b["date"]))
    assert sum(a["amount"] for *_, a in graph.edges(data=True) if a["relation"] == "benefit") == benefits
    assert sum(a["amount"] for *_, a in graph.edges(data=True) if a["relation"] == "received") == benefits
    categories = {a["label"] for _, a in graph.nodes(data=True) if a["kind"] == "category"}
    assert "advertising" in categories


def test_money_flow_of_a_period_without_directed_activity_is_empty(store: EmbeddedStore) -> None:
    graph = build_view(store, "money", date(2005, 6, 30), Period(date(2005, 1, 1), date(2005, 6, 30)))
    assert graph.number_of_edges() == 0


def test_governance_draws_each_ballot_of_the_period_and_collapses_matters_by_meeting(store: EmbeddedStore) -> None:
    graph = build_view(store, "governance", MID, YEAR)
    meetings = {m["id"] for m in rows("meetings") if in_year(m["date"])}
    matters = {m["id"] for m in rows("matters") if m["meeting"] in meetings}
    ballots = [b for b in rows("ballots") if b["matter"] in matters]
    votes = Counter(a["relation"] for *_, a in graph.edges(data=True) if a["relation"] != "atMeeting")
    assert sum(votes.values()) == len(ballots)
    assert votes["for"] == sum(1 for b in ballots if b["vote"] == "for")
    collapsed = collapse_groups(graph)
    groups = {n for n in collapsed if n.startswith("group:")}
    assert len(groups) == len({(m["meeting"], m["action"]) for m in rows("matters") if m["id"] in matters})
    assert sum(a["count"] for *_, a in collapsed.edges(data=True) if a["relation"] != "atMeeting") == len(ballots)


def test_unknown_view_and_reversed_period_are_parameter_errors(store: EmbeddedStore) -> None:
    with pytest.raises(ParameterError, match="unknown view"):
        build_view(store, "sankey", MID)
    with pytest.raises(ParameterError, match="after it ends"):
        Period.ending(MID, date(2004, 7, 1))


def test_findings_are_marked_on_the_node_they_concern(store: EmbeddedStore, report: Report) -> None:
    graph = build_view(store, "structure", MID)
    mark_findings(graph, report)
    granite = graph.nodes[entity_iri("agreements", "db-granite")]
    assert granite["severity"] == "violation"
    assert [f["rule"] for f in granite["findings"]] == ["BEP-7.3"]
    assert graph.graph["findings"]["total"] == len(report.findings)
    governance = build_view(store, "governance", MID, YEAR)
    mark_findings(governance, report)
    assert governance.nodes[entity_iri("trustees", "t-okafor")]["severity"] == "warning"


def test_analysis_hhi_shares_paths_and_exposure(store: EmbeddedStore) -> None:
    money = build_view(store, "money", MID, YEAR)
    control = build_view(store, "control", MID, YEAR)
    a = analyse(money, control)
    by_broker: dict[str, Decimal] = defaultdict(Decimal)
    for t in rows("transactions"):
        if t["directed"] == "true" and in_year(t["date"]):
            by_broker[org(t["executing_broker"])] += Decimal(t["commission"])
    total = sum(by_broker.values())
    assert a.concentration.total == total
    assert a.concentration.hhi == pytest.approx(sum(float(v / total * 100) ** 2 for v in by_broker.values()))
    assert [b.broker for b in a.concentration.brokers][0] == max(by_broker, key=by_broker.__getitem__)
    npc = [p for p in a.paths if p.broker == org("national-planning-corp") and p.principal == org("distributor")]
    assert npc and npc[0].relations == ("controls", "controls")
    assert set(npc[0].rests_on) >= {"REL-03", "REL-05"}
    assert all(0.0 <= e.share <= 1.0 for e in a.exposure)
    assert [e.share for e in a.exposure] == sorted((e.share for e in a.exposure), reverse=True)


def test_page_json_counts_match_its_elements_and_big_views_are_collapsed(store: EmbeddedStore) -> None:
    money = to_page_data(build_view(store, "money", MID, YEAR))
    assert money["counts"] == {"nodes": len(money["elements"]["nodes"]), "edges": len(money["elements"]["edges"])}
    assert all("amountText" in e["data"] for e in money["elements"]["edges"])
    whole = build_view(store, "governance", date(2005, 6, 30), Period(date(2002, 1, 1), date(2005, 6, 30)))
    assert whole.number_of_nodes() > COLLAPSE_ABOVE
    data = to_page_data(whole)
    assert data["counts"]["nodes"] < COLLAPSE_ABOVE
    ids = {n["data"]["id"] for n in data["elements"]["nodes"]}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in data["elements"]["edges"])


def test_calendar_lists_continuances_and_the_missing_quarterly_report(store: EmbeddedStore) -> None:
    cal = compliance_calendar(store, date(2005, 6, 30))
    assert len({c.series for c in cal.continuances}) == 38
    assert [r.quarter for r in cal.missing] == ["2003Q3"]
    received = {r.report for r in cal.reports if r.report}
    assert "R-2003Q2" in received


def test_governance_draws_only_trustees_serving_in_the_period(store: EmbeddedStore) -> None:
    graph = build_view(store, "governance", date(2004, 12, 31), Period(date(2004, 1, 1), date(2004, 12, 31)))
    trustees = {a["id"] for _, a in graph.nodes(data=True) if a["kind"] == "trustee"}
    assert "t-whitcomb" not in trustees  # retired on 2004-01-01, the period's first day
    assert "t-ridley" in trustees and all(graph.nodes[entity_iri("trustees", t)]["label"] != t for t in trustees)
    assert graph.nodes[entity_iri("trustees", "t-hollis")]["interested"] is True
