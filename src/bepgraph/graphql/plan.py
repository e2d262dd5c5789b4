"""The plan itself, whether it is in effect for a series, and the duties it imposes (reports, records)."""

from __future__ import annotations

from datetime import date

import strawberry

from ..namespaces import entity_iri
from .errors import NotFound
from .fields import LABEL, Entity, bool_field, date_field, int_field, lazy, props_of, ref_field, refs_field, text_field

__all__ = ["Plan", "PlanStatus", "Record", "Report", "plan_status_of"]

SeriesRef, series = lazy("series", "Series")
OrganizationRef, organization = lazy("organizations", "Organization")
Paragraph, paragraph = lazy("plan", "PlanParagraph")


@strawberry.type(description="A numbered paragraph of the plan.")
class PlanParagraph(Entity):
    number = int_field("paragraphNumber", "Its number.")
    label = text_field(LABEL, "E.g. `Plan ¶4`.")
    text = text_field("text", "Its text (whitespace folded).")


@strawberry.type(description="The Brokerage Enhancement Plan, as filed.")
class Plan(Entity):
    name = text_field(LABEL, "Its title.")
    date = date_field("planDate", "The plan's date.")
    trust = ref_field("ofTrust", OrganizationRef, organization, "The Trust that adopted it.")
    schedule_a = refs_field("scheduleASeries", SeriesRef, series, "The series of Schedule A.")
    paragraphs = refs_field("hasParagraph", Paragraph, paragraph, "Its paragraphs.")


@strawberry.type(description="A period in which the plan was in effect for a series.")
class PlanInterval:
    start: date = strawberry.field(description="The first day in effect.")
    until: date | None = strawberry.field(description="The first day out of effect; null while in effect.")
    end_reason: str | None = strawberry.field(description="`lapsed`, `terminated` or `removed`.")
    continuance_due: date | None = strawberry.field(description="The anniversary by which a continuance was due.")


@strawberry.type(description="Whether the plan is in effect for a series on a date (rules.md, Terms).")
class PlanStatus:
    series: SeriesRef  # type: ignore[valid-type]
    as_of: date
    in_effect: bool
    since: date | None = strawberry.field(description="The first day of the period in effect on the as-of date.")
    next_continuance_due: date | None = strawberry.field(description="While in effect: the date by which the "
                                                                     "next continuance must be approved.")
    lapsed_on: date | None = strawberry.field(description="If out of effect because it lapsed: the day it lapsed.")
    terminated_on: date | None = strawberry.field(description="If terminated for the series: the day it ended.")
    removed_on: date | None = strawberry.field(description="If the series left Schedule A: the day.")
    history: list[PlanInterval] = strawberry.field(description="Every period in effect up to the as-of date.")


async def plan_status_of(info: strawberry.Info, series_iri: str, as_of: date | None) -> PlanStatus:
    snap = await info.context.snapshot(as_of)
    day = snap.as_of
    spans = [s for s in snap.plan.get(series_iri, []) if s.start <= day]
    history = [PlanInterval(start=s.start, until=s.until, end_reason=s.reason, continuance_due=s.continuance_due)
               for s in spans]
    last = spans[-1] if spans else None
    in_effect = last is not None and (last.until is None or last.until > day)
    ended = None if in_effect or last is None else last

    def ended_by(reason: str) -> date | None:
        return ended.until if ended is not None and ended.reason == reason else None

    return PlanStatus(series=series(series_iri), as_of=day, in_effect=in_effect,
                      since=last.start if in_effect and last else None,
                      next_continuance_due=last.continuance_due if in_effect and last else None,
                      lapsed_on=ended_by("lapsed"), terminated_on=ended_by("terminated"),
                      removed_on=ended_by("removed"), history=history)


async def plan_status_field(info: strawberry.Info, series_id: str, as_of: date | None) -> PlanStatus | NotFound:
    iri = entity_iri("series", series_id)
    if not await props_of(info, iri):
        return NotFound(kind="series", id=series_id, message=f"no series has the id '{series_id}'")
    return await plan_status_of(info, iri, as_of)


@strawberry.type(description="A written report of the Distributor to the trustees (plan ¶6).")
class Report(Entity):
    delivered = date_field("deliveredDate", "The date delivered to the trustees.", required=True)
    period_start = date_field("periodStart", "The first day reported on.", required=True)
    period_end = date_field("periodEnd", "The last day reported on.", required=True)
    by = ref_field("reportedBy", OrganizationRef, organization, "Who made it.", required=True)
    states_amounts = bool_field("statesAmounts", "It reports the amounts expended or benefits received.")
    states_purposes = bool_field("statesPurposes", "It reports the purposes of the expenditures.")


@strawberry.type(description="Where a copy of a document is preserved (plan ¶10).")
class Record(Entity):
    retained_until = date_field("retainedUntil", "Kept until.", required=True)
    accessible_until = date_field("accessibleUntil", "Easily accessible until.", required=True)
    location = text_field("location", "Where.")

    @strawberry.field(description="The id of the document kept: `plan`, an agreement id or a report id.")
    async def document(self, info: strawberry.Info) -> str | None:
        from .fields import entity_id

        found = (await props_of(info, self.ref)).get("https://w3id.org/bepgraph/ontology#document", [])
        return entity_id(found[0].value) if found else None
