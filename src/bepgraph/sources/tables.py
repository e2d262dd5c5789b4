"""The facts-bundle contract (``docs/facts-bundle.md``) as data.

Each table names its class, its columns, how each cell is typed and which
ontology property carries it. The reader, the docs test and the ontology
test all read this one description, so the contract cannot drift between
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..namespaces import DCTERMS, RDFS

__all__ = ["CATEGORY_CODES", "Column", "Table", "TABLES", "TABLE_ORDER"]

CellType = Literal["string", "date", "decimal", "boolean", "enum", "ref"]


@dataclass(frozen=True)
class Column:
    """One column: its type, whether it is required, and the property that carries it.

    ``prop`` is a local name in the bep: namespace, or a full IRI in angle
    brackets. ``prop=None`` means the column is turned into something else
    (the row's id, or ``rdf:type`` through ``classes``).
    """

    name: str
    type: CellType
    required: bool = False
    prop: str | None = None
    many: bool = False
    refs: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    classes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    name: str
    cls: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("id",)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ID = Column("id", "string", required=True)
LABEL = f"<{RDFS}label>"
COMMENT = f"<{RDFS}comment>"
DESCRIPTION = f"<{DCTERMS}description>"

ORG = ("organizations",)
SERIES = ("series",)

# expenditure category code -> individual of bep:ExpenditureCategory (plan ¶2 (i)-(ix))
CATEGORY_CODES: dict[str, str] = {
    "advertising": "Advertising",
    "seminars": "Seminars",
    "representative_information": "RepresentativeInformation",
    "due_diligence": "DueDiligence",
    "marketing_fees": "MarketingFees",
    "owner_information": "OwnerInformation",
    "training": "Training",
    "account_service": "AccountService",
    "other_distribution": "OtherDistribution",
    "not_distribution": "NotDistribution",
}

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table("organizations", "Organization", (
            ID,
            Column("name", "string", True, LABEL),
            Column("roles", "enum", True, None, many=True, classes={
                "trust": "Trust", "adviser": "InvestmentAdviser", "sub_adviser": "SubAdviser",
                "distributor": "Distributor", "broker_dealer": "BrokerDealer",
                "introducing_broker": "IntroducingBroker", "clearing_broker": "ClearingBroker",
                "other": "Organization",
            }),
            Column("lei", "string", False, "lei"),
            Column("crd", "string", False, "crd"),
        )),
        Table("series", "Series", (
            ID,
            Column("name", "string", True, LABEL),
            Column("sub_adviser", "ref", False, "subAdviser", refs=ORG),
            Column("established", "date", False, "establishedDate"),
            Column("added_to_plan", "date", False, "addedToPlan"),
            Column("removed_from_plan", "date", False, "removedFromPlan"),
        )),
        Table("trustees", "Trustee", (
            ID,
            Column("name", "string", True, LABEL),
            Column("from", "date", True, "startDate"),
            Column("to", "date", False, "endDate"),
        )),
        Table("relationships", "Relationship", (
            ID,
            Column("subject", "ref", True, "subjectParty", refs=("trustees", "organizations")),
            Column("relation", "enum", True, "relation", values=(
                "controls", "under_common_control_with", "employee_of", "officer_of",
                "director_of", "partner_of", "owns_voting_securities_of",
                "immediate_family_of", "legal_counsel_to", "financial_interest_in")),
            Column("object", "ref", True, "objectParty",
                   refs=("trustees", "organizations", "agreements", "plan")),
            Column("percent", "decimal", False, "percent"),
            Column("from", "date", True, "startDate"),
            Column("to", "date", False, "endDate"),
        )),
        Table("agreements", "Agreement", (
            ID,
            Column("kind", "enum", True, None, classes={
                "distribution": "DistributionAgreement", "advisory": "AdvisoryAgreement",
                "sub_advisory": "SubAdvisoryAgreement",
                "directed_brokerage": "DirectedBrokerageAgreement",
                "brokerage_credit": "BrokerageCreditAgreement", "other": "Agreement",
            }),
            Column("parties", "ref", True, "party", many=True, refs=ORG),
            Column("series", "ref", False, "coversSeries", many=True, refs=SERIES),
            Column("effective", "date", True, "effectiveDate"),
            Column("ends", "date", False, "statedEndDate"),
            Column("terminates_on_assignment", "boolean", True, "terminatesOnAssignment"),
            Column("related_to_plan", "boolean", True, "relatedToPlan"),
        )),
        Table("agreement_events", "AgreementEvent", (
            ID,
            Column("agreement", "ref", True, "agreement", refs=("agreements",)),
            Column("date", "date", True, "date"),
            Column("event", "enum", True, None, classes={
                "assigned": "Assignment", "terminated": "Termination", "amended": "Amendment",
            }),
            Column("counterparty", "ref", False, "counterparty", refs=ORG),
            Column("note", "string", False, COMMENT),
        )),
        Table("meetings", "Meeting", (
            ID,
            Column("date", "date", True, "date"),
            Column("body", "enum", True, None, classes={
                "board": "BoardMeeting", "shareholders": "ShareholderMeeting",
            }),
            Column("series", "ref", False, "series", refs=SERIES),
            Column("in_person", "boolean", True, "inPerson"),
            Column("called_for_plan", "boolean", True, "calledForPlan"),
        )),
        Table("matters", "Matter", (
            ID,
            Column("meeting", "ref", True, "meeting", refs=("meetings",)),
            Column("action", "enum", True, "action", values=(
                "adopt", "continue", "amend", "terminate", "approve_agreement", "nominate_trustee")),
            Column("series", "ref", False, "series", many=True, refs=SERIES),
            Column("subject", "ref", True, "matterSubject", refs=("plan", "agreements", "trustees")),
            Column("material", "boolean", False, "material"),
            Column("increases_spending", "boolean", False, "increasesSpending"),
            Column("increase_from_credits", "boolean", False, "increaseFromCredits"),
            Column("notice_date", "date", False, "noticeDate"),
            Column("effective", "date", False, "effectiveDate"),
        )),
        Table("ballots", "Ballot", (
            Column("matter", "ref", True, "matter", refs=("matters",)),
            Column("trustee", "ref", True, "trustee", refs=("trustees",)),
            Column("vote", "enum", True, "vote", values=("for", "against", "abstain", "absent")),
            Column("in_person", "boolean", True, "inPerson"),
        ), key=("matter", "trustee")),
        Table("shareholder_votes", "ShareholderVote", (
            Column("matter", "ref", True, "matter", refs=("matters",)),
            Column("series", "ref", True, "series", refs=SERIES),
            Column("shares_outstanding", "decimal", True, "sharesOutstanding"),
            Column("shares_present", "decimal", True, "sharesPresent"),
            Column("shares_for", "decimal", True, "sharesFor"),
            Column("shares_against", "decimal", False, "sharesAgainst"),
        ), key=("matter", "series")),
        Table("transactions", "Transaction", (
            ID,
            Column("date", "date", True, "date"),
            Column("series", "ref", True, "series", refs=SERIES),
            Column("placed_by", "ref", True, "placedBy", refs=ORG),
            Column("executing_broker", "ref", True, "executingBroker", refs=ORG),
            Column("clearing_broker", "ref", False, "clearingBroker", refs=ORG),
            Column("introducing_broker", "ref", False, "introducingBroker", refs=ORG),
            Column("agreement", "ref", False, "agreement", refs=("agreements",)),
            Column("directed", "boolean", True, "directed"),
            Column("commission", "decimal", True, "commission"),
            Column("best_execution", "boolean", True, "bestExecution"),
        )),
        Table("benefits", "BrokerageBenefit", (
            ID,
            Column("date", "date", True, "date"),
            Column("kind", "enum", True, None, classes={
                "payment": "BrokeragePayment", "credit": "BrokerageCredit",
            }),
            Column("transaction", "ref", False, "transaction", refs=("transactions",)),
            Column("broker", "ref", True, "broker", refs=ORG),
            Column("recipient", "ref", True, "recipient", refs=ORG),
            Column("amount", "decimal", True, "amount"),
            Column("generating_series", "ref", True, "generatingSeries", refs=SERIES),
            Column("benefiting_series", "ref", True, "benefitingSeries", many=True, refs=SERIES),
        )),
        Table("expenditures", "Expenditure", (
            ID,
            Column("date", "date", True, "date"),
            Column("funded_by", "ref", True, "fundedBy", many=True, refs=("benefits",)),
            Column("category", "enum", True, "category", values=tuple(CATEGORY_CODES)),
            Column("amount", "decimal", True, "amount"),
            Column("payee", "ref", True, "payee", refs=ORG),
            Column("description", "string", False, DESCRIPTION),
        )),
        Table("reports", "Report", (
            ID,
            Column("delivered", "date", True, "deliveredDate"),
            Column("period_start", "date", True, "periodStart"),
            Column("period_end", "date", True, "periodEnd"),
            Column("by", "ref", True, "reportedBy", refs=ORG),
            Column("amounts", "boolean", True, "statesAmounts"),
            Column("purposes", "boolean", True, "statesPurposes"),
        )),
        Table("records", "Record", (
            ID,
            Column("document", "ref", True, "document", refs=("plan", "agreements", "reports")),
            Column("retained_until", "date", True, "retainedUntil"),
            Column("accessible_until", "date", True, "accessibleUntil"),
            Column("location", "string", False, "location"),
        )),
    ]
}

# tables in an order where every reference points to a table read before it
# (relationships may point at agreements, so they come after them)
TABLE_ORDER: tuple[str, ...] = (
    "organizations", "series", "trustees", "agreements", "relationships",
    "agreement_events", "meetings", "matters", "ballots", "shareholder_votes",
    "transactions", "benefits", "expenditures", "reports", "records",
)
