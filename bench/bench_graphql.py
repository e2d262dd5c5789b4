"""GraphQL benchmark (issue 4): the series dashboard through GraphQL beside the same question in SPARQL.

For each size (trades) it loads the bundle (bench/data/bundle-N, generated
with the project's generator when missing) into an in-memory EmbeddedStore,
serves it with the real app (uvicorn, one worker, 127.0.0.1, in a thread of
this process) and asks the series-dashboard query (a series, its plan
status, its last 20 trades with their brokers, its findings:
bench/graphql/dashboard.graphql) N times in a row with httpx. The first
request of the as-of date runs the rules engine and is timed apart
("first request"): findings and plan status are then served from the cached
validation Report, as a dashboard sees them after the first visit.

Beside it, the same question in SPARQL straight to the store: the named
queries the GraphQL request made (recorded during one request, the same
text and bound values), replayed directly against the store N times. The
difference between the two is what GraphQL (parsing, validation, resolving,
JSON, HTTP) costs. Prints a Markdown table and writes bench/out/graphql.json.

    python bench/bench_graphql.py --sizes 10000 100000 1000000 [--requests 300]

Target (issue 4): p50 at most 20 ms at 1M trades.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from bepgraph.store import EmbeddedStore  # noqa: E402

from bundles import generate  # noqa: E402 - bench/ is on sys.path when a benchmark runs as a script

SERIES = "ppm-america-jnl-value-fund"
AS_OF = "2005-06-30"
DEADLINE_S = 60.0


class RecordingStore(EmbeddedStore):
    """The in-memory store, noting the queries made while ``recording`` is set (text and bound values)."""

    def __init__(self) -> None:
        super().__init__()
        self.recording: list[tuple[str, Any, Any]] | None = None

    def query(self, text, bindings=None, *, default_graphs=None, named_graphs=None, rows=None):  # type: ignore[override]
        if self.recording is not None:
            self.recording.append((text, bindings, rows))
        return super().query(text, bindings, default_graphs=default_graphs, named_graphs=named_graphs, rows=rows)




def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def timed(call: Callable[[], None], requests: int, warm: int = 10) -> dict[str, float]:
    for _ in range(min(warm, requests)):  # warm the parser/validation caches and the store's pages
        call()
    samples = []
    start = time.perf_counter()
    for _ in range(requests):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    return {**percentiles(samples), "rps": round(requests / total, 1)}


@contextmanager
def served(store: EmbeddedStore) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 (uvicorn, one worker) until the block ends."""
    import socket

    import uvicorn

    from bepgraph.http.app import create_app
    from bepgraph.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    app = create_app(Settings(port=port, load_on_start=False), store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    until = time.monotonic() + DEADLINE_S
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > until or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)  # poll interval; the deadline bounds the wait
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE_S)


def bench_size(bundle: Path, requests: int) -> dict[str, Any]:
    from bepgraph.loading import load_all

    store = RecordingStore()
    t = time.perf_counter()
    load_all(store, [bundle])
    load_s = time.perf_counter() - t
    body = {"query": (HERE / "graphql" / "dashboard.graphql").read_text(),
            "variables": {"id": SERIES, "asOf": AS_OF}}
    with served(store) as url, httpx.Client(timeout=3600) as client:
        def ask() -> dict[str, Any]:
            response = client.post(url + "/graphql", json=body)
            assert response.status_code == 200, response.text
            answer = response.json()
            assert "errors" not in answer, answer["errors"]
            return answer

        t = time.perf_counter()
        first = ask()  # runs the rules engine for the as-of date, and reads the trade calendar
        first_s = time.perf_counter() - t
        series = first["data"]["series"]
        assert len(series["trades"]["edges"]) == 20, series
        store.recording = []
        assert ask() == first
        recorded, store.recording = store.recording, None

        def call() -> None:
            response = client.post(url + "/graphql", json=body)
            assert response.status_code == 200 and b'"errors"' not in response.content

        graphql = timed(call, requests)

    def replay() -> None:
        for text, bindings, rows in recorded:
            result = store.query(text, bindings, rows=rows)
            for _ in result:  # type: ignore[union-attr]
                pass

    sparql = timed(replay, requests)
    return {"load_s": round(load_s, 1), "first_request_s": round(first_s, 1), "queries": len(recorded),
            "findings": len(series["findings"]["edges"]), "graphql": graphql, "sparql": sparql}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "graphql.json")
    args = ap.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        result = {"trades": size, **bench_size(generate(size, args.data), args.requests)}
        results.append(result)
        print(json.dumps(result), file=sys.stderr, flush=True)
    print("| trades | GraphQL p50 | p99 | req/s | SPARQL to the store p50 | p99 | req/s | queries | load | "
          "first request (rules engine) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        g, s = r["graphql"], r["sparql"]
        print(f"| {r['trades']:,} | {g['p50_ms']} ms | {g['p99_ms']} ms | {g['rps']} | {s['p50_ms']} ms | "
              f"{s['p99_ms']} ms | {s['rps']} | {r['queries']} | {r['load_s']} s | {r['first_request_s']} s |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"as_of": AS_OF, "series": SERIES, "requests": args.requests,
                                    "cpus": os.cpu_count(), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
