"""One cache for every door: a date is validated once per load, whichever door asks first; the cache
is bounded and a write makes it miss."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

import bepgraph.validation.run as run_module
from bepgraph.loading import load_all
from bepgraph.namespaces import graph_iri
from bepgraph.store import EmbeddedStore
from bepgraph.validation.cache import AnswerCache, answers
from bepgraph.viz.marks import findings_as_of

from .graphql_server import serve

FINDINGS = '{ findings(asOf: "2004-06-30", first: 5) { findings { totalCount } } }'


def test_graphql_viz_data_and_the_board_views_share_one_validation_run(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[date] = []
    real = run_module.run_validation

    def counted(store: Any, as_of: date, *args: Any, **kwargs: Any) -> Any:
        runs.append(as_of)
        return real(store, as_of, *args, **kwargs)

    monkeypatch.setattr(run_module, "run_validation", counted)
    store = EmbeddedStore()
    load_all(store)
    with serve(store) as served:
        total = httpx.post(served.url + "/graphql", json={"query": FINDINGS}, timeout=300).json()
        page = httpx.get(served.url + "/viz/data", params={"view": "money", "asOf": "2004-06-30"}, timeout=300)
        assert page.status_code == 200
        computed = answers().computed
        again = httpx.get(served.url + "/viz/data", params={"view": "money", "asOf": "2004-06-30"}, timeout=300)
        assert again.json() == page.json() and answers().computed == computed  # served from the cache
    report = findings_as_of(store, date(2004, 6, 30))  # the board pack's door
    assert runs == [date(2004, 6, 30)]
    assert total["data"]["findings"]["findings"]["totalCount"] == len(report.findings) == page.json()["findings"]["total"]


def test_a_write_makes_every_older_answer_miss() -> None:
    store, cache, calls = EmbeddedStore(), AnswerCache(), []
    assert cache.get(store, ("x",), lambda: calls.append(1) or "first") == "first"
    assert cache.get(store, ("x",), lambda: calls.append(1) or "again") == "first"
    store.replace_graph(graph_iri("bundle/b"), b"<urn:a> <urn:b> <urn:c> .\n")
    assert cache.known(store, ("x",)) is None
    assert cache.get(store, ("x",), lambda: calls.append(1) or "after") == "after" and len(calls) == 2


def test_the_cache_is_bounded_least_recently_used_out_first() -> None:
    store, cache = EmbeddedStore(), AnswerCache(keep=2, keep_validations=1)
    for key in ("a", "b"):
        cache.get(store, (key,), lambda key=key: key)
    cache.get(store, ("a",), lambda: "recomputed")  # a is now the most recent
    cache.get(store, ("c",), lambda: "c")
    assert cache.known(store, ("b",)) is None and cache.known(store, ("a",)) == "a"
    cache.get(store, ("validation", 1), lambda: "v1")
    cache.get(store, ("validation", 2), lambda: "v2")
    assert cache.known(store, ("validation", 1)) is None and cache.known(store, ("validation", 2)) == "v2"
    assert cache.known(store, ("a",)) == "a"  # runs are bounded apart from the smaller answers


def test_a_failed_computation_is_not_kept() -> None:
    store, cache = EmbeddedStore(), AnswerCache()
    with pytest.raises(ValueError):
        cache.get(store, ("x",), lambda: (_ for _ in ()).throw(ValueError("no")))
    assert cache.get(store, ("x",), lambda: "fine") == "fine"
