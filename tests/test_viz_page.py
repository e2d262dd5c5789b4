"""The /viz page in a real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol.

The test starts uvicorn on a free port and Chromium with a fresh profile,
opens the page, waits (with a deadline, no sleeps) until it says it is
drawn, then reads what a person would see: as many nodes drawn as the JSON
holds, the rendered size of every label and whether any two label boxes
overlap (Cytoscape's rendered label boxes, the Sankey's SVG text, the
matrix's table text), the URL that reproduces the view, the error shown for
a bad parameter, no console error.
"""

from __future__ import annotations

import base64
import csv
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from bepgraph.resources import example_bundle

from .graphql_server import Served, serve_example

DEADLINE_S = 60.0
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=1400,900",
]


# what DevTools answers when the document an evaluation ran in is replaced under it
NAVIGATED = ("Inspected target navigated or closed", "Execution context was destroyed",
             "Cannot find context with specified id")


class Navigated(AssertionError):
    """The tab navigated while a command ran: a waiting loop asks again, anything else fails."""


class Page:
    """One Chromium tab over the DevTools protocol: send commands, keep the console errors it reports."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.errors: list[str] = []

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=DEADLINE_S))
            if message.get("id") == ident:
                if "error" in message:
                    if any(sign in str(message["error"]) for sign in NAVIGATED):
                        raise Navigated(f"{method}: {message['error']}")
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]
            self._note(message)

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, deadline_s: float = DEADLINE_S) -> Any:
        until = time.monotonic() + deadline_s
        while time.monotonic() < until:
            try:
                value = self.js(expression)
                if value:
                    return value
                self.send("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 50))", awaitPromise=True)
            except Navigated:
                continue  # the page went on to another document mid-evaluation (a form's submit): ask the new one
        raise AssertionError(f"the page never satisfied {expression} within {deadline_s}s")

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && document.body.dataset.state !== 'loading'")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve_example() as s:
        yield s


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A headless Chromium; yields the DevTools HTTP address."""
    exe = shutil.which("chromium")
    assert exe, "Debian's chromium is needed (apt-get install chromium; .ci/run installs it)"
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        until = time.monotonic() + DEADLINE_S
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert proc.poll() is None, "chromium exited at start"
            assert time.monotonic() < until, "chromium did not open its DevTools port"
            time.sleep(0.02)  # poll interval; the deadline bounds the wait
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def page(chromium: str) -> Iterator[Page]:
    target = httpx.put(f"{chromium}/json/new?about:blank").json()
    with connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
        p = Page(ws)
        for domain in ("Runtime", "Log", "Page"):
            p.send(f"{domain}.enable")
        # the screen the issue measures: 1400×900 CSS pixels of page
        p.send("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)
        yield p
    httpx.get(f"{chromium}/json/close/{target['id']}")


# every label drawn in #graph, as the screen shows it: box in CSS px and font size in CSS px
LABELS_JS = """(() => {
  const out = [];
  const cy = window.bepviz.cy;
  if (cy) {
    cy.elements().forEach(e => {
      if (!e.visible() || !e.renderedStyle('label')) return;
      const b = e.renderedBoundingBox({includeNodes: false, includeEdges: false, includeLabels: true});
      const r = cy.container().getBoundingClientRect();
      out.push({x1: b.x1 + r.left, y1: b.y1 + r.top, x2: b.x2 + r.left, y2: b.y2 + r.top,
                px: parseFloat(e.renderedStyle('font-size')), text: e.isNode() ? e.data('label') : e.id()});
    });
  }
  const walker = document.createTreeWalker(document.getElementById('graph'), NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.textContent.trim() || t.parentElement.closest('title')) continue;
    const range = document.createRange();
    range.selectNodeContents(t);
    for (const b of range.getClientRects()) {
      if (b.width === 0) continue;
      out.push({x1: b.left, y1: b.top, x2: b.right, y2: b.bottom,
                px: parseFloat(getComputedStyle(t.parentElement).fontSize), text: t.textContent});
    }
  }
  return out;
})()"""


def overlapping(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of label boxes that share more than half a pixel each way."""
    pairs = []
    for a, b in itertools.combinations(boxes, 2):
        if min(a["x2"], b["x2"]) - max(a["x1"], b["x1"]) > 0.5 and min(a["y2"], b["y2"]) - max(a["y1"], b["y1"]) > 0.5:
            pairs.append((a["text"], b["text"]))
    return pairs


def rows(table: str) -> list[dict[str, str]]:
    with open(example_bundle() / f"{table}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def latest_fact_in_bundle() -> str:
    """The last day the bundle's rows are dated (the columns of facts, not of retention deadlines)."""
    days = []
    for path in example_bundle().glob("*.csv"):
        for row in rows(path.stem):
            days += [row[c] for c in ("date", "delivered", "effective", "notice_date", "from", "to") if row.get(c)]
    return max(days)


VIEW_URLS = [
    "view=structure", "view=control", "view=money", "view=governance",
    "view=structure&asOf=2004-06-30", "view=control&asOf=2004-06-30", "view=money&asOf=2004-06-30",
    "view=governance&asOf=2005-06-30&from=2002-01-01",
    "view=structure&asOf=2004-06-30&expand=all", "view=money&asOf=2004-06-30&expand=all",
]


@pytest.mark.parametrize("query", VIEW_URLS)
def test_every_label_is_at_least_11px_and_no_two_label_boxes_overlap(served: Served, page: Page, query: str) -> None:
    page.open(f"{served.url}/viz?{query}")
    assert page.js("document.body.dataset.state") == "ready", page.js("document.getElementById('status').textContent")
    assert page.js("[window.innerWidth, window.innerHeight]") == [1400, 900]
    boxes = page.js(LABELS_JS)
    assert len(boxes) >= 10  # the view drew its labels
    smallest = min(boxes, key=lambda b: b["px"])
    assert smallest["px"] >= 11, smallest
    assert overlapping(boxes) == []
    assert page.errors == []


@pytest.mark.parametrize("query", ["view=structure&asOf=2004-06-30", "view=structure&asOf=2004-06-30&expand=all",
                                   "view=structure", "view=control&asOf=2004-06-30"])
def test_the_graph_opens_whole_on_screen_with_labels_of_11px_or_more(served: Served, page: Page, query: str) -> None:
    """Every group expanded included: the initial view shows every node, none cut off at an edge."""
    page.open(f"{served.url}/viz?{query}")
    assert page.js("document.body.dataset.state") == "ready"
    frame = page.js("(() => { const r = document.getElementById('graph').getBoundingClientRect();"
                    " return {x1: r.left, y1: r.top, x2: r.right, y2: r.bottom}; })()")
    boxes = [b for b in page.js(LABELS_JS) if b["px"] > 0]
    nodes = page.js("window.bepviz.cy.nodes().length")
    assert len(boxes) >= nodes  # every node's label drawn
    outside = [b["text"] for b in boxes
               if b["x1"] < frame["x1"] or b["y1"] < frame["y1"] or b["x2"] > frame["x2"] or b["y2"] > frame["y2"]]
    assert outside == []
    assert min(b["px"] for b in boxes) >= 11
    assert overlapping(boxes) == []


@pytest.mark.parametrize("query", ["view=money", "view=money&asOf=2004-06-30"])
def test_the_sankey_fits_its_box_without_scrolling(served: Served, page: Page, query: str) -> None:
    page.open(f"{served.url}/viz?{query}")
    assert page.js("document.body.dataset.state") == "ready"
    size = page.js("(() => { const g = document.getElementById('graph');"
                   " return [g.scrollWidth, g.clientWidth, g.scrollHeight, g.clientHeight]; })()")
    assert size[0] <= size[1] and size[2] <= size[3], size


@pytest.mark.parametrize("view", ["structure", "control", "money", "governance"])
def test_each_view_has_a_legend_naming_what_it_draws(served: Served, page: Page, view: str) -> None:
    page.open(f"{served.url}/viz?view={view}&asOf=2004-06-30")
    legend = page.js("document.getElementById('legend').textContent")
    assert legend.startswith("Legend") and page.js("document.querySelectorAll('#legend li').length") >= 4
    if view in ("structure", "control"):
        kinds = set(page.js("window.bepviz.cy.nodes().map(n => n.data('kind'))"))
        names = {"broker": "broker-dealer", "series": "series", "agreement": "agreement", "trustee": "trustee",
                 "sub-adviser": "sub-adviser", "trust": "the Trust", "distributor": "Distributor"}
        assert all(names[k] in legend for k in kinds if k in names)
        assert "violation" in legend
    if view == "control":
        assert "affiliated" in legend and "interested" in legend
    if view == "governance":
        assert "independent" in legend and "not in person" in legend


def test_edge_labels_show_on_hover_only(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=structure&asOf=2004-06-30")
    assert page.js("window.bepviz.cy.edges().filter(e => e.renderedStyle('label')).length") == 0
    label = page.js("(() => { const e = window.bepviz.cy.edges('[relation = \"subAdvises\"]')[0]; e.emit('mouseover');"
                    " return e.renderedStyle('label'); })()")
    assert label.startswith("subAdvises")
    assert page.js("(() => { const e = window.bepviz.cy.edges('[relation = \"subAdvises\"]')[0]; e.emit('mouseout');"
                   " return e.renderedStyle('label'); })()") == ""


def test_the_page_draws_every_node_of_the_json_without_console_errors(served: Served, page: Page, tmp_path: Path) -> None:
    query = "view=structure&asOf=2004-06-30&from=2003-07-01&to=2004-06-30"
    expected = httpx.get(f"{served.url}/viz/data?{query}", timeout=120).json()
    page.open(f"{served.url}/viz?{query}")
    assert page.js("document.body.dataset.state") == "ready", page.js("document.getElementById('status').textContent")
    assert page.js("window.bepviz.cy.nodes().length") == expected["counts"]["nodes"] == len(expected["elements"]["nodes"])
    assert page.js("window.bepviz.cy.edges().length") == expected["counts"]["edges"]
    # laid out in layers, left to right: the trust sits left of every group of series
    assert page.js("""(() => { const cy = window.bepviz.cy;
        const t = cy.nodes('.trust')[0].position('x');
        return cy.nodes('.series').length > 0 && cy.nodes('.series').every(n => n.position('x') > t); })()""")
    shot = base64.b64decode(page.send("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "viz-structure.png").write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    assert page.errors == []


def test_the_page_opens_on_the_latest_dated_fact_not_today(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz")
    assert page.js("document.body.dataset.state") == "ready"
    latest = latest_fact_in_bundle()
    params = page.js("Object.fromEntries(new URLSearchParams(location.search))")
    assert params["asOf"] == latest and params["view"] == "structure"
    assert page.js("document.getElementById('asOf').value") == latest
    assert f"as of {latest}" in page.js("document.getElementById('status').textContent")


def test_the_url_reproduces_the_view_expansion_and_selection(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=structure&asOf=2004-06-30")
    janus = "group:series of janus"
    assert page.js(f"window.bepviz.cy.getElementById({json.dumps(janus)}).length") == 1
    page.js(f"window.bepviz.cy.getElementById({json.dumps(janus)}).emit('tap'), true")
    page.wait_for("document.body.dataset.state === 'ready' && new URLSearchParams(location.search).get('expand') === 'janus'")
    members = page.js("window.bepviz.cy.nodes('[cluster = \"janus\"]').map(n => n.id())")
    assert len(members) == sum(1 for r in rows("series") if r["sub_adviser"] == "janus") and janus not in members
    node = sorted(members)[0]
    page.js(f"window.bepviz.cy.getElementById({json.dumps(node)}).emit('tap'), true")
    url = page.js("location.href")
    drawn = sorted(page.js("window.bepviz.cy.nodes().map(n => n.id())"))
    details = page.js("document.getElementById('details').textContent")
    # back: the expanded view without the selection, then the grouped view again
    page.js("history.back(), true")
    page.wait_for("document.body.dataset.state === 'ready' && !new URLSearchParams(location.search).get('select')")
    assert page.js("window.bepviz.cy.nodes('[cluster = \"janus\"]').length") == len(members)
    page.js("history.back(), true")
    page.wait_for("document.body.dataset.state === 'ready' && !new URLSearchParams(location.search).get('expand')")
    assert page.js(f"window.bepviz.cy.getElementById({json.dumps(janus)}).length") == 1
    # the link, opened afresh, draws the same nodes with the same one selected and its details shown
    page.open("about:blank")
    page.open(url)
    assert page.js("document.body.dataset.state") == "ready"
    assert sorted(page.js("window.bepviz.cy.nodes().map(n => n.id())")) == drawn
    assert page.js("window.bepviz.cy.$(':selected').map(n => n.id())") == [node]
    assert page.js("document.getElementById('details').textContent") == details
    assert page.js("document.getElementById('view').value") == "structure"
    assert page.js("document.getElementById('asOf').value") == "2004-06-30"
    assert page.errors == []


@pytest.mark.parametrize(("query", "message"), [
    ("view=pie", "parameter view: 'pie' is not a view"),
    ("view=money&asOf=2004-02-30", "parameter asOf: '2004-02-30' is not a date"),
    ("view=structure&asOf=yesterday", "parameter asOf: 'yesterday' is not a date"),
    ("view=money&asOf=2004-06-30&from=2004-06-30&to=2004-01-01", "after it ends"),
    ("view=structure&asOf=2004-06-30&expand=nobody", "parameter expand: 'nobody' is not a sub-adviser"),
])
def test_a_bad_parameter_is_shown_on_the_page_not_replaced(served: Served, page: Page, query: str, message: str) -> None:
    page.open(f"{served.url}/viz?{query}")
    page.wait_for("document.body.dataset.state === 'error'")
    assert page.js("document.getElementById('error').hidden") is False
    assert message in page.js("document.getElementById('error').textContent")
    assert page.js("document.querySelectorAll('#graph *').length") == 0  # nothing drawn in its place
    assert page.js("location.search") == "?" + query  # the URL keeps what was asked
    # the 400 answer is logged by the browser as a failed resource load, and nothing else
    assert page.errors and all("400" in e for e in page.errors)


def test_clicking_a_node_shows_its_findings_and_search_picks_out_matches(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=structure&asOf=2004-06-30")
    assert page.js("document.body.dataset.state") == "ready"
    node = "https://w3id.org/bepgraph/id/agreement/db-granite"
    page.js(f"window.bepviz.cy.getElementById({json.dumps(node)}).emit('tap'), true")
    details = page.js("document.getElementById('details').textContent")
    assert "BEP-7.3" in details and "db-granite" in details
    # clicking the finding picks out the nodes that carry it
    page.js("document.querySelector('#details .finding').click(), true")
    assert node in page.js("window.bepviz.cy.nodes('.match').map(n => n.id())")
    page.js("const s = document.getElementById('search'); s.value = 'granite'; s.dispatchEvent(new Event('input'))")
    matches = page.js("window.bepviz.cy.nodes('.match').map(n => n.id())")
    assert node in matches and all("granite" in m for m in matches)
    assert page.errors == []


def test_the_money_view_is_a_sankey_whose_bands_carry_the_period_amounts(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=money&asOf=2004-06-30")
    assert page.js("document.body.dataset.state") == "ready"
    data = httpx.get(f"{served.url}/viz/data?view=money&asOf=2004-06-30", timeout=120).json()
    bands = page.js("document.querySelectorAll('#sankey path.band').length")
    assert bands == len(data["sankey"]["links"]) > 0
    titles = page.js("[...document.querySelectorAll('#sankey path.band title')].map(t => t.textContent)")
    commission = sum(float(t["commission"]) for t in rows("transactions")
                     if t["directed"] == "true" and "2003-07-01" <= t["date"] <= "2004-06-30")
    drawn = sum(float(t.rsplit(": ", 1)[1].split(" ")[0].replace(",", ""))
                for t, link in zip(titles, data["sankey"]["links"]) if link["relation"] == "commission")
    assert drawn == pytest.approx(commission, abs=0.005 * bands)  # each band's title rounds to the cent
    svg = page.js("new XMLSerializer().serializeToString(document.getElementById('sankey'))")
    assert svg.startswith("<svg") and "Harbor Point" in svg
    assert page.js("document.getElementById('analysis').textContent").count("HHI") == 1
    assert page.errors == []


def test_the_governance_view_is_a_matrix_of_trustees_by_board_meeting(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=governance&asOf=2005-06-30&from=2002-01-01")
    assert page.js("document.body.dataset.state") == "ready"
    meetings = sorted(m["date"] for m in rows("meetings") if m["body"] == "board" and m["date"] >= "2002-01-01")
    header = page.js("[...document.querySelectorAll('#matrix thead th')].map(th => th.firstChild.textContent)")
    assert header[2:] == meetings
    trustees = page.js("[...document.querySelectorAll('#matrix tbody th')].map(th => th.textContent)")
    assert sorted(trustees) == sorted(t["name"] for t in rows("trustees") if not t["to"] or t["to"] > "2002-01-01")
    # Helen K. Brandt's cell at the meeting of 2004-05-13: her ballots counted from the bundle
    matter_meeting = {m["id"]: m["meeting"] for m in rows("matters")}
    meeting_id = next(m["id"] for m in rows("meetings") if m["date"] == "2004-05-13" and m["body"] == "board")
    hers = [b for b in rows("ballots") if b["trustee"] == "t-brandt" and matter_meeting[b["matter"]] == meeting_id]
    cell = page.js(f"""(() => {{ const row = [...document.querySelectorAll('#matrix tbody tr')]
        .find(r => r.querySelector('th').textContent === 'Helen K. Brandt');
        return row.cells[{2 + meetings.index('2004-05-13')}].textContent; }})()""")
    votes = {b["vote"] for b in hers}
    assert all(f"{v} {sum(1 for b in hers if b['vote'] == v)}" in cell for v in votes)
    assert ("not in person" in cell) == all(b["in_person"] == "false" for b in hers)
    status = page.js("[...document.querySelectorAll('#matrix tbody tr')].find(r => r.querySelector('th').textContent"
                     " === 'Andrew M. Hollis').cells[1].textContent")
    assert status.startswith("interested:")
    assert page.errors == []


def test_the_quarter_slider_moves_the_view_to_a_quarter_end_and_shows_its_findings(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=structure&asOf=2004-06-30")
    page.wait_for("document.getElementById('quarter') !== null")
    quarters = httpx.get(f"{served.url}/viz/quarters", timeout=300).json()["quarters"]
    assert page.js("document.querySelectorAll('#timeline .bar').length") == len(quarters)
    current = page.js("[...document.querySelectorAll('#timeline .bar')].findIndex(b => b.classList.contains('current'))")
    assert quarters[current]["end"] == "2004-06-30"
    target = next(i for i, q in enumerate(quarters) if q["end"] == "2003-09-30")
    page.js(f"(() => {{ const s = document.getElementById('quarter'); s.value = {target};"
            " s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); return true; })()")
    page.wait_for("document.body.dataset.state === 'ready' && new URLSearchParams(location.search).get('asOf') === '2003-09-30'")
    q = quarters[target]
    assert f"{q['quarter']}: {q['violations']} violations, {q['warnings']} warnings" in page.js(
        "document.getElementById('timeline').textContent")
    total = page.js("window.bepviz.data.findings.counts")
    assert (total["violation"], total["warning"]) == (q["violations"], q["warnings"])
    assert page.js("new URLSearchParams(location.search).get('from')") == "2002-10-01"  # the year that ends on it
    heat = page.js("[...document.querySelectorAll('#heat tbody tr')].map(r => r.cells[0].textContent)")
    assert heat and heat[-1].startswith("(trust-wide")
    assert page.errors == []


def test_the_page_under_findings_files_draws_the_covered_quarters_names_the_others_and_shows_a_refusal(
        chromium: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from datetime import date

    from bepgraph.loading import load_all
    from bepgraph.partition.runner import validate_partitioned
    from bepgraph.partition.saved import write_findings_file
    from bepgraph.settings import Settings
    from bepgraph.store import EmbeddedStore

    from .graphql_server import serve
    from .in_process import InProcess

    where = tmp_path_factory.mktemp("findings")
    files = []
    for day in (date(2003, 9, 30), date(2004, 6, 30)):
        files.append(where / f"f-{day}.json")
        write_findings_file(files[-1], validate_partitioned([example_bundle()], day, "year", InProcess()))
    store = EmbeddedStore()
    load_all(store)
    with serve(store, Settings(load_on_start=False, findings_files=tuple(files))) as served:
        target = httpx.put(f"{chromium}/json/new?about:blank").json()
        with connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
            page = Page(ws)
            for domain in ("Runtime", "Log", "Page"):
                page.send(f"{domain}.enable")
            page.open(f"{served.url}/viz?view=structure&asOf=2004-06-30")
            page.wait_for("document.getElementById('quarter') !== null")
            assert page.js("document.querySelectorAll('#timeline .bar').length") == 2
            note = page.js("document.querySelector('#timeline .hint').textContent")
            assert note.startswith("Not computed for ") and "this service reads its findings from findings files" in note
            assert "2004Q1" in note and "--as-of DAY --findings-file FILE" in note
            assert page.errors == []
            page.open(f"{served.url}/viz?view=structure&asOf=2004-09-30")
            page.wait_for("document.body.dataset.state === 'error'")
            assert page.js("document.getElementById('error').hidden") is False
            assert ("no findings as of 2004-09-30: the findings are read from findings files, which hold the findings "
                    "as of 2003-09-30, 2004-06-30 only") in page.js("document.getElementById('error').textContent")
