"""``/viz/data`` and the page's files over real HTTP: parameters validated and bound, errors located."""

from __future__ import annotations

from collections.abc import Iterator

import csv
from collections import Counter

import httpx
import pytest

from bepgraph.loading import load_all
from bepgraph.resources import example_bundle
from bepgraph.store import EmbeddedStore

from .graphql_server import Served, serve_example


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve_example() as s:
        yield s


def get(served: Served, path: str, **params: str) -> httpx.Response:
    return httpx.get(served.url + path, params=params, timeout=120)


def test_data_answers_each_view_with_its_dates_and_counts(served: Served) -> None:
    for view in ("structure", "control", "money", "governance"):
        body = get(served, "/viz/data", view=view, asOf="2004-06-30", findings="false", analysis="false").json()
        assert (body["view"], body["asOf"], body["from"], body["to"]) == (view, "2004-06-30", "2003-07-01", "2004-06-30")
        assert body["counts"]["nodes"] == len(body["elements"]["nodes"]) > 0
        assert body["findings"] is None and body["analysis"] is None


def test_data_marks_findings_and_lists_those_no_node_carries(served: Served) -> None:
    body = get(served, "/viz/data", view="structure", asOf="2004-06-30").json()
    marked = [n["data"] for n in body["elements"]["nodes"] if n["data"].get("findings")]
    assert any(n["entityId"] == "db-granite" and "violation" in n["severity"] for n in marked)
    placed = sum(len(n["findings"]) for n in marked)
    assert body["findings"]["total"] <= placed + len(body["unplaced"])
    assert any(f["focus"]["table"] == "plan" for f in body["unplaced"])  # BEP-6.1: the plan is not drawn
    assert body["analysis"]["concentration"]["hhi"] > 0


@pytest.mark.parametrize(("params", "message"), [
    ({"view": "pie"}, "parameter view: 'pie' is not a view"),
    ({"asOf": "2004-02-30"}, "parameter asOf: '2004-02-30' is not a date"),
    ({"asOf": "2004-06-30", "from": "'} . ?s ?p ?o {"}, "parameter from:"),
    ({"asOf": "2004-06-30", "from": "2004-07-01"}, "after it ends"),
    ({"asOf": "2004-06-30", "expand": "janus,nobody"}, "parameter expand: 'nobody' is not a sub-adviser"),
    ({"view": "money", "asOf": "2004-06-30", "expand": "'} . ?s ?p ?o {"}, "parameter expand:"),
])
def test_bad_parameters_are_located_400s(served: Served, params: dict[str, str], message: str) -> None:
    response = get(served, "/viz/data", **params)
    assert response.status_code == 400
    assert response.json()["error"] == "ParameterError" and message in response.json()["detail"]


def test_the_page_and_its_npm_files_are_served_locally(served: Served) -> None:
    page = get(served, "/viz")
    assert page.status_code == 200 and "/viz/static/cytoscape.min.js" in page.text
    for name in ("viz.js", "viz.css", "cytoscape.min.js", "cytoscape-dagre.js", "cytoscape-svg.js"):
        response = get(served, f"/viz/static/{name}")
        assert response.status_code == 200 and len(response.content) > 1000, name
    assert get(served, "/viz/static/package.json").status_code == 404
    assert get(served, "/viz/static/..%2Fviz.py").status_code == 404


def test_without_asof_the_data_is_as_of_the_latest_dated_fact(served: Served) -> None:
    body = get(served, "/viz/data", view="money", findings="false").json()
    days = []
    for path in example_bundle().glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                days += [row[c] for c in ("date", "delivered", "effective", "notice_date", "from", "to") if row.get(c)]
    assert body["asOf"] == body["latestFact"] == max(days)
    assert body["sankey"]["links"]  # the last year of the plan has directed brokerage to draw


