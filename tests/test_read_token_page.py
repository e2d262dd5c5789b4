"""The read token in a real headless Chromium: the pages ask for it once, and their own requests carry it.

The token is typed into the form that ``/auth.js`` shows, kept in the tab's
sessionStorage and sent as an ``Authorization`` header by the page's fetch
and XMLHttpRequest calls; the board view draws from ``/viz/data`` with it,
and a refused token brings the form back. It never appears in a URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore

from .servers import free_port
from .test_viz_page import Page, chromium, page  # noqa: F401  (the DevTools tab and its fixtures)
from .w3c.runner import running

READ = "page-read-token"


@pytest.fixture(scope="module")
def locked() -> Iterator[str]:
    store = EmbeddedStore()
    load_all(store)
    with running(create_app(Settings(load_on_start=False, read_token=READ), store=store), free_port(),
                 headers={"authorization": f"Bearer {READ}"}) as base:
        yield base


STATUS = "fetch('/healthz').then(r => r.status)"
XHR_STATUS = ("new Promise(done => { const x = new XMLHttpRequest(); x.open('GET', '/healthz'); "
              "x.onload = () => done(x.status); x.send(); })")


def test_a_page_asks_for_the_token_and_its_requests_then_carry_it(locked: str, page: Page) -> None:  # noqa: F811
    page.open(locked + "/")
    page.wait_for("document.getElementById('bepgraph-auth') !== null")
    assert page.js(STATUS) == 401
    # submitted after this evaluation returns: the submit reloads the page, which would end the evaluation
    page.js(f"document.getElementById('bepgraph-auth-token').value = '{READ}'; "
            "setTimeout(() => document.getElementById('bepgraph-auth').requestSubmit(), 0); true")
    page.wait_for("document.readyState === 'complete' && document.getElementById('bepgraph-auth') === null "
                  f"&& sessionStorage.getItem('bepgraph-read-token') === '{READ}'")
    assert page.js(STATUS) == 200
    assert page.js(XHR_STATUS) == 200
    assert READ not in page.js("location.href")


def test_the_board_view_draws_with_the_token_from_the_tab(locked: str, page: Page) -> None:  # noqa: F811
    page.open(locked + "/")
    page.js(f"sessionStorage.setItem('bepgraph-read-token', '{READ}'); true")
    page.open(locked + "/viz?view=structure&asOf=2004-06-30")
    page.wait_for("document.body.dataset.state === 'ready'", 120)
    assert page.js("window.bepviz.cy.nodes().length") > 0
    assert page.js("document.getElementById('bepgraph-auth') === null")


def test_a_refused_token_is_forgotten_and_the_form_comes_back(locked: str, page: Page) -> None:  # noqa: F811
    page.open(locked + "/")
    page.js("sessionStorage.setItem('bepgraph-read-token', 'wrong'); true")
    page.open(locked + "/sparql")
    assert page.js(STATUS) == 401
    page.wait_for("document.getElementById('bepgraph-auth') !== null")
    assert page.js("sessionStorage.getItem('bepgraph-read-token')") is None
