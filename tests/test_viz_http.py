"""``/viz/data`` and the page's files over real HTTP: parameters validated and bound, errors located."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore

from .graphql_server import Served, serve


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    store = EmbeddedStore()
    load_all(store)
    with serve(store) as s:
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
