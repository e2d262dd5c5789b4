"""Trustees and the relationships from which their independence is judged."""

from __future__ import annotations

from datetime import date

import strawberry

from .fields import LABEL, Entity, date_field, decimal_field, lazy, props_of, text_field, types_of
from .kinds import BALLOTS, RELATIONSHIPS
from .lists import children_field

__all__ = ["Party", "Relationship", "Trustee", "TrusteeStatus"]

BallotRef, ballot = lazy("governance", "Ballot")
OrganizationRef, organization = lazy("organizations", "Organization")
AgreementRef, agreement = lazy("agreements", "Agreement")
PlanRef, plan = lazy("plan", "Plan")
RelationshipRef, relationship_of = lazy("trustees", "Relationship")


@strawberry.type(description="A trustee's standing on a date, as the rules engine derived it (rules.md, Terms).")
class TrusteeStatus:
    as_of: date
    in_office: bool
    is_interested_person: bool = strawberry.field(description="An interested person of the Trust (ICA §2(a)(19)).")
    is_rule12b1_trustee: bool = strawberry.field(
        name="isRule12b1Trustee", description="Not interested and without a financial interest in the plan (plan ¶4).")
    reasons: list[str] = strawberry.field(description="Why, one sentence per reason.")
    evidence: list[str] = strawberry.field(description="The facts the status rests on, as IRIs.")


@strawberry.type(description="A trustee of the Trust.")
class Trustee(Entity):
    name = text_field(LABEL, "The trustee's name.", required=True)
    from_ = date_field("startDate", "The date the person became a trustee.", required=True)
    to = date_field("endDate", "The first day the person was no longer a trustee.")
    relationships = children_field(RELATIONSHIPS, "subjectParty", RelationshipRef, relationship_of,
                                   "The trustee's relationships (employment, holdings, family, interests).")
    ballots = children_field(BALLOTS, "trustee", BallotRef, ballot, "How the trustee voted, matter by matter.")

    @strawberry.field(description="Whether the trustee is interested or a Rule 12b-1 Trustee as of a date "
                                  "(default today), with the reasons; null if the rules engine has no status for them.")
    async def status(self, info: strawberry.Info, as_of: date | None = None) -> TrusteeStatus | None:
        snap = await info.context.snapshot(as_of)
        state = snap.trustees.get(self.ref)
        if state is None:
            return None
        return TrusteeStatus(as_of=state.on, in_office=state.in_office, is_interested_person=state.interested,
                             is_rule12b1_trustee=state.rule12b1, reasons=list(state.reasons),
                             evidence=list(state.rests_on))


@strawberry.type(description="One end of a relationship: exactly one of its fields is set.")
class Party:
    kind: str = strawberry.field(description="`trustee`, `organization`, `agreement` or `plan`.")
    trustee: Trustee | None = None
    organization: OrganizationRef | None = None  # type: ignore[valid-type]
    agreement: AgreementRef | None = None  # type: ignore[valid-type]
    plan: PlanRef | None = None  # type: ignore[valid-type]


async def _party(info: strawberry.Info, iri: str | None) -> Party | None:
    if iri is None:
        return None
    kinds = await types_of(info, iri)
    if "Trustee" in kinds:
        return Party(kind="trustee", trustee=Trustee(ref=iri))
    if "Agreement" in kinds:
        return Party(kind="agreement", agreement=agreement(iri))
    if "Plan" in kinds:
        return Party(kind="plan", plan=plan(iri))
    return Party(kind="organization", organization=organization(iri))


@strawberry.type(description="A fact from a trustee questionnaire or corporate record (relationships.csv).")
class Relationship(Entity):
    relation = text_field("relation", "The relation code, e.g. `owns_voting_securities_of`.", required=True)
    percent = decimal_field("percent", "The percent held, for `owns_voting_securities_of`.")
    from_ = date_field("startDate", "The first day it holds.", required=True)
    to = date_field("endDate", "The first day it no longer holds.")

    @strawberry.field(description="Who holds the relation.")
    async def subject(self, info: strawberry.Info) -> Party | None:
        found = (await props_of(info, self.ref)).get("https://w3id.org/bepgraph/ontology#subjectParty", [])
        return await _party(info, found[0].value if found else None)

    @strawberry.field(name="object", description="What it points at: a trustee, an organization, an agreement or the plan.")
    async def object_(self, info: strawberry.Info) -> Party | None:
        found = (await props_of(info, self.ref)).get("https://w3id.org/bepgraph/ontology#objectParty", [])
        return await _party(info, found[0].value if found else None)
