"""Organizations: the Trust, its adviser and sub-advisers, the Distributor and the brokers."""

from __future__ import annotations

import strawberry

from .fields import LABEL, Entity, lazy, text_field, types_of
from .kinds import AGREEMENTS, BENEFITS, EXPENDITURES, RELATIONSHIPS, ROLE_CLASSES, SERIES, TRANSACTIONS
from .lists import children_field

__all__ = ["ROLE_CLASSES", "Organization"]

_ROLE_OF_CLASS = {cls: code for code, cls in ROLE_CLASSES.items()}

SeriesRef, series = lazy("series", "Series")
AgreementRef, agreement = lazy("agreements", "Agreement")
TransactionRef, transaction = lazy("brokerage", "Transaction")
BenefitRef, benefit = lazy("brokerage", "Benefit")
ExpenditureRef, expenditure = lazy("brokerage", "Expenditure")
RelationshipRef, relationship = lazy("trustees", "Relationship")


@strawberry.type(description="An organization: the Trust, an adviser, a sub-adviser, the Distributor, a broker…")
class Organization(Entity):
    name = text_field(LABEL, "Its (legal) name.", required=True)
    lei = text_field("lei", "Legal Entity Identifier.")
    crd = text_field("crd", "FINRA CRD number.")

    @strawberry.field(description="Its roles, as the codes of organizations.csv (`trust`, `broker_dealer`…).")
    async def roles(self, info: strawberry.Info) -> list[str]:
        return sorted(_ROLE_OF_CLASS[c] for c in await types_of(info, self.ref) if c in _ROLE_OF_CLASS)

    sub_advised_series = children_field(SERIES, "subAdviser", SeriesRef, series, "The series it sub-advises.")
    agreements = children_field(AGREEMENTS, "party", AgreementRef, agreement, "The agreements it is party to.")
    trades_executed = children_field(TRANSACTIONS, "executingBroker", TransactionRef, transaction,
                                     "The trades it executed, as broker.")
    trades_placed = children_field(TRANSACTIONS, "placedBy", TransactionRef, transaction,
                                   "The trades it placed, as adviser or sub-adviser.")
    benefits_granted = children_field(BENEFITS, "broker", BenefitRef, benefit,
                                      "The Brokerage Payments and Credits it directed or granted, as broker.")
    benefits_received = children_field(BENEFITS, "recipient", BenefitRef, benefit,
                                       "The Brokerage Payments and Credits it received.")
    expenditures_received = children_field(EXPENDITURES, "payee", ExpenditureRef, expenditure,
                                           "The expenditures paid to it.")
    relationships = children_field(RELATIONSHIPS, "subjectParty", RelationshipRef, relationship,
                                   "The relationships it is the subject of (it controls, owns…).")
    relationships_held_by_others = children_field(RELATIONSHIPS, "objectParty", RelationshipRef, relationship,
                                                  "The relationships of others toward it (controlled by, owned by…).")
