"""Timeouts that hold under load: four explosive queries at once are each stopped within timeout + 1 s,
while small queries keep being answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .servers import free_port
from .w3c.runner import running

TIMEOUT_S = 2.0
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
SMALL = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)])
    with running(create_app(Settings(load_on_start=False, query_timeout_s=TIMEOUT_S), store=store),
                 free_port()) as base:
        yield base


def explode_while_asking(base: str, explosive: int) -> tuple[list[float], list[int], list[float], list[int]]:
    """(seconds and statuses of the explosive queries, latencies and statuses of the small ones meanwhile)."""
    seconds: list[float] = []
    statuses: list[int] = []

    def explode() -> None:
        start = time.monotonic()
        answer = httpx.get(base + "/sparql", params={"query": EXPLOSIVE}, timeout=30)
        seconds.append(time.monotonic() - start)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=explode) for _ in range(explosive)]
    for thread in threads:
        thread.start()
    small: list[float] = []
    small_statuses: list[int] = []
    with httpx.Client(timeout=30) as client:
        while any(t.is_alive() for t in threads):
            start = time.monotonic()
            small_statuses.append(client.get(base + "/sparql", params={"query": SMALL}).status_code)
            small.append(time.monotonic() - start)
    for thread in threads:
        thread.join()
    return seconds, statuses, small, small_statuses


@pytest.mark.server
def test_four_explosive_queries_at_once_are_each_stopped_within_the_timeout_plus_one_second(app: str) -> None:
    seconds, statuses, small, small_statuses = explode_while_asking(app, 4)
    assert statuses == [503] * 4
    assert max(seconds) < TIMEOUT_S + 1.0, seconds
    assert small and set(small_statuses) == {200}, "small queries were answered meanwhile"
    assert max(small) < TIMEOUT_S, small
