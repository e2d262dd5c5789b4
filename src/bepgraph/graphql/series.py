"""Series: the funds of the Trust, and everything that hangs from one."""

from __future__ import annotations

from datetime import date

import strawberry

from .fields import LABEL, Entity, date_field, entity_id, int_field, lazy, ref_field, text_field
from .kinds import BENEFITS, MATTERS, TRANSACTIONS, Severity
from .lists import children_field
from .pagination import Connection, SortDirection

__all__ = ["Series"]

OrganizationRef, organization = lazy("organizations", "Organization")
AgreementRef, agreement = lazy("agreements", "Agreement")
TransactionRef, transaction = lazy("brokerage", "Transaction")
BenefitRef, benefit = lazy("brokerage", "Benefit")
MatterRef, matter = lazy("governance", "Matter")
PlanStatusRef, _ = lazy("plan", "PlanStatus")
FindingRef, _ = lazy("findings", "Finding")


@strawberry.type(description="A series of the Trust (one fund), named in Schedule A or added by the bundle.")
class Series(Entity):
    name = text_field(LABEL, "The name, as in Schedule A.", required=True)
    schedule_a_position = int_field("scheduleAPosition", "Its place in Schedule A (1-based); none if added later.")
    established = date_field("establishedDate", "The date the series was established.")
    added_to_plan = date_field("addedToPlan", "The date Schedule A was amended to add it.")
    removed_from_plan = date_field("removedFromPlan", "The date Schedule A was amended to remove it.")
    sub_adviser = ref_field("subAdviser", OrganizationRef, organization, "Its sub-adviser.")
    trust = ref_field("ofTrust", OrganizationRef, organization, "The Trust it belongs to.")

    trades = children_field(TRANSACTIONS, "series", TransactionRef, transaction,
                            "The portfolio transactions of the series (its trade blotter).")
    benefits = children_field(BENEFITS, "generatingSeries", BenefitRef, benefit,
                              "The Brokerage Payments and Credits its commissions generated.")
    matters = children_field(MATTERS, "series", MatterRef, matter, "The actions voted for this series.")

    @strawberry.field(description="The agreements covering the series: those naming it and those naming no series.")
    async def agreements(self, info: strawberry.Info, first: int = 20, after: str | None = None,
                         direction: SortDirection | None = None) -> Connection[AgreementRef]:  # type: ignore[valid-type]
        from .agreements import agreements_of_series

        return await agreements_of_series(info, self.ref, first, after, direction)

    @strawberry.field(description="Whether the plan is in effect for the series as of a date (default today).")
    async def plan_status(self, info: strawberry.Info, as_of: date | None = None) -> PlanStatusRef:  # type: ignore[valid-type]
        from .plan import plan_status_of

        return await plan_status_of(info, self.ref, as_of)

    @strawberry.field(description="The findings concerning the series as of a date (default today).")
    async def findings(self, info: strawberry.Info, as_of: date | None = None, rule: str | None = None,
                       severity: Severity | None = None, first: int = 20,
                       after: str | None = None) -> Connection[FindingRef]:  # type: ignore[valid-type]
        from .findings import findings_page

        return await findings_page(info, as_of, rule, entity_id(self.ref), severity, first, after)
