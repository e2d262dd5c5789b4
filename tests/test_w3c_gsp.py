"""The W3C SPARQL 1.1 Graph Store Protocol tests, replayed against ``/gsp`` of the live app.

All 14 tests defined in the manifests run, including ``head_non_existing_direct``,
which manifest-direct.ttl defines but leaves out of its ``mf:entries`` list.
Each test starts from an empty store (they reuse the same graph IRIs and
expect a first PUT to create its graph).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bepgraph.http.app import create_app
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore

from .servers import free_port
from .w3c.runner import W3CTest, check, load_tests, running, send

TOKEN = "w3c-gsp-token"
TESTS = load_tests("sparql11-graph-store-protocol", "GraphStoreProtocolTest")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmbeddedStore, int]]:
    store = EmbeddedStore()
    settings = Settings(allow_updates=True, token=TOKEN, load_on_start=False)
    port = free_port()
    with running(create_app(settings, store=store), port):
        yield store, port


def test_the_manifests_define_14_graph_store_tests() -> None:
    assert len(TESTS) == 14


@pytest.mark.server
@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_w3c_graph_store_protocol(test: W3CTest, served: tuple[EmbeddedStore, int]) -> None:
    store, port = served
    store.oxigraph.clear()
    variables: dict[str, str] = {}
    problems: list[str] = []
    for request in test.requests:
        sent = send(port, request, request.path, {"authorization": f"Bearer {TOKEN}"}, variables)
        problems += check(request, sent)
        if request.location_var and "location" in sent.headers:
            variables[request.location_var] = sent.headers["location"]
        elif request.location_var:
            problems.append(f"{request.path}: no Location header in the answer")
    assert not problems, f"{test.id} ({test.name}):\n" + "\n".join(problems)
