"""Small facts bundles written on the fly, for tests that need a bundle of their own."""

from __future__ import annotations

import csv
from pathlib import Path

from bepgraph.sources.tables import TABLES

__all__ = ["MINI", "write_bundle"]

SERIES = "ppm-america-jnl-value-fund"

# one valid row in every table, referring to the filing's entities
MINI: dict[str, list[dict[str, str]]] = {
    "organizations": [
        {"id": "bd-1", "name": "Example Securities LLC", "roles": "broker_dealer;clearing_broker", "crd": "12345"},
        {"id": "distributor", "name": "Jackson National Life Distributors, Inc.", "roles": "distributor;broker_dealer"},
    ],
    "series": [{"id": SERIES, "name": "PPM America/JNL Value Fund", "sub_adviser": "ppm-america",
                "established": "2001-01-01"}],
    "trustees": [{"id": "t-1", "name": "A. Trustee", "from": "2000-01-01"},
                 {"id": "t-2", "name": "B. Trustee", "from": "2000-01-01", "to": "2004-01-01"}],
    "agreements": [{"id": "DB-1", "kind": "directed_brokerage", "parties": "trust;bd-1", "series": SERIES,
                    "effective": "2002-06-01", "terminates_on_assignment": "true", "related_to_plan": "true"}],
    "relationships": [{"id": "R-1", "subject": "t-2", "relation": "owns_voting_securities_of", "object": "jnam",
                       "percent": "5", "from": "2001-01-01"}],
    "agreement_events": [{"id": "E-1", "agreement": "DB-1", "date": "2003-01-01", "event": "amended"}],
    "meetings": [{"id": "M-1", "date": "2002-05-16", "body": "board", "in_person": "true",
                  "called_for_plan": "true"}],
    "matters": [{"id": "X-1", "meeting": "M-1", "action": "adopt", "series": SERIES, "subject": "plan"}],
    "ballots": [{"matter": "X-1", "trustee": "t-1", "vote": "for", "in_person": "true"},
                {"matter": "X-1", "trustee": "t-2", "vote": "for", "in_person": "true"}],
    "shareholder_votes": [{"matter": "X-1", "series": SERIES, "shares_outstanding": "1000.5",
                           "shares_present": "800", "shares_for": "700"}],
    "transactions": [{"id": "T-1", "date": "2002-07-01", "series": SERIES, "placed_by": "ppm-america",
                      "executing_broker": "bd-1", "agreement": "DB-1", "directed": "true",
                      "commission": "1250.00", "best_execution": "true"},
                     {"id": "T-2", "date": "2002-07-02", "series": SERIES, "placed_by": "jnam",
                      "executing_broker": "distributor", "directed": "false",
                      "commission": "99.10", "best_execution": "true"}],
    "benefits": [{"id": "B-1", "date": "2002-07-31", "kind": "credit", "transaction": "T-1", "broker": "bd-1",
                  "recipient": "distributor", "amount": "400.00", "generating_series": SERIES,
                  "benefiting_series": SERIES}],
    "expenditures": [{"id": "X-1", "date": "2002-08-15", "funded_by": "B-1", "category": "advertising",
                      "amount": "300.00", "payee": "distributor", "description": 'Print run "Q3", 2002'}],
    "reports": [{"id": "RPT-1", "delivered": "2002-10-15", "period_start": "2002-07-01",
                 "period_end": "2002-09-30", "by": "distributor", "amounts": "true", "purposes": "true"}],
    "records": [{"id": "REC-1", "document": "plan", "retained_until": "2015-01-01",
                 "accessible_until": "2008-01-01"}],
}


def write_bundle(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """Write *tables* as CSV files with every column of the contract, in its order."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = [c.name for c in TABLES[name].columns]
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return folder
