"""The example bundle's findings, pinned: exactly the breaches its README lists, nothing else.

Checked by hand against examples/jnl-2002-2005/README.md ("Deliberate breaches" and
"Expected warnings"): every row there is found, and nothing more.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.run import validate_graph

AS_OF = date(2005, 7, 31)  # after the bundle's last fact (2005-06-30)

EXPECTED = {
    ("BEP-1.1", "transactions/T-0000466"),
    ("BEP-10.2", "reports/R-2002Q4"),
    ("BEP-11.1", "matters/BM-2004-08-12-amend-janus-jnl-balanced-fund-and-janus-jnl-growth-income-fund"),
    ("BEP-2.1", "expenditures/E-0000103"),
    ("BEP-2.2", "benefits/B-0000298"),
    ("BEP-3.1", "benefits/B-0000352"),
    ("BEP-3.2", "transactions/T-0000235"),
    ("BEP-3.2", "transactions/T-0000532"),
    ("BEP-3.2", "transactions/T-0000823"),
    ("BEP-3.2", "transactions/T-0001139"),
    ("BEP-3.2", "transactions/T-0001510"),
    ("BEP-3.2", "transactions/T-0001816"),
    ("BEP-4.1", "benefits/B-0000487"),
    ("BEP-4.1", "benefits/B-0000499"),
    ("BEP-4.1", "expenditures/E-0000250"),
    ("BEP-4.1", "transactions/T-0001304"),
    ("BEP-4.1", "transactions/T-0001338"),
    ("BEP-4.4", "trustees/t-okafor"),
    ("BEP-5.1", "series/lazard-jnl-mid-cap-value-fund"),
    ("BEP-6.1", "plan/plan"),
    ("BEP-6.2", "reports/R-2004-01-interim"),
    ("BEP-7.2", "matters/BM-2004-11-04-terminate-t-rowe-price-jnl-value-fund"),
    ("BEP-7.3", "agreements/db-granite"),
    ("BEP-7.4", "transactions/T-0001017"),
}


def test_example_bundle_findings_are_the_readme_breaches() -> None:
    store = EmbeddedStore()
    load_all(store, with_ontology=False)
    report = validate_graph(store, AS_OF)
    found = {(f.rule, f"{f.focus.table}/{f.focus.id}") for f in report.findings}
    assert found == EXPECTED
    assert report.counts == {"violation": 17, "warning": 7, "info": 0}
    assert Counter(f.rule for f in report.findings) == Counter(rule for rule, _ in EXPECTED)
    assert not report.conforms
