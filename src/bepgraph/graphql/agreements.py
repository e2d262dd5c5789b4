"""Agreements: their parties and series, the events in their life, their approvals and whether they are in force."""

from __future__ import annotations

from datetime import date

import strawberry

from ..sources.tables import TABLES
from .fields import COMMENT, Entity, bool_field, date_field, lazy, ref_field, refs_field, text_field, types_of
from .kinds import EVENTS, MATTERS, TRANSACTIONS
from .lists import children_field
from .pagination import Connection, SortDirection, page_of_values

__all__ = ["Agreement", "AgreementEvent", "AgreementStatus", "agreements_of_series"]

_KIND_OF_CLASS = {cls: code for code, cls in TABLES["agreements"].column("kind").classes.items()}
_EVENT_OF_CLASS = {cls: code for code, cls in TABLES["agreement_events"].column("event").classes.items()}

OrganizationRef, organization = lazy("organizations", "Organization")
SeriesRef, series = lazy("series", "Series")
TransactionRef, transaction = lazy("brokerage", "Transaction")
MatterRef, matter = lazy("governance", "Matter")
AgreementRef, agreement_of = lazy("agreements", "Agreement")


@strawberry.type(description="Whether an agreement is in force on a date, as the rules engine derived it.")
class AgreementStatus:
    as_of: date
    in_force: bool
    since: date | None = strawberry.field(description="The first day of the last period in force up to the date.")
    ended_on: date | None = strawberry.field(description="The first day it was no longer in force, if it ended.")
    end_reason: str | None = strawberry.field(description="`ends`, `terminated`, `assigned` or `change of control`.")
    evidence: list[str] = strawberry.field(description="The facts the end rests on, as IRIs.")


@strawberry.type(description="Something that happened to an agreement: assigned, terminated or amended.")
class AgreementEvent(Entity):
    date = date_field("date", "When it happened.", required=True)
    agreement = ref_field("agreement", AgreementRef, agreement_of, "The agreement.", required=True)
    counterparty = ref_field("counterparty", OrganizationRef, organization, "The new party, for `assigned`.")
    note = text_field(COMMENT, "A note.")

    @strawberry.field(description="`assigned`, `terminated` or `amended`.")
    async def event(self, info: strawberry.Info) -> str:
        found = sorted(_EVENT_OF_CLASS[c] for c in await types_of(info, self.ref) if c in _EVENT_OF_CLASS)
        return found[0] if found else "unknown"


@strawberry.type(description="An agreement: distribution, advisory, sub-advisory, directed brokerage or credit.")
class Agreement(Entity):
    parties = refs_field("party", OrganizationRef, organization, "The organizations party to it.")
    covered_series = refs_field("coversSeries", SeriesRef, series,
                                "The series it names; empty means every series of the plan.")
    effective = date_field("effectiveDate", "The date it took effect.", required=True)
    ends = date_field("statedEndDate", "Its stated end date.")
    terminates_on_assignment = bool_field("terminatesOnAssignment",
                                          "It provides that it terminates automatically on assignment.")
    related_to_plan = bool_field("relatedToPlan", "An agreement related to the plan (plan ¶4).")
    events = children_field(EVENTS, "agreement", AgreementEvent, lambda i: AgreementEvent(ref=i),
                            "Its assignments, terminations and amendments.")
    approvals = children_field(MATTERS, "matterSubject", MatterRef, matter,
                               "The matters voted on it (`approve_agreement` and others naming it).")
    transactions = children_field(TRANSACTIONS, "agreement", TransactionRef, transaction,
                                  "The trades placed under it.")

    @strawberry.field(description="The kind code of agreements.csv, e.g. `directed_brokerage`.")
    async def kind(self, info: strawberry.Info) -> str:
        found = sorted(_KIND_OF_CLASS[c] for c in await types_of(info, self.ref) if c in _KIND_OF_CLASS)
        specific = [k for k in found if k != "other"]
        return (specific or found or ["other"])[0]

    @strawberry.field(description="Whether it is in force as of a date (default today), as the rules engine derived it.")
    async def status(self, info: strawberry.Info, as_of: date | None = None) -> AgreementStatus:
        snap = await info.context.snapshot(as_of)
        spans = [s for s in snap.agreements.get(self.ref, []) if s.start <= snap.as_of]
        if not spans:
            return AgreementStatus(as_of=snap.as_of, in_force=False, since=None, ended_on=None, end_reason=None,
                                   evidence=[])
        last = spans[-1]
        in_force = last.end is None or last.end > snap.as_of
        return AgreementStatus(as_of=snap.as_of, in_force=in_force, since=last.start,
                               ended_on=None if in_force else last.end, end_reason=None if in_force else last.reason,
                               evidence=list(last.rests_on))


async def agreements_of_series(info: strawberry.Info, series_iri: str, first: int, after: str | None,
                               direction: SortDirection | None) -> Connection[Agreement]:
    """The agreements covering a series: a short list, read whole for a batch of series and paged in memory."""
    rows = await info.context.loaders.related("graphql/series-agreements").load(series_iri)
    descending = direction is SortDirection.DESC
    items = [Agreement(ref=iri) for iri, _ in rows]
    effective = {iri: str(key.value) for iri, key in rows}

    def key(item: Agreement) -> list[str]:
        parts = [effective[item.ref], item.ref]
        return [_reversed(p) for p in parts] if descending else parts

    return page_of_values(info, items, key, f"series-agreements:{'DESC' if descending else 'ASC'}", first, after)


def _reversed(text: str) -> str:
    """A string that sorts in the reverse order of *text* (descending keyset pages in memory)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text) + "\U0010ffff"
