from bepgraph.validation.facts import Agreement, Trustee
from bepgraph.validation.persons import Persons, affiliation_intervals

from .derivation import d, make_facts, rel

DAY = d("2003-01-01")


def persons(*rels, **kw) -> Persons:  # type: ignore[no-untyped-def]
    return Persons(make_facts(relationships=rels, **kw))


def reasons(p: Persons, subject: str, org: str) -> list[str]:
    return [r.text for r in p.affiliation(subject, org, DAY)]


def interested(p: Persons, trustee: str = "t-1") -> bool:
    return p.status(trustee, DAY).interested


def test_trustee_is_out_of_office_from_the_day_in_to() -> None:
    p = persons(trustees=[Trustee("t-1", d("2000-01-01"), d("2003-01-01"))])
    assert p.status("t-1", d("2002-12-31")).in_office
    assert not p.status("t-1", DAY).in_office
    assert not p.status("t-1", DAY).rule12b1


def test_control_chain_makes_common_control() -> None:
    p = persons(rel("R1", "parent", "controls", "jnam"), rel("R2", "parent", "controls", "bd-1"))
    assert reasons(p, "bd-1", "jnam") == ["under common control via parent"]
    assert p.affiliation("bd-1", "jnam", DAY)[0].rests_on == ("R1", "R2")


def test_control_through_a_chain_is_control() -> None:
    p = persons(rel("R1", "grandparent", "controls", "parent"), rel("R2", "parent", "controls", "jnam"))
    assert reasons(p, "grandparent", "jnam") == ["controls"]
    assert reasons(p, "jnam", "grandparent") == ["controlled by"]
    assert p.affiliation("grandparent", "jnam", DAY)[0].rests_on == ("R1", "R2")


def test_common_control_reaches_down_the_chain() -> None:
    p = persons(rel("R1", "grandparent", "controls", "parent"), rel("R2", "parent", "controls", "jnam"),
                rel("R3", "grandparent", "controls", "bd-1"))
    assert reasons(p, "bd-1", "jnam") == ["under common control via grandparent"]


def test_under_common_control_rows_join_one_group() -> None:
    p = persons(rel("R1", "jnam", "under_common_control_with", "acme"),
                rel("R2", "acme", "under_common_control_with", "bd-1"))
    assert reasons(p, "bd-1", "jnam") == ["under common control via a common-control group"]


def test_control_comes_only_from_control_rows_not_from_a_percentage() -> None:
    p = persons(rel("R1", "parent", "owns_voting_securities_of", "jnam", percent="60"),
                rel("R2", "parent", "owns_voting_securities_of", "bd-1", percent="60"))
    assert reasons(p, "bd-1", "jnam") == []
    assert reasons(p, "parent", "jnam") == ["owns ≥5% of its voting securities"]


def test_exactly_5_percent_holding_is_affiliation_both_directions() -> None:
    p = persons(rel("R1", "jnam", "owns_voting_securities_of", "bd-1", percent="5"))
    assert reasons(p, "jnam", "bd-1") == ["owns ≥5% of its voting securities"]
    assert reasons(p, "bd-1", "jnam") == ["≥5% of its voting securities owned by it"]


def test_holding_just_under_5_percent_is_not_affiliation() -> None:
    p = persons(rel("R1", "jnam", "owns_voting_securities_of", "bd-1", percent="4.9999"))
    assert reasons(p, "jnam", "bd-1") == []
    assert reasons(p, "bd-1", "jnam") == []


def test_officer_director_partner_and_employee_are_affiliated_persons() -> None:
    p = persons(rel("R1", "t-1", "officer_of", "jnam"), rel("R2", "t-2", "director_of", "bd-1"),
                rel("R3", "t-3", "partner_of", "acme"), rel("R4", "t-3", "employee_of", "bd-1"))
    assert reasons(p, "t-1", "jnam") == ["officer"]
    assert reasons(p, "t-2", "bd-1") == ["director"]
    assert reasons(p, "t-3", "acme") == ["partner"]
    assert reasons(p, "t-3", "bd-1") == ["employee"]


def test_relationship_no_longer_counts_from_its_to_day() -> None:
    p = persons(rel("R1", "t-1", "officer_of", "jnam", end="2003-01-01"))
    assert p.status("t-1", d("2002-12-31")).interested
    assert not interested(p)


def test_officer_of_the_adviser_is_interested() -> None:
    p = persons(rel("R1", "t-1", "officer_of", "jnam"))
    status = p.status("t-1", DAY)
    assert status.interested and not status.rule12b1
    assert [r.text for r in status.reasons] == ["affiliated person of jnam (officer)"]
    assert status.rests_on == ("R1",)


