"""No outbound calls: SERVICE and LOAD reach only what the operator listed, and a listener proves it.

A TCP listener on 127.0.0.1 stands for an internal service; every query and
update that names it must be refused with a 400 that says why, and the
listener must see no connection at all. Texts that merely mention the word
SERVICE (in a string, a comment, an IRI, a prefixed name) are answered.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.endpoint.guard import check_query
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .servers import free_port
from .w3c.runner import running

TOKEN = "outbound-test-token"


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts (and answers none)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def mini_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)


@pytest.fixture(scope="module")
def writable(mini_folder: Path) -> Iterator[str]:
    store = EmbeddedStore()
    load_all(store, [mini_folder])
    settings = Settings(load_on_start=False, allow_updates=True, token=TOKEN, query_timeout_s=5.0)
    with running(create_app(settings, store=store), free_port()) as base:
        yield base


def _queries(url: str) -> list[str]:
    host = url.rsplit("/", 1)[0] + "/"
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ {{ OPTIONAL {{ {{ SERVICE<{url}>{{ ?s ?p ?o }} }} }} }} }}",
        f"PREFIX int: <{host}> SELECT * WHERE {{ SERVICE int:sparql {{ ?s ?p ?o }} }}",
        f"BASE <{host}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ # a comment\n SeRvIcE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE { BIND(<" + url + "> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        f"ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    ]


@pytest.mark.server
def test_service_is_refused_with_a_400_and_the_listener_sees_no_connection(writable: str, listener: Listener) -> None:
    for query in _queries(listener.url):
        for send in (lambda q: httpx.get(writable + "/sparql", params={"query": q}),
                     lambda q: httpx.post(writable + "/sparql", content=q,
                                          headers={"content-type": "application/sparql-query"})):
            answer = send(query)
            assert answer.status_code == 400, (query, answer.text)
            assert answer.json()["error"] == "ServiceRefused"
            assert "BEPGRAPH_SERVICE_ALLOW" in answer.json()["detail"] or "variable" in answer.json()["detail"]
    assert listener.connections == 0


@pytest.mark.server
def test_load_is_refused_for_urls_and_files_even_with_the_update_token(writable: str, listener: Listener) -> None:
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/sparql-update"}
    for update in (f"LOAD <{listener.url}>", f"LOAD SILENT <{listener.url}> INTO GRAPH <urn:g>",
                   f"PREFIX x: <{listener.url.rsplit('/', 1)[0]}/> load x:sparql",
                   "LOAD <file:///etc/passwd>", "LOAD SILENT <file:///etc/hostname> INTO GRAPH <urn:g>"):
        answer = httpx.post(writable + "/sparql", content=update, headers=auth)
        assert answer.status_code == 400, (update, answer.text)
        assert answer.json()["error"] == "LoadRefused"
    assert listener.connections == 0
    assert httpx.get(writable + "/sparql", params={"query": "ASK { GRAPH <urn:g> { ?s ?p ?o } }"}).json()["boolean"] is False


@pytest.mark.server
def test_texts_that_only_mention_service_are_answered(writable: str) -> None:
    for query in ('SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:9/>" } LIMIT 1',
                  "SELECT * WHERE { ?s ?p ?o } LIMIT 1 # SERVICE <http://127.0.0.1:9/>",
                  "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
                  "PREFIX service: <http://example.org/> SELECT ?service WHERE { ?service service:SERVICE ?o }",
                  'SELECT * WHERE { ?s ?p """a long\nSERVICE <http://127.0.0.1:9/> { }""" }',
                  "SELECT * WHERE { ?s ?p 'x'@service }"):
        answer = httpx.get(writable + "/sparql", params={"query": query})
        assert answer.status_code == 200, (query, answer.text)


@pytest.mark.server
def test_the_service_description_advertises_federation_only_when_enabled(writable: str, mini_folder: Path) -> None:
    description = httpx.get(writable + "/sparql", headers={"accept": "application/n-triples"}).text
    assert "BasicFederatedQuery" not in description
    store = EmbeddedStore()
    settings = Settings(load_on_start=False, service_allow=("http://example.org/sparql",))
    with running(create_app(settings, store=store), free_port()) as base:
        described = httpx.get(base + "/sparql", headers={"accept": "application/n-triples"}).text
    assert "BasicFederatedQuery" in described


def test_a_listed_endpoint_passes_the_guard_and_others_stay_refused() -> None:
    allowed = ("http://example.org/sparql",)
    check_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", None, allowed)
    check_query("PREFIX e: <http://example.org/> SELECT * { SERVICE SILENT e:sparql { ?s ?p ?o } }", None, allowed)
    for other in ("SELECT * { SERVICE <http://example.org/sparql2> { ?s ?p ?o } }",
                  "BASE <http://example.org/x/> SELECT * { SERVICE <sparql> { ?s ?p ?o } }",
                  "SELECT * { SERVICE ?e { ?s ?p ?o } }"):
        with pytest.raises(Exception, match="refused"):
            check_query(other, None, allowed)


@pytest.mark.server
def test_an_allowed_endpoint_is_called(mini_folder: Path, listener: Listener) -> None:
    """The allow list really opens the door: the listed listener is contacted (and its silence is a 4xx/5xx, no hang)."""
    store = EmbeddedStore()
    settings = Settings(load_on_start=False, service_allow=(listener.url,), query_timeout_s=3.0)
    with running(create_app(settings, store=store), free_port()) as base:
        answer = httpx.get(base + "/sparql", params={"query": f"SELECT * {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}"},
                           timeout=10)
    assert answer.status_code < 500 or answer.json()["error"] == "QueryTimeout"
    assert listener.connections >= 1
