"""The schema, assembled in one place: the Query type, the limits and the caches.

Limits (query depth, aliases, tokens) are checked while validating a
document, before anything runs; ParserCache and ValidationCache keep a
repeated document from being parsed and validated again (about a third of
the per-request cost, baselines.md). Internal faults are masked; a
client's own mistakes (UserInputError, bepgraph's InputError) are shown.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from ..known_ids import check_known
from ..namespaces import entity_iri
from .agreements import Agreement
from .brokerage import Benefit, BrokerFlow, Expenditure, FlowGroup, Transaction, broker_flows
from .context import RequestScope
from .errors import NotFound, should_mask_error
from .fields import types_of
from .findings import FindingReport, findings_report
from .governance import Matter, Meeting
from .kinds import (AGREEMENTS, BENEFITS, EXPENDITURES, MEETINGS, ORGANIZATIONS, RECORDS, REPORTS, SERIES,
                    TRANSACTIONS, TRUSTEES, Severity, TransactionFilter, TransactionOrder)
from .lists import list_field, question_for
from .organizations import Organization
from .pagination import Connection, SortDirection, page_of_children, page_of_list
from .plan import Plan, PlanStatus, Record, Report, plan_status_field
from .series import Series
from .trustees import Trustee

__all__ = ["LIMITS", "build_schema", "schema_sdl"]

LIMITS = {"max_depth": 10, "max_aliases": 30, "max_tokens": 2000}
MASKED = "Internal error: the service logged it."


def _result(cls: type, name: str) -> Any:
    return Annotated[cls | NotFound, strawberry.union(name, description=f"A {cls.__name__}, or a typed not-found.")]


def _lookup(table: str, cls: type, rdf_class: str, result: Any, description: str) -> Any:
    """`kind(id:)`: the entity, or NotFound when no entity of that class has the id."""

    async def resolve(root: Any, info: strawberry.Info, id: str) -> Any:
        iri = entity_iri(table, id)
        if rdf_class not in await types_of(info, iri):
            return NotFound(kind=table, id=id, message=f"no {rdf_class} has the id '{id}'")
        return cls(ref=iri)

    resolve.__annotations__ = {"root": Any, "info": strawberry.Info, "id": str, "return": result}
    return strawberry.field(resolver=resolve, description=description)


SeriesResult = _result(Series, "SeriesResult")
OrganizationResult = _result(Organization, "OrganizationResult")
TrusteeResult = _result(Trustee, "TrusteeResult")
AgreementResult = _result(Agreement, "AgreementResult")
MeetingResult = _result(Meeting, "MeetingResult")
MatterResult = _result(Matter, "MatterResult")
TransactionResult = _result(Transaction, "TransactionResult")
PlanStatusResult = Annotated[PlanStatus | NotFound, strawberry.union(
    "PlanStatusResult", description="The plan status, or a typed not-found for an unknown series.")]


@strawberry.type(description="Questions a compliance tool asks of the plan's knowledge graph.")
class Query:
    @strawberry.field(description="The plan, as filed.")
    def plan(self) -> Plan:
        return Plan(ref=entity_iri("plan", "plan"))

    series = _lookup("series", Series, "Series", SeriesResult, "A series by id (the slug of its name).")
    organization = _lookup("organizations", Organization, "Organization", OrganizationResult, "An organization by id.")
    trustee = _lookup("trustees", Trustee, "Trustee", TrusteeResult, "A trustee by id.")
    agreement = _lookup("agreements", Agreement, "Agreement", AgreementResult, "An agreement by id.")
    meeting = _lookup("meetings", Meeting, "Meeting", MeetingResult, "A meeting by id.")
    matter = _lookup("matters", Matter, "Matter", MatterResult, "A matter by id.")
    transaction = _lookup("transactions", Transaction, "Transaction", TransactionResult, "A trade by id.")

    all_series = list_field(SERIES, Series, lambda i: Series(ref=i), "Every series.")
    organizations = list_field(ORGANIZATIONS, Organization, lambda i: Organization(ref=i), "Every organization.")
    trustees = list_field(TRUSTEES, Trustee, lambda i: Trustee(ref=i), "Every trustee, past and present.")
    agreements = list_field(AGREEMENTS, Agreement, lambda i: Agreement(ref=i), "Every agreement.")
    meetings = list_field(MEETINGS, Meeting, lambda i: Meeting(ref=i), "Every meeting.")
    benefits = list_field(BENEFITS, Benefit, lambda i: Benefit(ref=i), "Every Brokerage Payment and Credit.")
    expenditures = list_field(EXPENDITURES, Expenditure, lambda i: Expenditure(ref=i), "Every expenditure.")
    reports = list_field(REPORTS, Report, lambda i: Report(ref=i), "Every Distributor report.")
    records = list_field(RECORDS, Record, lambda i: Record(ref=i), "Every record of where copies are kept.")

    @strawberry.field(description="Trades, of one series or of all; newest first unless ordered otherwise.")
    async def transactions(self, info: strawberry.Info, series: str | None = None, first: int = 20,
                           after: str | None = None, order_by: TransactionOrder | None = None,
                           direction: SortDirection | None = None,
                           filter: TransactionFilter | None = None) -> Connection[Transaction]:
        if series is None:
            question, order = question_for(TRANSACTIONS, None, order_by, direction, filter)
            return await page_of_list(info, question, order, first, after, lambda i: Transaction(ref=i))
        check_known(info.context.store, "series", series)  # an unknown series is an error, not an empty page
        question, order = question_for(TRANSACTIONS, "series", order_by, direction, filter)
        return await page_of_children(info, entity_iri("series", series), question, order, first, after,
                                      lambda i: Transaction(ref=i))

    @strawberry.field(description="Whether the plan is in effect for a series as of a date (default today): "
                                  "since when, the next continuance due, or when it lapsed or was terminated.")
    async def plan_status(self, info: strawberry.Info, series: str,
                          as_of: date | None = None) -> PlanStatusResult:
        return await plan_status_field(info, series, as_of)

    @strawberry.field(description="The findings of a validation run as of a date (default today), findings.md's "
                                  "content, filtered by rule, series and severity.")
    async def findings(self, info: strawberry.Info, as_of: date | None = None, rule: str | None = None,
                       series: str | None = None, severity: Severity | None = None, first: int = 20,
                       after: str | None = None) -> FindingReport:
        return await findings_report(info, as_of, rule, series, severity, first, after)

    @strawberry.field(description="Totals from commissions to Brokerage Payments and Credits to expenditures, "
                                  "by series or by broker, for facts dated from `from` to `to` (at most `asOf`).")
    def broker_flows(self, info: strawberry.Info, group_by: FlowGroup = FlowGroup.SERIES,
                     as_of: date | None = None, from_: Annotated[date | None, strawberry.argument(name="from")] = None,
                     to: date | None = None) -> list[BrokerFlow]:
        return broker_flows(info, as_of or date.today(), from_, to, group_by)


# The depth and alias rules are classes made by their limiter; made once here, so that the
# ValidationCache (keyed by the rules) recognises them on every request instead of missing each time.
_LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=LIMITS["max_depth"]).validation_rules,
    *MaxAliasesLimiter(max_alias_count=LIMITS["max_aliases"]).validation_rules,
)


class _Limits(AddValidationRules):
    """The depth and alias limits, built per request from rule classes made once."""

    def __init__(self) -> None:
        super().__init__(list(_LIMIT_RULES))


class _Schema(strawberry.Schema):
    """Logs only internal faults: a client's own mistakes (syntax, validation, limits, bad arguments)
    are answered to the client and are not errors of the service."""

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        super().process_errors([e for e in errors if should_mask_error(e)], execution_context)


def build_schema() -> strawberry.Schema:
    return _Schema(
        query=Query,
        # factories: a fresh extension per request (the caches themselves are shared by maxsize)
        extensions=[
            _Limits,
            partial(MaxTokensLimiter, max_token_count=LIMITS["max_tokens"]),
            partial(MaskErrors, should_mask_error=should_mask_error, error_message=MASKED),
            partial(ParserCache, maxsize=256),
            partial(ValidationCache, maxsize=256),
            RequestScope,
        ],
    )


def schema_sdl() -> str:
    """The SDL of the schema, as snapshotted in ``schema.graphql``."""
    return build_schema().as_str() + "\n"


def write_sdl(path: Path) -> None:
    path.write_text(schema_sdl(), encoding="utf-8")