def test_series_are_grouped_by_sub_adviser_unless_expanded(served: Served) -> None:
    grouped = get(served, "/viz/data", view="structure", asOf="2004-06-30", findings="false", analysis="false").json()
    series = [n["data"] for n in grouped["elements"]["nodes"] if n["data"]["kind"] == "series"]
    with open(example_bundle() / "series.csv", newline="", encoding="utf-8") as f:
        subs = [r["sub_adviser"] for r in csv.DictReader(f)]
    assert sorted((s["cluster"], s["count"]) for s in series) == sorted(Counter(subs).items())
    assert {c["id"] for c in grouped["clusters"]} == set(subs) and not any(c["expanded"] for c in grouped["clusters"])
    one = get(served, "/viz/data", view="structure", asOf="2004-06-30", expand="janus", findings="false",
              analysis="false").json()
    janus = [n["data"] for n in one["elements"]["nodes"] if n["data"].get("cluster") == "janus"]
    assert len(janus) == subs.count("janus") and not any(d.get("collapsed") for d in janus)
    every = get(served, "/viz/data", view="structure", asOf="2004-06-30", expand="all", findings="false",
                analysis="false").json()
    assert sum(1 for n in every["elements"]["nodes"] if n["data"]["kind"] == "series") == len(subs)


def test_quarters_count_the_findings_standing_at_each_quarter_end_of_the_plan(served: Served) -> None:
    from datetime import date

    from bepgraph.viz.marks import findings_as_of

    body = get(served, "/viz/quarters", until="2004-06-30").json()
    assert body["planDate"] == "2002-05-16"  # the filing's
    ends = [q["end"] for q in body["quarters"]]
    assert ends == ["2002-06-30", "2002-09-30", "2002-12-31", "2003-03-31", "2003-06-30", "2003-09-30",
                    "2003-12-31", "2004-03-31", "2004-06-30"]
    for q in body["quarters"][::4]:
        counts = findings_as_of(served.store, date.fromisoformat(q["end"])).counts
        assert (q["violations"], q["warnings"]) == (counts["violation"], counts["warning"]), q
    assert get(served, "/viz/quarters", until="2002-01-01").json()["quarters"] == []  # before the plan
    bad = get(served, "/viz/quarters", until="2004-06-31")
    assert bad.status_code == 400 and "parameter until: '2004-06-31' is not a date" in bad.json()["detail"]


def test_the_status_table_counts_the_findings_of_each_series_by_rule_family(served: Served) -> None:
    body = get(served, "/viz/data", view="money", asOf="2004-06-30").json()
    report = get(served, "/viz/data", view="structure", asOf="2004-06-30").json()["findings"]
    assert body["findings"]["counts"] == report["counts"]
    status = body["status"]
    total = sum(sum(c.values()) for r in status["rows"] for c in r["cells"])
    from datetime import date

    from bepgraph.viz.marks import findings_as_of

    findings = findings_as_of(served.store, date(2004, 6, 30)).findings
    assert total == sum(max(1, len(f.series)) for f in findings)  # a finding on two series counts in both rows
    assert status["without"] == 38 - sum(1 for r in status["rows"] if not r["label"].startswith("(trust-wide"))


def test_views_are_kept_per_loaded_data_and_dates_and_rebuilt_after_a_reload() -> None:
    from datetime import date

    from bepgraph.viz.board_page import ViewCache, board_data
    from bepgraph.viz.views import Period

    store = EmbeddedStore()
    load_all(store)
    views, day = ViewCache(), date(2004, 6, 30)
    period = Period.ending(day)
    first = board_data(store, "money", day, period, None, views=views)
    built = views.built
    assert built == 3  # money, structure (to group the series), control (for the analysis)
    again = board_data(store, "money", day, period, None, views=views)
    assert views.built == built and again == first  # nothing built again, the same answer
    board_data(store, "control", day, period, None, views=views)
    assert views.built == built  # the control view was kept from the money view's analysis
    other = board_data(store, "money", date(2004, 3, 31), Period.ending(date(2004, 3, 31)), None, views=views)
    assert views.built == built + 3 and other["asOf"] == "2004-03-31"
    load_all(store)  # a reload writes new load times to graph/meta: every kept view misses
    board_data(store, "money", day, period, None, views=views)
    assert views.built == built + 6
    assert board_data(store, "money", day, period, None) == first  # built afresh, the same facts
