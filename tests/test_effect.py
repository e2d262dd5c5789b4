from bepgraph.validation.approvals import matter_approvals
from bepgraph.validation.effect import agreement_in_force, series_effect
from bepgraph.validation.facts import Agreement, AgreementEvent, SeriesFacts
from bepgraph.validation.persons import Persons

from .derivation import S, adoption, ballots, continuance, d, make_facts, matter, rel, vote


def effect(*parts, **kw):  # type: ignore[no-untyped-def]
    facts = make_facts(*parts, **kw)
    return series_effect(facts, S, matter_approvals(facts, Persons(facts)))


def spans(*parts, **kw) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(str(i.start), str(i.end) if i.end else None, i.end_reason) for i in effect(*parts, **kw)[0]]


def test_plan_takes_effect_when_the_last_needed_approval_is_given() -> None:
    board = adoption("A", "2002-02-14", shareholders=False)
    shareholders = {"matters": [matter("B", "2002-05-16", "adopt")], "votes": [vote("B")]}
    assert spans(board, shareholders, as_of="2002-12-31") == [("2002-05-16", None, None)]


def test_effective_date_later_than_the_approvals_delays_effect() -> None:
    assert spans(adoption("A", "2002-05-16", effective=d("2002-07-01")), as_of="2002-12-31") == [
        ("2002-07-01", None, None)]


def test_series_added_after_plan_date_needs_no_shareholder_vote() -> None:
    added = [SeriesFacts(S, added_to_plan=d("2003-01-01"))]
    assert spans(adoption("A", "2002-12-10", shareholders=False), series=added, as_of="2003-06-30") == [
        ("2003-01-01", None, None)]


def test_schedule_a_series_without_shareholder_vote_never_takes_effect() -> None:
    intervals, actions = effect(adoption("A", "2002-05-16", shareholders=False))
    assert intervals == []
    [adopt] = [a for a in actions if a.action == "adopt"]
    assert (adopt.day, adopt.missing, adopt.matters) == (None, ("shareholder",), ("A",))


def test_series_added_on_the_plan_date_is_a_schedule_a_series() -> None:
    same_day = [SeriesFacts(S, added_to_plan=d("2002-05-16"))]
    assert spans(adoption("A", "2002-05-16", shareholders=False), series=same_day) == []


def test_continuance_on_the_anniversary_keeps_the_plan_in_effect() -> None:
    assert spans(adoption("A", "2002-05-16"), continuance("C", "2003-05-16"), as_of="2004-01-01") == [
        ("2002-05-16", None, None)]


def test_plan_lapses_on_the_anniversary_without_a_continuance() -> None:
    intervals, _ = effect(adoption("A", "2002-05-16"), continuance("C", "2003-05-17"))
    [interval] = intervals
    assert (interval.end, interval.end_reason, interval.continuance_due) == (d("2003-05-16"), "lapsed",
                                                                              d("2003-05-16"))


def test_adoption_on_29_february_lapses_on_28_february() -> None:
    assert spans(adoption("A", "2004-02-29")) == [("2004-02-29", "2005-02-28", "lapsed")]


def test_later_continuance_does_not_revive_lapsed_plan() -> None:
    assert spans(adoption("A", "2002-05-16"), continuance("C", "2003-06-01"), continuance("D", "2003-09-01")) == [
        ("2002-05-16", "2003-05-16", "lapsed")]


def test_new_adoption_after_lapse_counts_only_matters_voted_on_or_after_the_lapse() -> None:
    early_board = adoption("B", "2003-04-01", shareholders=False)  # voted before the lapse: does not count
    late_votes = {"matters": [matter("V", "2003-06-01", "adopt")], "votes": [vote("V")]}
    intervals, actions = effect(adoption("A", "2002-05-16"), early_board, late_votes)
    assert [(i.start, i.end) for i in intervals] == [(d("2002-05-16"), d("2003-05-16"))]
    assert actions[-1].missing == ("board", "rule12b1")
    fresh_board = adoption("F", "2003-07-01", shareholders=False)
    assert spans(adoption("A", "2002-05-16"), early_board, late_votes, fresh_board, as_of="2004-01-01") == [
        ("2002-05-16", "2003-05-16", "lapsed"), ("2003-07-01", None, None)]


def test_termination_takes_effect_on_its_effective_date_even_with_late_notice() -> None:
    term = {"matters": [matter("K", "2003-03-01", "terminate", notice_date=d("2003-01-01"),
                               effective=d("2003-04-15"))], "ballots": ballots("K")}
    assert spans(adoption("A", "2002-05-16"), term) == [("2002-05-16", "2003-04-15", "terminated")]


def test_termination_without_effective_date_takes_effect_at_its_meeting() -> None:
    term = {"matters": [matter("K", "2003-03-01", "terminate")], "votes": [vote("K")]}
    assert spans(adoption("A", "2002-05-16"), term) == [("2002-05-16", "2003-03-01", "terminated")]


def test_termination_without_the_votes_it_needs_does_not_end_the_plan() -> None:
    term = {"matters": [matter("K", "2003-03-01", "terminate")], "ballots": ballots("K", ("t-1",))}
    intervals, actions = effect(adoption("A", "2002-05-16"), term, as_of="2003-04-01")
    assert [(i.start, i.end) for i in intervals] == [(d("2002-05-16"), None)]
    assert [a.day for a in actions if a.action == "terminate"] == [None]


def test_removal_from_schedule_a_ends_the_plan_for_the_series() -> None:
    removed = [SeriesFacts(S, removed_from_plan=d("2002-10-01"))]
    assert spans(adoption("A", "2002-05-16"), series=removed) == [("2002-05-16", "2002-10-01", "removed")]


