"""The W3C SPARQL 1.1 Protocol tests, replayed against the live app with updates enabled.

Target 34/34; none is left out. Each test starts from an empty store holding
only the graphs its manifest entry names (``ut:graphData``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from bepgraph.http.app import create_app
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore

from .servers import free_port
from .w3c.runner import W3CTest, check, load_tests, running, send

TOKEN = "w3c-protocol-token"
TESTS = load_tests("sparql11-protocol", "ProtocolTest")
SKIPPED: dict[str, str] = {}  # test id -> why it is left out (none are)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmbeddedStore, int]]:
    store = EmbeddedStore()
    settings = Settings(allow_updates=True, token=TOKEN, load_on_start=False, query_timeout_s=20)
    port = free_port()
    with running(create_app(settings, store=store), port):
        yield store, port


def test_the_manifest_has_all_34_protocol_tests() -> None:
    assert len(TESTS) == 34
    assert not SKIPPED


@pytest.mark.server
@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_w3c_protocol(test: W3CTest, served: tuple[EmbeddedStore, int]) -> None:
    store, port = served
    store.oxigraph.clear()
    for path, graph in test.graph_data:
        store.oxigraph.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    problems: list[str] = []
    for request in test.requests:
        path = request.path.replace("/sparql/", "/sparql", 1)
        sent = send(port, request, path, {"authorization": f"Bearer {TOKEN}"}, {})
        problems += check(request, sent)
    assert not problems, f"{test.id} ({test.name}):\n" + "\n".join(problems)