def test_holder_of_any_adviser_voting_securities_is_interested() -> None:
    assert interested(persons(rel("R1", "t-1", "owns_voting_securities_of", "jnam", percent="0.01")))
    assert interested(persons(rel("R1", "t-1", "owns_voting_securities_of", "ppm-america")))


def test_holder_of_parent_voting_securities_is_interested() -> None:
    p = persons(rel("R1", "grandparent", "controls", "parent"), rel("R2", "parent", "controls", "distributor"),
                rel("R3", "t-1", "owns_voting_securities_of", "grandparent", percent="0.5"))
    status = p.status("t-1", DAY)
    assert status.interested
    assert status.reasons[0].text == "owns voting securities of grandparent, which controls distributor"
    assert status.rests_on == ("R1", "R2", "R3")


def test_small_holding_in_a_broker_dealer_alone_is_not_interest() -> None:
    assert not interested(persons(rel("R1", "t-1", "owns_voting_securities_of", "bd-1", percent="1")))
    assert interested(persons(rel("R1", "t-1", "owns_voting_securities_of", "bd-1", percent="5")))


def test_affiliated_person_of_any_broker_dealer_is_interested() -> None:
    assert interested(persons(rel("R1", "t-1", "employee_of", "clear-1")))
    assert not interested(persons(rel("R1", "t-1", "employee_of", "acme")))


def test_immediate_family_of_interested_person_is_interested_both_ways() -> None:
    p = persons(rel("R1", "t-2", "officer_of", "distributor"), rel("R2", "t-1", "immediate_family_of", "t-2"))
    assert interested(p, "t-1")
    assert p.status("t-1", DAY).rests_on == ("R1", "R2")
    q = persons(rel("R1", "t-2", "officer_of", "distributor"), rel("R2", "t-2", "immediate_family_of", "t-1"))
    assert interested(q, "t-1")


def test_immediate_family_of_a_non_interested_person_is_not_interested() -> None:
    assert not interested(persons(rel("R1", "t-1", "immediate_family_of", "t-2")))


def test_legal_counsel_to_trust_adviser_or_distributor_is_interested() -> None:
    for org in ("trust", "jnam", "distributor"):
        assert interested(persons(rel("R1", "t-1", "legal_counsel_to", org))), org
    assert not interested(persons(rel("R1", "t-1", "legal_counsel_to", "acme")))


def test_being_a_trustee_of_the_trust_alone_does_not_make_a_person_interested() -> None:
    p = persons(rel("R1", "t-1", "director_of", "trust"), rel("R2", "t-1", "officer_of", "trust"))
    assert not interested(p)
    assert p.status("t-1", DAY).rule12b1


def test_financial_interest_in_plan_or_related_agreement_bars_rule12b1_but_is_not_interest() -> None:
    related = Agreement("DB-1", ("trust", "bd-1"), d("2002-01-01"), related_to_plan=True)
    other = Agreement("ADV", ("trust", "jnam"), d("2002-01-01"), related_to_plan=False)
    p = persons(rel("R1", "t-1", "financial_interest_in", "plan"), rel("R2", "t-2", "financial_interest_in", "DB-1"),
                rel("R3", "t-3", "financial_interest_in", "ADV"), agreements=[related, other])
    for trustee in ("t-1", "t-2"):
        status = p.status(trustee, DAY)
        assert not status.interested and not status.rule12b1
    assert p.status("t-3", DAY).rule12b1
    assert p.rule12b1_trustees(DAY) == ["t-3"]


def test_independent_majority_needs_more_than_half_of_trustees_in_office() -> None:
    p = persons(rel("R1", "t-1", "officer_of", "jnam"), rel("R2", "t-2", "officer_of", "jnam", start="2003-01-01"))
    assert p.independent_majority(d("2002-12-31"))
    assert not p.independent_majority(DAY)


def test_affiliation_intervals_follow_the_rows_dates() -> None:
    p = persons(rel("R1", "t-1", "officer_of", "jnam", start="2001-01-01", end="2003-06-01"),
                rel("R2", "t-1", "director_of", "jnam", start="2003-06-01"))
    found = [(a.start, a.end, a.reasons) for a in affiliation_intervals(p) if a.subject == "t-1"]
    assert found == [(d("2001-01-01"), d("2003-06-01"), ("officer",)), (d("2003-06-01"), None, ("director",))]
