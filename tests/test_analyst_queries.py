"""The curated analyst queries (queries/analyst/*.rq) on the example bundle, checked against the CSV files.

Each expectation is computed from the bundle's CSV with plain Python, so a
query that drops, doubles or misfilters rows disagrees with it.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.holdings import Holdings
from bepgraph.loading import bundle_graph, load_all
from bepgraph.namespaces import DATA
from bepgraph.resources import example_bundle, query_dir
from bepgraph.sources.tables import TABLES
from bepgraph.sparql import NamedQuery, named_queries, run
from bepgraph.store import EmbeddedStore

ANALYST = sorted(query_dir().glob("analyst/*.rq"))


def rows_of(table: str) -> list[dict[str, str]]:
    with (example_bundle() / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    s = EmbeddedStore()
    load_all(s)
    return s


def select(store: EmbeddedStore, name: str, **values: str) -> list[dict[str, str | None]]:
    result = run(store, named_queries()["analyst/" + name], values)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: (None if row[n] is None else row[n].value) for n in names} for row in result]


def ident(iri: str | None) -> str:
    assert iri is not None and iri.startswith(DATA)
    return iri.rsplit("/", 1)[1]


# --- every file -----------------------------------------------------------------------------------

def test_there_are_at_least_twelve_analyst_queries() -> None:
    assert len(ANALYST) >= 12


@pytest.mark.parametrize("path", ANALYST, ids=[p.stem for p in ANALYST])
def test_each_query_parses_declares_its_prefixes_and_has_a_full_banner(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    query: NamedQuery = named_queries()["analyst/" + path.stem]
    assert query.title and query.purpose and query.columns, "banner needs Title, Purpose and Columns"
    assert re.search(r"^# Audience:", text, re.M) and re.search(r"^# Parameters:", text, re.M)
    declared = set(re.findall(r"^PREFIX\s+([A-Za-z][\w-]*):", text, re.M | re.I))
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", "PREFIX")))
    body = re.sub(r'"[^"\n]*"|<[^<>\s]*>', "", body)
    used = set(re.findall(r"(?<![\w?$:/])([A-Za-z][\w-]*):(?=[A-Za-z_\\])", body))
    assert used <= declared, f"prefixes used but not declared: {sorted(used - declared)}"
    # parses on its own, as an analyst would paste it, without any prefix supplied
    ox.Store().query(text)
    result = ox.Store().query(text)
    assert isinstance(result, ox.QuerySolutions)
    assert {v.value for v in result.variables} == set(query.columns), "Columns must list the SELECT's variables"


# --- one test per query ---------------------------------------------------------------------------

def test_commissions_and_credits_add_up_to_the_blotter_and_the_benefits(store: EmbeddedStore) -> None:
    rows = select(store, "commissions-and-credits-by-broker-series-quarter")
    trades = rows_of("transactions")
    assert sum(Decimal(r["commissions"] or "0") for r in rows) == sum(Decimal(t["commission"]) for t in trades)
    assert sum(int(r["trades"] or 0) for r in rows) == len(trades)
    assert sum(Decimal(r["directedCommissions"] or "0") for r in rows) == sum(
        Decimal(t["commission"]) for t in trades if t["directed"] == "true")
    assert sum(Decimal(r["benefits"] or "0") for r in rows) == sum(Decimal(b["amount"]) for b in rows_of("benefits"))
    assert all(re.fullmatch(r"\d{4}-Q[1-4]", r["quarter"] or "") for r in rows)


def test_commissions_can_be_cut_to_one_quarter_and_one_series(store: EmbeddedStore) -> None:
    series = "janus-jnl-capital-growth-fund"
    rows = select(store, "commissions-and-credits-by-broker-series-quarter",
                  **{"from": "2003-04-01", "to": "2003-06-30", "series": series})
    expected = sum(Decimal(t["commission"]) for t in rows_of("transactions")
                   if t["series"] == series and "2003-04-01" <= t["date"] <= "2003-06-30")
    assert rows and {r["quarter"] for r in rows} == {"2003-Q2"}
    assert sum(Decimal(r["commissions"] or "0") for r in rows) == expected


def test_affiliated_brokerage_finds_the_trades_with_a_broker_under_common_control(store: EmbeddedStore) -> None:
    rows = select(store, "affiliated-brokerage")
    npc = {t["id"] for t in rows_of("transactions") if "national-planning-corp" in
           (t["executing_broker"], t["clearing_broker"], t["introducing_broker"])}
    assert npc and {ident(r["trade"]) for r in rows} == npc
    assert all(r["how"] == "under common control of jackson-national-life" for r in rows)
    assert {ident(r["affiliate"]) for r in rows} >= {"distributor", "jnam"}


def test_credits_not_inuring_are_the_benefits_that_skip_their_generating_series(store: EmbeddedStore) -> None:
    rows = select(store, "credits-not-inuring-to-their-series")
    expected = {b["id"] for b in rows_of("benefits")
                if b["generating_series"] not in b["benefiting_series"].split(";")}
    assert expected and {ident(r["benefit"]) for r in rows} == expected


def test_expenditures_by_category_match_the_csv_totals(store: EmbeddedStore) -> None:
    rows = {ident(r["category"]) if r["category"] and "/id/" in r["category"] else r["category"].rsplit("#", 1)[1]: r
            for r in select(store, "expenditures-by-plan-category")}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for e in rows_of("expenditures"):
        totals[e["category"]] += Decimal(e["amount"])
    from bepgraph.sources.tables import CATEGORY_CODES
    assert {CATEGORY_CODES[c]: t for c, t in totals.items()} == {k: Decimal(r["total"]) for k, r in rows.items()}
    assert rows["Advertising"]["clause"] == "i" and rows["Advertising"]["distribution"] == "true"
    if "NotDistribution" in rows:
        assert rows["NotDistribution"]["distribution"] == "false" and rows["NotDistribution"]["clause"] is None


def test_trustees_as_of_a_date_are_those_in_office_with_their_ties(store: EmbeddedStore) -> None:
    day = "2003-06-30"
    rows = {ident(r["trustee"]): r for r in select(store, "trustees-as-of", asOf=day)}
    in_office = {t["id"] for t in rows_of("trustees") if t["from"] <= day and (not t["to"] or t["to"] > day)}
    assert {k for k, r in rows.items() if r["inOffice"] == "true"} == in_office
    assert rows["t-hollis"]["screen"] == "possibly interested" and "officer_of:jnam" in (rows["t-hollis"]["ties"] or "")
    assert "financial_interest_in:bc-meridian" in (rows["t-okafor"]["ties"] or "")  # in force 2003-03-01..07-01
    later = {ident(r["trustee"]): r for r in select(store, "trustees-as-of", asOf="2003-07-01")}
    assert later["t-okafor"]["ties"] is None or "bc-meridian" not in later["t-okafor"]["ties"]


def test_trustees_as_of_needs_its_date() -> None:
    from bepgraph.errors import ParameterError

    with pytest.raises(ParameterError, match="asOf"):
        run(EmbeddedStore(), named_queries()["analyst/trustees-as-of"], {})


def test_continuance_calendar_puts_the_due_date_a_year_after_the_last_board_approval(store: EmbeddedStore) -> None:
    rows = {ident(r["series"]): r for r in select(store, "continuance-calendar", asOf="2003-12-31")}
    meetings = {m["id"]: m for m in rows_of("meetings")}
    last: dict[str, str] = {}
    for m in rows_of("matters"):
        meeting = meetings[m["meeting"]]
        if m["action"] in ("adopt", "continue") and meeting["body"] == "board" and meeting["date"] <= "2003-12-31":
            for s in m["series"].split(";"):
                last[s] = max(last.get(s, ""), meeting["date"])
    assert {s: r["lastMeeting"] for s, r in rows.items() if r["lastMeeting"]} == last
    for s, day in last.items():
        assert rows[s]["continuanceDue"] == f"{int(day[:4]) + 1}{day[4:]}".replace("-02-29", "-02-28")


def test_agreements_ended_by_assignment_include_the_assigned_one_and_its_late_trades(store: EmbeddedStore) -> None:
    rows = select(store, "agreements-ended-by-assignment")
    assigned = {e["agreement"]: e["date"] for e in rows_of("agreement_events") if e["event"] == "assigned"}
    got = {ident(r["agreement"]): r for r in rows if r["how"] == "assigned"}
    assert {a: r["endedOn"] for a, r in got.items()} == assigned
    for agreement, day in assigned.items():
        late = [t for t in rows_of("transactions") if t["agreement"] == agreement and t["date"] >= day]
        assert int(got[agreement]["tradesAfter"] or 0) == len(late)


def test_money_trail_follows_one_trade_to_its_expenditures(store: EmbeddedStore) -> None:
    benefit = next(b for b in rows_of("benefits") if b["transaction"])
    rows = select(store, "money-trail", trade=benefit["transaction"])
    spent = {e["id"] for e in rows_of("expenditures")
             if any(b["transaction"] == benefit["transaction"] and b["id"] in e["funded_by"].split(";")
                    for b in rows_of("benefits"))}
    assert rows and all(ident(r["trade"]) == benefit["transaction"] for r in rows)
    assert {ident(r["expenditure"]) for r in rows if r["expenditure"]} == spent


def test_directed_trades_without_best_execution_match_the_blotter(store: EmbeddedStore) -> None:
    rows = select(store, "directed-trades-without-best-execution")
    expected = {t["id"] for t in rows_of("transactions") if t["directed"] == "true" and t["best_execution"] == "false"}
    assert expected and {ident(r["trade"]) for r in rows} == expected


def test_benefits_overspent_are_those_whose_expenditures_exceed_them(store: EmbeddedStore) -> None:
    spent: Counter[str] = Counter()
    for e in rows_of("expenditures"):
        for b in e["funded_by"].split(";"):
            spent[b] += Decimal(e["amount"])  # type: ignore[assignment]
    expected = {b["id"] for b in rows_of("benefits") if spent[b["id"]] > Decimal(b["amount"])}
    rows = select(store, "benefits-overspent")
    assert expected and {ident(r["benefit"]) for r in rows} == expected
    assert all(Decimal(r["overspent"] or "0") > 0 for r in rows)


def test_distributor_reports_count_the_days_to_delivery(store: EmbeddedStore) -> None:
    from datetime import date

    rows = {ident(r["report"]): r for r in select(store, "distributor-reports")}
    for rep in rows_of("reports"):
        days = (date.fromisoformat(rep["delivered"]) - date.fromisoformat(rep["period_end"])).days
        assert rows[rep["id"]]["daysAfter"] == str(days)


def test_plan_votes_count_each_ballot_once(store: EmbeddedStore) -> None:
    rows = {ident(r["matter"]): r for r in select(store, "plan-votes-by-matter")}
    votes: Counter[tuple[str, str]] = Counter((b["matter"], b["vote"]) for b in rows_of("ballots"))
    for (matter, vote), n in votes.items():
        if matter in rows:
            assert rows[matter][vote] == str(n)
    assert rows


def test_series_overview_counts_each_trade_once(store: EmbeddedStore) -> None:
    rows = {ident(r["series"]): r for r in select(store, "series-overview")}
    per_series = Counter(t["series"] for t in rows_of("transactions"))
    assert {s: int(r["trades"] or 0) for s, r in rows.items() if int(r["trades"] or 0)} == dict(per_series)
    assert all(r["name"] for r in rows.values())


def test_graph_provenance_lists_every_named_graph_with_its_source(store: EmbeddedStore) -> None:
    rows = {r["graph"]: r for r in select(store, "graph-provenance")}
    assert set(rows) == set(store.named_graphs())
    bundle = next(g for g in rows if "/graph/bundle/" in g)
    assert rows[bundle]["source"] == str(example_bundle().resolve()) and len(rows[bundle]["sha256"] or "") == 64
    # the bundle repeats what the filing already says of its series and organizations
    assert int(rows[bundle]["repeated"]) == len(Holdings.read(store).repeats[bundle]) > 0


def test_graph_provenance_lists_a_bundle_that_only_repeats_others(tmp_path: Path) -> None:
    store = EmbeddedStore()
    copies = [shutil.copytree(example_bundle(), tmp_path / name) for name in ("export-q1", "export-q2")]
    load_all(store, copies)
    rows = {r["graph"]: r for r in select(store, "graph-provenance")}
    second = bundle_graph(copies[1])
    assert (rows[second]["triples"], rows[second]["source"]) == ("0", str(copies[1].resolve()))
    # one record per row the first export gives, whatever its number of facts
    assert (rows[second]["repeated"], rows[second]["repeatedRows"]) == ("0", str(sum(
        len(rows_of(table)) for table in TABLES if (example_bundle() / f"{table}.csv").is_file())))


def test_the_cli_runs_a_curated_query_with_a_parameter() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bepgraph.cli", "query", "trustees-as-of", "--param", "asOf=2003-06-30",
         "--format", "csv"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("trustee,name,from,to,inOffice,ties,screen")
    assert "Andrew M. Hollis" in done.stdout
