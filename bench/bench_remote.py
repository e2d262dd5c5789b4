"""Load, validate and the two heaviest curated queries on each kind of store, in one run.

The stores: embedded in memory, embedded on disk, ``oxigraph serve`` and
Virtuoso (Debian's virtuoso-opensource, started here with the settings the
README's "Remote stores" asks for), each server loaded through its Graph
Store (``oxigraph-server``, ``virtuoso``) or its own bulk loader
(``oxigraph-server-bulk``, ``virtuoso-bulk``; ``bulk_load.py``). Run under
the bench lock::

    flock /tmp/bepgraph-bench.lock .venv/bin/python bench/bench_remote.py --trades 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bundles import generate  # noqa: E402
from bepgraph.loading import load_all  # noqa: E402
from bepgraph.sparql import bind, named_queries  # noqa: E402
from bepgraph.settings import BulkSettings, RemoteSettings  # noqa: E402
from bepgraph.store import EmbeddedStore, RemoteStore, Store  # noqa: E402
from bepgraph.validation.run import run_validation  # noqa: E402
from tests.servers import start_oxigraph, start_virtuoso  # noqa: E402

TIMEOUT_S = 3600.0  # a load's commit moves every staged triple in one update: minutes at 100k trades
QUERIES = ("analyst/money-trail", "analyst/commissions-and-credits-by-broker-series-quarter")
ROUNDS = 3


@contextmanager
def stores(kind: str, work: Path) -> Iterator[Store]:
    if kind == "memory":
        yield EmbeddedStore()
    elif kind == "disk":
        store = EmbeddedStore(work / "disk")
        yield store
        store.close()
    elif kind.startswith("oxigraph-server"):
        server = start_oxigraph(work / "oxigraph")
        bulk = BulkSettings("oxigraph") if kind.endswith("-bulk") else None
        try:
            yield RemoteStore(server.query_url, remote=RemoteSettings(bulk=bulk, timeout_s=TIMEOUT_S))
        finally:
            server.stop()
    else:
        virtuoso = start_virtuoso(work / "virtuoso")
        try:
            yield RemoteStore(remote=replace(virtuoso.remote, timeout_s=TIMEOUT_S,
                                             bulk=virtuoso.bulk if kind.endswith("-bulk") else None))
        finally:
            virtuoso.stop()


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--stores", default="memory,disk,oxigraph-server,oxigraph-server-bulk,virtuoso,virtuoso-bulk")
    args = parser.parse_args()
    bundle = Path(os.environ.get("BENCH_BUNDLE") or generate(args.trades))
    print(f"bundle {bundle}, load average {os.getloadavg()[0]:.2f}", flush=True)
    print("| store | load s | validate s | " + " | ".join(f"{q.split('/')[1]} s (median of {ROUNDS})"
                                                       for q in QUERIES) + " |")
    print("|---|---|---|" + "---|" * len(QUERIES), flush=True)
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp, stores(kind, Path(tmp)) as store:
            try:
                load = timed(lambda: load_all(store, [bundle]))
            except Exception as exc:  # one store's refusal is a row of the table, not the end of the run
                traceback.print_exc()
                print(f"| {kind} | failed: {type(exc).__name__}: {str(exc)[:200]} | | " + "| " * len(QUERIES),
                      flush=True)
                store.close()
                continue
            check = timed(lambda: run_validation(store, date(2005, 7, 31)))
            cells = []
            for name in QUERIES:
                query = named_queries()[name]
                runs = [timed(lambda: list(store.query(query.text, bind(query, {})))) for _ in range(ROUNDS)]
                cells.append(f"{statistics.median(runs):.2f}")
            print(f"| {kind} | {load:.1f} | {check:.1f} | " + " | ".join(cells) + " |", flush=True)
            store.close()
    print(f"load average after {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
