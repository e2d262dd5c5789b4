from bepgraph.validation.approvals import (agreement_approvals, amendment_approvals, combine, matter_approvals,
                                           shareholder_approves)
from bepgraph.validation.facts import Trustee
from bepgraph.validation.persons import Persons

from .derivation import S, T2, adoption, ballots, d, make_facts, matter, rel, vote


def kinds(facts, matter_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.kind for a in matter_approvals(facts, Persons(facts))[matter_id]]


def test_exactly_67_percent_of_present_shares_is_approval() -> None:
    assert shareholder_approves(vote("X", outstanding="1000", present="600", shares_for="402"))


def test_67_percent_is_compared_exactly_not_in_floating_point() -> None:
    # 0.603 is exactly 67 % of 0.9; in binary floating point 0.603 * 100 < 0.9 * 67
    assert shareholder_approves(vote("X", outstanding="1.7", present="0.9", shares_for="0.603"))


def test_just_under_67_percent_of_present_is_not_approval() -> None:
    assert not shareholder_approves(vote("X", outstanding="1000", present="600", shares_for="401.999"))


def test_67_percent_of_present_counts_only_when_more_than_half_is_present() -> None:
    assert not shareholder_approves(vote("X", outstanding="1000", present="500", shares_for="400"))
    assert shareholder_approves(vote("X", outstanding="1000", present="500.001", shares_for="400"))


def test_more_than_half_of_outstanding_is_approval() -> None:
    assert shareholder_approves(vote("X", outstanding="1000", present="1000", shares_for="500.0001"))
    assert not shareholder_approves(vote("X", outstanding="1000", present="1000", shares_for="500"))


def test_board_approval_needs_more_than_half_of_trustees_in_office() -> None:
    four = [Trustee(t, d("2000-01-01")) for t in ("t-1", "t-2", "t-3", "t-4")]
    half = {"matters": [matter("A", "2002-05-16", "adopt")], "ballots": ballots("A", ("t-1", "t-2"))}
    assert kinds(make_facts(half, trustees=four), "A") == []
    more = {"matters": [matter("A", "2002-05-16", "adopt")], "ballots": ballots("A", ("t-1", "t-2", "t-3"))}
    assert kinds(make_facts(more, trustees=four), "A") == ["board", "rule12b1"]


def test_vote_of_a_trustee_out_of_office_does_not_count() -> None:
    people = [Trustee("t-1", d("2000-01-01")), Trustee("t-2", d("2000-01-01"), d("2002-01-01")),
              Trustee("t-3", d("2000-01-01"))]
    part = {"matters": [matter("A", "2002-05-16", "adopt")], "ballots": ballots("A", ("t-1", "t-2"))}
    assert kinds(make_facts(part, trustees=people), "A") == []


def test_ballot_not_cast_in_person_does_not_count() -> None:
    part = {"matters": [matter("A", "2002-05-16", "adopt")],
            "ballots": ballots("A", ("t-1",)) + ballots("A", ("t-2", "t-3"), in_person=False)}
    assert kinds(make_facts(part), "A") == []


def test_meeting_not_in_person_or_not_called_for_plan_gives_no_board_approval() -> None:
    for kw in ({"in_person": False}, {"called_for_plan": False}):
        part = {"matters": [matter("A", "2002-05-16", "adopt", **kw)], "ballots": ballots("A")}
        assert kinds(make_facts(part), "A") == [], kw


def test_rule12b1_approval_counts_only_rule12b1_trustees() -> None:
    interested = [rel("R1", "t-1", "officer_of", "jnam"), rel("R2", "t-2", "officer_of", "jnam")]
    part = {"matters": [matter("A", "2002-05-16", "adopt")], "ballots": ballots("A", ("t-1", "t-2"))}
    assert kinds(make_facts(part, relationships=interested), "A") == ["board"]
    part = {"matters": [matter("A", "2002-05-16", "adopt")], "ballots": ballots("A", ("t-3",))}
    assert kinds(make_facts(part, relationships=interested), "A") == ["rule12b1"]


