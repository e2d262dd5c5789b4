"""Brokerage: trades, the Brokerage Payments and Credits they generate, what those pay for, and the flow totals."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from enum import Enum

import pyoxigraph as ox
import strawberry

from ..namespaces import BEP, XSD
from ..sparql import find_query
from ..terms import to_python
from .fields import DESCRIPTION, Entity, bool_field, date_field, decimal_field, entity_id, lazy, ref_field, refs_field, text_field, types_of
from .kinds import BENEFITS, EXPENDITURES
from .lists import children_field

__all__ = ["Benefit", "BrokerFlow", "Expenditure", "FlowGroup", "Transaction", "broker_flows"]

SeriesRef, series = lazy("series", "Series")
OrganizationRef, organization = lazy("organizations", "Organization")
AgreementRef, agreement = lazy("agreements", "Agreement")
TransactionRef, transaction_of = lazy("brokerage", "Transaction")
BenefitRef, benefit_of = lazy("brokerage", "Benefit")


@strawberry.type(description="What a Brokerage Payment or Credit was spent on (plan ¶2).")
class Expenditure(Entity):
    date = date_field("date", "When it was spent.", required=True)
    funded_by = refs_field("fundedBy", BenefitRef, benefit_of, "The benefits that funded it.")
    amount = decimal_field("amount", "USD.", required=True)
    payee = ref_field("payee", OrganizationRef, organization, "Who was paid.", required=True)
    description = text_field(DESCRIPTION, "What it was for.")

    @strawberry.field(description="The category code of expenditures.csv, e.g. `advertising`.")
    async def category(self, info: strawberry.Info) -> str:
        from ..sources.tables import CATEGORY_CODES

        codes = {BEP + cls: code for code, cls in CATEGORY_CODES.items()}
        from .fields import props_of

        found = [codes.get(t.value, t.value) for t in (await props_of(info, self.ref)).get(BEP + "category", [])]
        return sorted(found)[0] if found else "unknown"


@strawberry.type(description="A Brokerage Payment (plan ¶1a) or Brokerage Credit (plan ¶1b).")
class Benefit(Entity):
    date = date_field("date", "When it was granted.", required=True)
    transaction = ref_field("transaction", TransactionRef, transaction_of, "The trade that generated it.")
    broker = ref_field("broker", OrganizationRef, organization, "The broker-dealer that directed or granted it.",
                       required=True)
    recipient = ref_field("recipient", OrganizationRef, organization, "Who received it.", required=True)
    amount = decimal_field("amount", "USD.", required=True)
    generating_series = ref_field("generatingSeries", SeriesRef, series, "The series whose commissions generated it.",
                                  required=True)
    benefiting_series = refs_field("benefitingSeries", SeriesRef, series, "The series it inured to.")
    expenditures = children_field(EXPENDITURES, "fundedBy", Expenditure, lambda i: Expenditure(ref=i),
                                  "What it paid for.")

    @strawberry.field(description="`payment` or `credit`.")
    async def kind(self, info: strawberry.Info) -> str:
        kinds = await types_of(info, self.ref)
        return "payment" if "BrokeragePayment" in kinds else "credit" if "BrokerageCredit" in kinds else "unknown"


@strawberry.type(description="A portfolio transaction of a series (a row of the trade blotter).")
class Transaction(Entity):
    date = date_field("date", "Trade date.", required=True)
    series = ref_field("series", SeriesRef, series, "The series that traded.", required=True)
    placed_by = ref_field("placedBy", OrganizationRef, organization, "The adviser or sub-adviser that placed it.",
                          required=True)
    executing_broker = ref_field("executingBroker", OrganizationRef, organization, "The broker it went to.",
                                 required=True)
    clearing_broker = ref_field("clearingBroker", OrganizationRef, organization, "The clearing broker.")
    introducing_broker = ref_field("introducingBroker", OrganizationRef, organization, "The introducing broker.")
    agreement = ref_field("agreement", AgreementRef, agreement, "The arrangement it was placed under.")
    directed = bool_field("directed", "Allocated under the plan (plan ¶1).", required=True)
    commission = decimal_field("commission", "USD.", required=True)
    best_execution = bool_field("bestExecution", "The adviser reasonably believed the broker would give best "
                                                 "execution.", required=True)
    benefits = children_field(BENEFITS, "transaction", Benefit, lambda i: Benefit(ref=i),
                              "The Brokerage Payments and Credits it generated.")


@strawberry.enum(description="What broker flows are totalled by.")
class FlowGroup(Enum):
    SERIES = "series"
    BROKER = "broker"


_GROUP_PROPS = {FlowGroup.SERIES: ("series", "generatingSeries"), FlowGroup.BROKER: ("executingBroker", "broker")}


@strawberry.type(description="The money path of one series or broker: commissions → benefits → expenditures.")
class BrokerFlow:
    group: str = strawberry.field(description="The series or broker id.")
    trades: int
    commissions: Decimal
    directed_commissions: Decimal = strawberry.field(description="Commissions of directed trades (plan ¶1).")
    payments: Decimal = strawberry.field(description="Brokerage Payments generated (plan ¶1a).")
    credits: Decimal = strawberry.field(description="Brokerage Credits generated (plan ¶1b).")
    expenditures: Decimal = strawberry.field(description="Expenditures those benefits funded (plan ¶2).")


def _date(value: date) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))


def broker_flows(info: strawberry.Info, as_of: date, from_: date | None, to: date | None,
                 group_by: FlowGroup) -> list[BrokerFlow]:
    """Totals from three named queries (one per step of the path), joined by group in Python."""
    store = info.context.store
    last = min(to, as_of) if to else as_of
    trade_prop, benefit_prop = _GROUP_PROPS[group_by]
    common = {"to": _date(last), **({"from": _date(from_)} if from_ else {})}
    zero = Decimal(0)
    totals: dict[str, dict[str, object]] = defaultdict(lambda: {"trades": 0, "commissions": zero, "directed": zero,
                                                                 "payments": zero, "credits": zero,
                                                                 "expenditures": zero})
    for row in store.query(find_query("graphql/flows-trades").text, {**common, "groupBy": ox.NamedNode(BEP + trade_prop)}):
        t = totals[row["group"].value]
        t["trades"] = to_python(row["trades"])
        t["commissions"] = to_python(row["commissions"])
        t["directed"] = to_python(row["directed"])
    for row in store.query(find_query("graphql/flows-benefits").text, {**common, "groupBy": ox.NamedNode(BEP + benefit_prop)}):
        t = totals[row["group"].value]
        t["payments"] = to_python(row["payments"])
        t["credits"] = to_python(row["credits"])
    for row in store.query(find_query("graphql/flows-expenditures").text, {**common, "groupBy": ox.NamedNode(BEP + benefit_prop)}):
        t = totals[row["group"].value]
        t["expenditures"] = t["expenditures"] + to_python(row["amount"])
    return [BrokerFlow(group=entity_id(g), trades=int(t["trades"]), commissions=Decimal(t["commissions"]),  # type: ignore[arg-type,call-overload]
                       directed_commissions=Decimal(t["directed"]), payments=Decimal(t["payments"]),  # type: ignore[arg-type]
                       credits=Decimal(t["credits"]), expenditures=Decimal(t["expenditures"]))  # type: ignore[arg-type]
            for g, t in sorted(totals.items())]
