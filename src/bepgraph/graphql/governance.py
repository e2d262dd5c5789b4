"""Governance: meetings, the matters voted at them, trustees' ballots and shareholders' votes."""

from __future__ import annotations

import strawberry

from .fields import Entity, bool_field, date_field, decimal_field, lazy, props_of, ref_field, refs_field, text_field, types_of
from .kinds import BALLOTS, MATTERS, SHAREHOLDER_VOTES
from .lists import children_field

__all__ = ["Ballot", "Matter", "Meeting", "ShareholderVote"]

SeriesRef, series = lazy("series", "Series")
TrusteeRef, trustee = lazy("trustees", "Trustee")
PartyRef, _ = lazy("trustees", "Party")
MeetingRef, meeting_of = lazy("governance", "Meeting")
MatterRef, matter_of = lazy("governance", "Matter")


@strawberry.type(description="How one trustee voted on one board matter.")
class Ballot(Entity):
    matter = ref_field("matter", MatterRef, matter_of, "The matter voted on.", required=True)
    trustee = ref_field("trustee", TrusteeRef, trustee, "The trustee.", required=True)
    vote = text_field("vote", "`for`, `against`, `abstain` or `absent`.", required=True)
    in_person = bool_field("inPerson", "Cast in person.", required=True)


@strawberry.type(description="How the shareholders of one series voted on one matter.")
class ShareholderVote(Entity):
    matter = ref_field("matter", MatterRef, matter_of, "The matter voted on.", required=True)
    series = ref_field("series", SeriesRef, series, "The series whose shareholders voted.", required=True)
    shares_outstanding = decimal_field("sharesOutstanding", "Shares outstanding.", required=True)
    shares_present = decimal_field("sharesPresent", "Shares present or represented by proxy.", required=True)
    shares_for = decimal_field("sharesFor", "Shares voted for.", required=True)
    shares_against = decimal_field("sharesAgainst", "Shares voted against.")


@strawberry.type(description="One action voted at one meeting (matters.csv).")
class Matter(Entity):
    meeting = ref_field("meeting", MeetingRef, meeting_of, "The meeting it was voted at.", required=True)
    action = text_field("action", "`adopt`, `continue`, `amend`, `terminate`, `approve_agreement` or "
                                  "`nominate_trustee`.", required=True)
    series = refs_field("series", SeriesRef, series, "The series it is taken for (more than one breaks plan ¶11).")
    material = bool_field("material", "For `amend`: a material amendment.")
    increases_spending = bool_field("increasesSpending", "For `amend`: increases materially the amount spent.")
    increase_from_credits = bool_field("increaseFromCredits", "The increase comes only from more credits (plan ¶8).")
    notice_date = date_field("noticeDate", "For `terminate`: the date written notice was given.")
    effective = date_field("effectiveDate", "The date the action takes effect.")
    ballots = children_field(BALLOTS, "matter", Ballot, lambda i: Ballot(ref=i), "The trustees' ballots.")
    shareholder_votes = children_field(SHAREHOLDER_VOTES, "matter", ShareholderVote,
                                       lambda i: ShareholderVote(ref=i), "The shareholders' votes, per series.")

    @strawberry.field(description="What it is about: the plan, an agreement or a trustee.")
    async def subject(self, info: strawberry.Info) -> PartyRef | None:  # type: ignore[valid-type]
        from .trustees import _party

        found = (await props_of(info, self.ref)).get("https://w3id.org/bepgraph/ontology#matterSubject", [])
        return await _party(info, found[0].value if found else None)


@strawberry.type(description="A meeting of the board or of shareholders.")
class Meeting(Entity):
    date = date_field("date", "When it was held.", required=True)
    series = ref_field("series", SeriesRef, series, "For a meeting of one series' shareholders.")
    in_person = bool_field("inPerson", "Held in person.", required=True)
    called_for_plan = bool_field("calledForPlan", "Called, at least in part, to vote on the plan or its agreements.",
                                 required=True)
    matters = children_field(MATTERS, "meeting", Matter, lambda i: Matter(ref=i), "The matters voted at it.")

    @strawberry.field(description="`board` or `shareholders`.")
    async def body(self, info: strawberry.Info) -> str:
        kinds = await types_of(info, self.ref)
        return "board" if "BoardMeeting" in kinds else "shareholders" if "ShareholderMeeting" in kinds else "unknown"
