"""BEP-4.2's window beside BEP-4.1 (rules.md, fine points, "Adoption windows").

Directed activity dated from the meeting of a series' first adopt matter until the day
its adoption holds every approval is a BEP-4.2 finding on each adopt matter, naming the
approval lacked on those days; it is also BEP-4.1's, on the activity itself, since the
plan is not in effect then. Activity before any adopt matter was voted is BEP-4.1's alone,
and activity from the day every approval is held is neither's.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.findings import Finding
from bepgraph.validation.run import validate_graph

CASE = Path(__file__).parent / "rules" / "cases" / "BEP-4.2" / "activity-the-day-before-the-adoption-held-every-approval"
HEADER = ("id,date,series,placed_by,executing_broker,clearing_broker,introducing_broker,agreement,directed,"
          "commission,best_execution\n")
SERIES = "ppm-america-jnl-value-fund"


def _findings(tmp_path: Path, trades: dict[str, str], **replaced: str) -> list[Finding]:
    """The BEP-4.1 and BEP-4.2 findings of the case's governance with *trades* (id: date) as its only activity."""
    bundle = tmp_path / "bundle"
    shutil.copytree(CASE, bundle)
    (bundle / "benefits.csv").write_text(
        "id,date,kind,transaction,broker,recipient,amount,generating_series,benefiting_series\n")
    (bundle / "expenditures.csv").write_text("id,date,funded_by,category,amount,payee,description\n")
    (bundle / "transactions.csv").write_text(HEADER + "".join(
        f"{ident},{day},{SERIES},ppm-america,bd-1,,,DB-1,true,1250.00,true\n" for ident, day in trades.items()))
    for name, text in replaced.items():
        (bundle / name).write_text(text)
    store = EmbeddedStore()
    load_all(store, [bundle], with_ontology=False)
    return validate_graph(store, date(2002, 12, 31), rules=["BEP-4.1", "BEP-4.2"]).findings


def _keys(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.focus.id) for f in findings}


def test_activity_before_the_first_adopt_meeting_is_bep_4_1_alone(tmp_path: Path) -> None:
    assert _keys(_findings(tmp_path, {"T-0": "2002-05-15"})) == {("BEP-4.1", "T-0")}


def test_activity_in_the_window_is_bep_4_1_on_the_trade_and_bep_4_2_on_each_adopt_matter(tmp_path: Path) -> None:
    found = _findings(tmp_path, {"T-0": "2002-05-15", "T-1": "2002-07-31", "T-2": "2002-08-01"})
    assert _keys(found) == {("BEP-4.1", "T-0"), ("BEP-4.1", "T-1"), ("BEP-4.2", "A-1"), ("BEP-4.2", "A-2")}
    by_matter = {f.focus.id: f for f in found if f.rule == "BEP-4.2"}
    assert by_matter["A-1"].message == (
        f"Adoption matter A-1 of 2002-05-16 for series {SERIES}: directed activity took place from 2002-07-31 "
        "while the adoption lacked shareholder approval; it held every approval it needs only from 2002-08-01.")
    assert by_matter["A-2"].message.startswith("Adoption matter A-2 of 2002-08-01 ")
    # the evidence is the first activity in the window, not the earlier trade BEP-4.1 has alone
    assert "transactions/T-1" in by_matter["A-1"].evidence and "transactions/T-0" not in by_matter["A-1"].evidence


def test_activity_from_the_day_every_approval_is_held_is_neither_rules(tmp_path: Path) -> None:
    assert _findings(tmp_path, {"T-2": "2002-08-01", "T-3": "2002-11-30"}) == []


# shareholders first, then a board majority that is not one of the Rule 12b-1 Trustees (officers of a
# broker-dealer), then the one Rule 12b-1 Trustee
MATTERS = """id,meeting,action,series,subject,material,increases_spending,increase_from_credits,notice_date,effective
S-1,M-1,adopt,ppm-america-jnl-value-fund,plan,,,,,
B-1,M-2,adopt,ppm-america-jnl-value-fund,plan,,,,,
I-1,M-3,adopt,ppm-america-jnl-value-fund,plan,,,,,
AG-1,M-2,approve_agreement,,DB-1,,,,,
"""
MEETINGS = """id,date,body,series,in_person,called_for_plan
M-1,2002-03-01,shareholders,ppm-america-jnl-value-fund,true,true
M-2,2002-05-16,board,,true,true
M-3,2002-09-01,board,,true,true
"""
VOTES = """matter,series,shares_outstanding,shares_present,shares_for,shares_against
S-1,ppm-america-jnl-value-fund,1000,800,700,
"""
BALLOTS = """matter,trustee,vote,in_person
B-1,t-1,for,true
B-1,t-2,for,true
I-1,t-3,for,true
AG-1,t-1,for,true
AG-1,t-2,for,true
AG-1,t-3,for,true
"""
RELATIONSHIPS = """id,subject,relation,object,percent,from,to
R-1,t-1,officer_of,bd-1,,2000-01-01,
R-2,t-2,officer_of,bd-1,,2000-01-01,
"""


def _stepwise(tmp_path: Path, trades: dict[str, str]) -> dict[str, str]:
    found = _findings(tmp_path, trades, **{"matters.csv": MATTERS, "meetings.csv": MEETINGS,
                                           "shareholder_votes.csv": VOTES, "ballots.csv": BALLOTS,
                                           "relationships.csv": RELATIONSHIPS})
    return {f.focus.id: f.message for f in found if f.rule == "BEP-4.2"}


def test_message_names_the_approvals_lacked_on_the_days_of_the_activity(tmp_path: Path) -> None:
    messages = _stepwise(tmp_path, {"T-1": "2002-06-03"})  # board held from 2002-05-16, 12b-1 not yet
    assert set(messages) == {"S-1", "B-1", "I-1"}
    assert "while the adoption lacked 12b-1 approval; it held every approval it needs only from 2002-09-01." in (
        messages["S-1"])


def test_message_names_every_approval_lacked_on_some_day_of_activity(tmp_path: Path) -> None:
    messages = _stepwise(tmp_path, {"T-1": "2002-04-02", "T-2": "2002-06-03"})
    assert "from 2002-04-02 while the adoption lacked 12b-1 and board approval;" in messages["S-1"]
