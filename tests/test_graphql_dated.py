"""Date-ordered pages read day by day (bepgraph.graphql.dated) give exactly the sorted list's pages.

A bundle with a dense series (many trades a day, so pages come from
single-day lookups) and a sparse one (a few trades over many days, so the
sorted query takes over after the first day), served over real HTTP; every
walk of the cursors is compared with the CSV rows sorted by (date, IRI).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from bepgraph.loading import load_all
from bepgraph.namespaces import entity_iri

from .bundles import MINI, SERIES, write_bundle
from .graphql_server import CountingStore, Served, serve

DENSE_DAYS, PER_DAY = 6, 7
WALK = """query($id: String!, $first: Int!, $after: String, $dir: SortDirection, $filter: TransactionFilter) {
  series(id: $id) { ... on Series { trades(first: $first, after: $after, direction: $dir, filter: $filter) {
    pageInfo { hasNextPage endCursor } nodes { id date } } } } }"""


def _trades() -> list[dict[str, str]]:
    template = MINI["transactions"][0]
    rows = []
    start = date(2003, 3, 3)
    for day in range(DENSE_DAYS):  # dense: PER_DAY trades a day, ids not in date order
        for n in range(PER_DAY):
            rows.append({**template, "id": f"T-D{(n * 7919 + day) % 1000:03d}-{day}",
                         "date": (start + timedelta(days=day)).isoformat(), "directed": "false" if n % 3 else "true"})
    return rows


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tables = copy.deepcopy(MINI)
    tables["transactions"] = tables["transactions"] + _trades()
    folder = write_bundle(tmp_path_factory.mktemp("dated") / "dense", tables)
    store = CountingStore()
    load_all(store, [folder])
    with serve(store) as running:
        yield running


def _walk(served: Served, first: int, direction: str, filter: dict[str, Any] | None = None) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        body = httpx.post(served.url + "/graphql", timeout=60, json={"query": WALK, "variables": {
            "id": SERIES, "first": first, "after": after, "dir": direction, "filter": filter}}).json()
        assert "errors" not in body, body
        page = body["data"]["series"]["trades"]
        seen += [n["id"] for n in page["nodes"]]
        assert len(page["nodes"]) <= first
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def _expected(direction: str, keep: Any = lambda r: True) -> list[str]:
    rows = [r for r in MINI["transactions"] + _trades() if r["series"] == SERIES and keep(r)]
    ordered = sorted(rows, key=lambda r: (r["date"], entity_iri("transactions", r["id"])), reverse=direction == "DESC")
    return [r["id"] for r in ordered]


@pytest.mark.parametrize("first", [1, 5, 7, 20])
@pytest.mark.parametrize("direction", ["DESC", "ASC"])
def test_walking_a_dense_series_by_date_matches_the_sorted_csv(served: Served, first: int, direction: str) -> None:
    assert _walk(served, first, direction) == _expected(direction)


def test_filters_and_date_bounds_apply_to_pages_read_by_day(served: Served) -> None:
    window = {"from": "2003-03-04", "to": "2003-03-07", "directed": False}
    got = _walk(served, 4, "DESC", window)
    assert got == _expected("DESC", lambda r: "2003-03-04" <= r["date"] <= "2003-03-07" and r["directed"] == "false")
    assert got


def test_the_last_trades_of_a_dense_series_take_one_day_lookup(served: Served) -> None:
    store = served.store
    assert isinstance(store, CountingStore)
    httpx.post(served.url + "/graphql", json={"query": WALK, "variables": {"id": SERIES, "first": 5}})
    before = len(store.queries)
    body = httpx.post(served.url + "/graphql", json={"query": WALK, "variables": {"id": SERIES, "first": 5}}).json()
    made = store.queries[before:]
    assert [n["id"] for n in body["data"]["series"]["trades"]["nodes"]] == _expected("DESC")[:5]
    day_reads = [q for q in made if "dated on given days" in q]
    sorted_reads = [q for q in made if "One page of the entities" in q]
    assert len(day_reads) == 1 and not sorted_reads, (len(day_reads), len(sorted_reads))