def test_open_interval_shows_when_the_next_continuance_is_due() -> None:
    [interval] = effect(adoption("A", "2002-05-16"), continuance("C", "2003-05-01"), as_of="2003-12-31")[0]
    assert (interval.end, interval.continuance_due) == (None, d("2004-05-01"))


def test_facts_after_the_as_of_date_are_not_an_end() -> None:
    term = {"matters": [matter("K", "2003-03-01", "terminate", effective=d("2003-06-01"))], "ballots": ballots("K")}
    assert spans(adoption("A", "2002-05-16"), term, as_of="2003-05-01") == [("2002-05-16", None, None)]


def in_force(agreement: Agreement, **kw):  # type: ignore[no-untyped-def]
    facts = make_facts(agreements=[agreement], **kw)
    return agreement_in_force(agreement, facts, Persons(facts).control_on)


DB = Agreement("DB-1", ("trust", "bd-1"), d("2002-06-01"), related_to_plan=True)


def test_agreement_is_in_force_until_its_assignment() -> None:
    force = in_force(DB, events=[AgreementEvent("E1", "DB-1", d("2003-09-30"), "assigned"),
                                 AgreementEvent("E2", "DB-1", d("2003-01-01"), "amended")])
    assert (force.end, force.end_reason, force.rests_on) == (d("2003-09-30"), "assigned", ("E1",))


def test_agreement_ends_on_the_first_of_its_end_date_and_termination() -> None:
    ending = Agreement("DB-1", ("trust", "bd-1"), d("2002-06-01"), ends=d("2004-01-01"))
    force = in_force(ending, events=[AgreementEvent("E1", "DB-1", d("2004-03-01"), "terminated")])
    assert (force.end, force.end_reason) == (d("2004-01-01"), "ends")


def test_new_controlling_parent_assigns_every_agreement_of_the_party() -> None:
    other = Agreement("BC-1", ("distributor", "bd-1"), d("2002-01-01"), related_to_plan=True)
    rows = [rel("R1", "parent", "controls", "bd-1"), rel("R2", "grandparent", "controls", "parent", start="2003-03-03")]
    facts = make_facts(agreements=[DB, other], relationships=rows)
    persons = Persons(facts)
    for agreement in (DB, other):
        force = agreement_in_force(agreement, facts, persons.control_on)
        assert (force.end, force.end_reason, force.rests_on) == (d("2003-03-03"), "change of control", ("R1", "R2"))


def test_existing_controller_adding_a_control_row_is_not_a_change_of_control() -> None:
    rows = [rel("R1", "grandparent", "controls", "parent"), rel("R2", "parent", "controls", "bd-1"),
            rel("R3", "grandparent", "controls", "bd-1", start="2003-03-03")]
    assert in_force(DB, relationships=rows).end is None


def test_new_controller_of_the_trust_assigns_its_agreements() -> None:
    force = in_force(DB, relationships=[rel("R1", "acme", "controls", "trust", start="2004-02-01")])
    assert (force.end, force.end_reason) == (d("2004-02-01"), "change of control")


def test_control_starting_before_the_agreement_is_not_an_assignment() -> None:
    assert in_force(DB, relationships=[rel("R1", "acme", "controls", "bd-1", start="2002-05-31")]).end is None


def gaps(*parts, **kw) -> list[list[tuple]]:  # type: ignore[no-untyped-def]
    """Each adoption's BEP-4.2 gaps as (start, end, missing) tuples, adoption by adoption."""
    return [[(str(g.start), str(g.end) if g.end else None, g.missing) for g in a.lacking]
            for a in effect(*parts, **kw)[1] if a.action == "adopt"]


def test_adoption_gap_runs_from_the_first_adopt_meeting_to_the_day_every_approval_is_held() -> None:
    board = adoption("A", "2002-02-14", shareholders=False)
    shareholders = {"matters": [matter("B", "2002-05-16", "adopt")], "votes": [vote("B")]}
    assert gaps(board, shareholders, as_of="2002-12-31") == [[("2002-02-14", "2002-05-16", ("shareholder",))]]


def test_adoption_gap_is_cut_where_the_approvals_lacked_change() -> None:
    interested = [rel("R1", "t-1", "officer_of", "jnam"), rel("R2", "t-2", "officer_of", "jnam")]
    shareholders = {"matters": [matter("S", "2002-02-14", "adopt")], "votes": [vote("S")]}
    board = {"matters": [matter("B", "2002-04-01", "adopt")], "ballots": ballots("B", ("t-1", "t-2"))}
    independent = {"matters": [matter("I", "2002-06-01", "adopt")], "ballots": ballots("I", ("t-3",))}
    assert gaps(shareholders, board, independent, relationships=interested, as_of="2002-12-31") == [[
        ("2002-02-14", "2002-04-01", ("board", "rule12b1")),
        ("2002-04-01", "2002-06-01", ("rule12b1",)),
    ]]


def test_adoption_holding_every_approval_at_its_first_meeting_has_no_gap() -> None:
    assert gaps(adoption("A", "2002-05-16")) == [[]]


def test_adoption_that_never_holds_its_approvals_has_an_open_gap() -> None:
    assert gaps(adoption("A", "2002-05-16", shareholders=False)) == [[("2002-05-16", None, ("shareholder",))]]


def test_new_adoption_after_a_lapse_opens_its_gap_at_its_own_first_adopt_meeting() -> None:
    late_board = adoption("F", "2003-07-01", shareholders=False)
    late_votes = {"matters": [matter("V", "2003-09-01", "adopt")], "votes": [vote("V")]}
    assert gaps(adoption("A", "2002-05-16"), late_board, late_votes, as_of="2004-01-01") == [
        [], [("2003-07-01", "2003-09-01", ("shareholder",))]]
