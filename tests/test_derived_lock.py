"""graph/derived is one graph per store, rewritten per as-of date: readers must see their own date."""

from __future__ import annotations

import sys
import threading
import time
from datetime import date
from pathlib import Path

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.derive import DERIVED_LOCK, derived_for
from bepgraph.viz.views import status_lock

CONTEXT_AS_OF = """
PREFIX bep: <https://w3id.org/bepgraph/ontology#>
SELECT ?asOf WHERE { ?ctx a bep:ValidationContext ; bep:asOf ?asOf }
"""


def test_the_board_views_and_validation_share_one_derived_graph_lock() -> None:
    assert status_lock() is DERIVED_LOCK


def test_concurrent_readers_of_different_dates_each_read_their_own_derived_graph(mini_bundle: Path) -> None:
    store = EmbeddedStore()
    load_all(store, [mini_bundle], with_ontology=False)
    days = [date(2003, 1, 1), date(2004, 6, 30), date(2005, 12, 31)]
    seen: list[tuple[date, list[str]]] = []
    errors: list[BaseException] = []

    def reader(day: date) -> None:
        try:
            for _ in range(15):
                with derived_for(store, day):
                    time.sleep(0)  # hand the GIL over between writing and reading: a race, if any, shows
                    seen.append((day, [row["asOf"].value for row in store.query(CONTEXT_AS_OF)]))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(day,)) for day in days]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so an unguarded read would interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert len(seen) == 45
    assert all(values == [day.isoformat()] for day, values in seen)
