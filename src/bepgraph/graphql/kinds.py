"""How each class of entities is listed: its orderings (enums of sort properties) and its filter input.

Kept apart from the types so that every type family can list any other
family's entities without importing its module.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import pyoxigraph as ox
import strawberry

from ..namespaces import BEP, RDF, XSD, entity_iri
from ..sources.tables import TABLES
from .errors import UserInputError
from .fields import DCT_ID, LABEL
from .lists import FilterParts, ListKind
from .pagination import SortDirection

__all__ = [
    "AGREEMENTS", "BALLOTS", "BENEFITS", "EVENTS", "EXPENDITURES", "MATTERS", "MEETINGS", "ORGANIZATIONS",
    "RECORDS", "RELATIONSHIPS", "REPORTS", "ROLE_CLASSES", "SERIES", "SHAREHOLDER_VOTES", "TRANSACTIONS", "TRUSTEES",
    "DateFilter", "Severity", "TransactionFilter",
]

# role code of organizations.csv -> class (``other`` is any organization, not a role of its own)
ROLE_CLASSES: dict[str, str] = {code: cls for code, cls in TABLES["organizations"].column("roles").classes.items()
                                if code != "other"}


def _date(value: date | None) -> ox.Literal | None:
    return None if value is None else ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))


@strawberry.enum(description="The severity of a finding, spelt as in findings.md (SHACL's sh:Violation, sh:Warning, "
                              "sh:Info).")
class Severity(Enum):
    # GraphQL names equal to the values: a client reads exactly findings.md's lower-case strings
    VIOLATION = strawberry.enum_value("violation", name="violation")
    WARNING = strawberry.enum_value("warning", name="warning")
    INFO = strawberry.enum_value("info", name="info")


@strawberry.input(description="Keep the entities dated within a range (both ends included).")
class DateFilter:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None

    def parts(self) -> FilterParts:
        return _date(self.from_), _date(self.to), ()


@strawberry.input(description="Keep the trades within a date range, to one executing broker, directed or not.")
class TransactionFilter:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    broker: str | None = strawberry.field(default=None, description="The executing broker's organization id.")
    directed: bool | None = strawberry.field(default=None, description="Allocated under the plan (plan ¶1).")

    def parts(self) -> FilterParts:
        wheres: list[tuple[str, ox.NamedNode | ox.Literal]] = []
        if self.broker is not None:
            wheres.append((BEP + "executingBroker", ox.NamedNode(entity_iri("organizations", self.broker))))
        if self.directed is not None:
            wheres.append((BEP + "directed", ox.Literal(str(self.directed).lower(), datatype=ox.NamedNode(XSD + "boolean"))))
        return _date(self.from_), _date(self.to), tuple(wheres)


@strawberry.input(description="Keep the organizations that have a role.")
class OrganizationFilter:
    role: str | None = strawberry.field(default=None, description="A role code of organizations.csv, e.g. `broker_dealer`.")

    def parts(self) -> FilterParts:
        if self.role is None:
            return None, None, ()
        if self.role not in ROLE_CLASSES:
            raise UserInputError(f"'{self.role}' is not a role; roles are {', '.join(sorted(ROLE_CLASSES))}")
        rdf_type = RDF + "type"
        return None, None, ((rdf_type, ox.NamedNode(BEP + ROLE_CLASSES[self.role])),)


@strawberry.enum(description="What a list of series is ordered by.")
class SeriesOrder(Enum):
    ID = DCT_ID
    NAME = LABEL
    SCHEDULE_A_POSITION = "scheduleAPosition"


@strawberry.enum(description="What a list is ordered by.")
class NameOrder(Enum):
    ID = DCT_ID
    NAME = LABEL


@strawberry.enum(description="What a list of dated entities is ordered by.")
class DateOrder(Enum):
    DATE = "date"
    ID = DCT_ID


@strawberry.enum(description="What a list of trades is ordered by.")
class TransactionOrder(Enum):
    DATE = "date"
    COMMISSION = "commission"
    ID = DCT_ID


@strawberry.enum(description="What a list of benefits or expenditures is ordered by.")
class AmountOrder(Enum):
    DATE = "date"
    AMOUNT = "amount"
    ID = DCT_ID


@strawberry.enum(description="What a list of trustees is ordered by.")
class TrusteeOrder(Enum):
    ID = DCT_ID
    NAME = LABEL
    FROM = "startDate"


@strawberry.enum(description="What a list of agreements is ordered by.")
class AgreementOrder(Enum):
    EFFECTIVE = "effectiveDate"
    ID = DCT_ID


@strawberry.enum(description="What a list of relationships is ordered by.")
class RelationshipOrder(Enum):
    FROM = "startDate"
    ID = DCT_ID


@strawberry.enum(description="What a list of reports is ordered by.")
class ReportOrder(Enum):
    DELIVERED = "deliveredDate"
    ID = DCT_ID


@strawberry.enum(description="What a list of ballots or votes is ordered by.")
class IdOrder(Enum):
    ID = DCT_ID


DESC = SortDirection.DESC
SERIES = ListKind("Series", SeriesOrder, SeriesOrder.ID)
ORGANIZATIONS = ListKind("Organization", NameOrder, NameOrder.ID, filter=OrganizationFilter)
TRUSTEES = ListKind("Trustee", TrusteeOrder, TrusteeOrder.ID, range_by="startDate", filter=DateFilter)
RELATIONSHIPS = ListKind("Relationship", RelationshipOrder, RelationshipOrder.FROM, range_by="startDate",
                         filter=DateFilter)
AGREEMENTS = ListKind("Agreement", AgreementOrder, AgreementOrder.EFFECTIVE, range_by="effectiveDate",
                      filter=DateFilter)
EVENTS = ListKind("AgreementEvent", DateOrder, DateOrder.DATE, range_by="date", filter=DateFilter)
MEETINGS = ListKind("Meeting", DateOrder, DateOrder.DATE, range_by="date", filter=DateFilter)
MATTERS = ListKind("Matter", IdOrder, IdOrder.ID)
BALLOTS = ListKind("Ballot", IdOrder, IdOrder.ID)
SHAREHOLDER_VOTES = ListKind("ShareholderVote", IdOrder, IdOrder.ID)
TRANSACTIONS = ListKind("Transaction", TransactionOrder, TransactionOrder.DATE, DESC, "date", TransactionFilter)
BENEFITS = ListKind("BrokerageBenefit", AmountOrder, AmountOrder.DATE, DESC, "date", DateFilter)
EXPENDITURES = ListKind("Expenditure", AmountOrder, AmountOrder.DATE, DESC, "date", DateFilter)
REPORTS = ListKind("Report", ReportOrder, ReportOrder.DELIVERED, range_by="deliveredDate", filter=DateFilter)
RECORDS = ListKind("Record", IdOrder, IdOrder.ID)