def test_termination_by_majority_of_trustees_need_not_be_in_person() -> None:
    part = {"matters": [matter("K", "2004-12-01", "terminate", in_person=False, called_for_plan=False)],
            "ballots": ballots("K", in_person=False)}
    assert kinds(make_facts(part), "K") == ["board", "rule12b1"]


def test_matter_listing_several_series_counts_for_none() -> None:
    part = {"matters": [matter("A", "2002-05-16", "adopt", (S, T2))], "ballots": ballots("A"),
            "votes": [vote("A", S), vote("A", T2)]}
    given = matter_approvals(make_facts(part), Persons(make_facts(part)))["A"]
    assert {a.kind for a in given} == {"board", "rule12b1", "shareholder"}
    assert all(a.series is None for a in given)


def test_shareholder_vote_of_another_series_gives_no_approval() -> None:
    part = {"matters": [matter("A", "2002-05-16", "adopt")], "ballots": [], "votes": [vote("A", T2)]}
    assert kinds(make_facts(part), "A") == []


def test_approval_date_is_first_day_all_needed_are_held_and_revoting_does_not_move_it() -> None:
    facts = make_facts(adoption("A", "2002-02-14", shareholders=False),
                       {"matters": [matter("B", "2002-05-16", "adopt")], "ballots": [], "votes": [vote("B")]},
                       adoption("C", "2002-09-01"))
    given = matter_approvals(facts, Persons(facts))
    day, missing, used = combine([a for m in given.values() for a in m], ("shareholder", "board", "rule12b1"))
    assert (day, missing) == (d("2002-05-16"), ())
    assert sorted({a.matter for a in used}) == ["A", "B"]


def test_combine_names_every_missing_approval() -> None:
    facts = make_facts(adoption("A", "2002-02-14", shareholders=False))
    given = matter_approvals(facts, Persons(facts))["A"]
    assert combine(given, ("shareholder", "board", "rule12b1"))[:2] == (None, ("shareholder",))


def test_material_amendment_needs_board_and_rule12b1_only() -> None:
    part = {"matters": [matter("AM", "2003-01-10", "amend", material=True)], "ballots": ballots("AM")}
    facts = make_facts(part)
    [action] = amendment_approvals(facts, matter_approvals(facts, Persons(facts)))
    assert (action.day, action.missing) == (d("2003-01-10"), ())


def test_amendment_increasing_spending_needs_shareholders_unless_from_credits() -> None:
    part = {"matters": [matter("AM", "2003-01-10", "amend", material=True, increases_spending=True)],
            "ballots": ballots("AM")}
    facts = make_facts(part)
    [action] = amendment_approvals(facts, matter_approvals(facts, Persons(facts)))
    assert (action.day, action.missing) == (None, ("shareholder",))
    part = {"matters": [matter("AM", "2003-01-10", "amend", material=True, increases_spending=True,
                               increase_from_credits=True)], "ballots": ballots("AM")}
    facts = make_facts(part)
    [action] = amendment_approvals(facts, matter_approvals(facts, Persons(facts)))
    assert action.missing == ()


def test_non_material_amendment_needs_no_approval() -> None:
    facts = make_facts({"matters": [matter("AM", "2003-01-10", "amend")], "ballots": []})
    [action] = amendment_approvals(facts, matter_approvals(facts, Persons(facts)))
    assert (action.day, action.missing) == (d("2003-01-10"), ())


def test_agreement_approval_combines_its_matters() -> None:
    interested = [rel("R1", "t-1", "officer_of", "jnam"), rel("R2", "t-2", "officer_of", "jnam")]
    board = {"matters": [matter("G1", "2002-05-01", "approve_agreement", (), subject="DB-1")],
             "ballots": ballots("G1", ("t-1", "t-2"))}
    independent = {"matters": [matter("G2", "2002-05-10", "approve_agreement", (), subject="DB-1")],
                   "ballots": ballots("G2", ("t-3",))}
    facts = make_facts(board, independent, relationships=interested)
    [action] = agreement_approvals(facts, matter_approvals(facts, Persons(facts)))
    assert (action.agreement, action.day, action.matters) == ("DB-1", d("2002-05-10"), ("G1", "G2"))
