"""The /viz page in a real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol.

The test starts uvicorn on a free port and Chromium with a fresh profile,
opens the page, waits (with a deadline, no sleeps) until it says it is
drawn, then reads the page's own state: as many nodes drawn as the JSON
holds, no console error, a screenshot saved.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore

from .graphql_server import Served, serve

DEADLINE_S = 60.0
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=1400,900",
]


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
            value = self.js(expression)
            if value:
                return value
            self.send("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 50))", awaitPromise=True)
        raise AssertionError(f"the page never satisfied {expression} within {deadline_s}s")

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && document.body.dataset.state !== 'loading'")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    store = EmbeddedStore()
    load_all(store)
    with serve(store) as s:
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
        yield p
    httpx.get(f"{chromium}/json/close/{target['id']}")


def test_the_page_draws_every_node_of_the_json_without_console_errors(served: Served, page: Page, tmp_path: Path) -> None:
    query = "view=structure&asOf=2004-06-30&from=2003-07-01&to=2004-06-30"
    expected = httpx.get(f"{served.url}/viz/data?{query}", timeout=120).json()
    page.open(f"{served.url}/viz?{query}")
    assert page.js("document.body.dataset.state") == "ready", page.js("document.getElementById('status').textContent")
    assert page.js("window.bepviz.cy.nodes().length") == expected["counts"]["nodes"] == len(expected["elements"]["nodes"])
    assert page.js("window.bepviz.cy.edges().length") == expected["counts"]["edges"]
    # laid out in layers: the trust sits above every series (dagre, top to bottom)
    assert page.js("""(() => { const cy = window.bepviz.cy;
        const t = cy.nodes('.trust')[0].position('y');
        return cy.nodes('.series').every(n => n.position('y') > t); })()""")
    shot = base64.b64decode(page.send("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "viz-structure.png").write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    assert page.errors == []


def test_clicking_a_node_shows_its_findings_and_search_picks_out_matches(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=structure&asOf=2004-06-30")
    assert page.js("document.body.dataset.state") == "ready"
    node = "https://w3id.org/bepgraph/id/agreement/db-granite"
    page.js(f"window.bepviz.cy.getElementById({json.dumps(node)}).emit('tap'), true")
    details = page.js("document.getElementById('details').textContent")
    assert "BEP-7.3" in details and "db-granite" in details
    page.js("const s = document.getElementById('search'); s.value = 'granite'; s.dispatchEvent(new Event('input'))")
    matches = page.js("window.bepviz.cy.nodes('.match').map(n => n.id())")
    assert node in matches and all("granite" in m for m in matches)
    assert page.errors == []


def test_the_page_exports_png_and_svg_of_the_money_flow(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=money&asOf=2004-06-30")
    assert page.js("document.body.dataset.state") == "ready"
    svg = page.js("window.bepviz.cy.svg({full: true})")
    assert svg.lstrip().startswith("<svg") or svg.lstrip().startswith("<?xml")
    assert "Harbor Point" in svg
    png = page.js("window.bepviz.cy.png({full: true})")
    assert png.startswith("data:image/png;base64,") and len(png) > 10_000
    assert page.js("document.getElementById('analysis').textContent").count("HHI") == 1
    assert page.errors == []


def test_a_period_that_ends_before_it_starts_is_reported_on_the_page_not_drawn(served: Served, page: Page) -> None:
    page.open(f"{served.url}/viz?view=money&asOf=2004-06-30&from=2004-06-30&to=2004-01-01")
    page.wait_for("document.body.dataset.state === 'error'")
    assert "after it ends" in page.js("document.getElementById('status').textContent")
    # the 400 answer is logged by the browser as a failed resource load, and nothing else
    assert all("400" in e for e in page.errors)
