"""GraphQL benchmark (issue 4): the series dashboard through GraphQL beside the same question in SPARQL.

For each size (trades) it generates a bundle with the project's generator,
starts ``bepgraph serve`` on it (a real uvicorn, one worker, 127.0.0.1)
and asks the series-dashboard query (a series, its plan status, its last 20
trades, its findings: bench/graphql/dashboard.graphql) sequentially over
HTTP; then it loads the same bundle into an Oxigraph store in this process,
runs the same validation, and asks the same question in SPARQL straight of
the store (bench/graphql/dashboard-*.rq). Reports p50/p99 latency and
requests per second for both, prints a Markdown table and writes
bench/out/graphql.json. The first GraphQL request of a date runs the
validation (cached afterwards) and is not timed.

    python bench/bench_graphql.py --sizes 10000 100000 1000000 [--requests 300]

Target (issue 4): p50 at most 20 ms at 1M trades.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERIES = "ppm-america-jnl-value-fund"
AS_OF = "2005-06-30"
START_DEADLINE_S = 3600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate(trades: int, root: Path) -> Path:
    out = root / f"bundle-{trades}"
    if not (out / "transactions.csv").is_file():
        subprocess.run([sys.executable, "-m", "bepgraph.examples.generate", "--out", str(out),
                        "--trades", str(trades)], check=True, cwd=ROOT)
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(pick(0.99) * 1000, 2)}


def timed(call, requests: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for _ in range(min(10, requests)):  # warm caches (parser, validation, store pages)
        call()
    samples = []
    start = time.perf_counter()
    for _ in range(requests):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    return {**percentiles(samples), "rps": round(requests / total, 1)}


def bench_graphql(bundle: Path, requests: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bepgraph.cli", "serve", "--port", str(port), str(bundle)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        began = time.monotonic()
        with httpx.Client(timeout=3600) as client:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(server.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
                try:
                    if client.get(url + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - began > START_DEADLINE_S:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)  # poll interval; the deadline bounds the wait
            load_s = time.monotonic() - began
            body = {"query": (HERE / "graphql" / "dashboard.graphql").read_text(),
                    "variables": {"id": SERIES, "asOf": AS_OF}}
            t = time.monotonic()
            first = client.post(url + "/graphql", json=body).json()
            if "errors" in first:
                raise RuntimeError(first["errors"])
            validation_s = time.monotonic() - t

            def call() -> None:
                response = client.post(url + "/graphql", json=body)
                assert response.status_code == 200 and b'"errors"' not in response.content

            return {**timed(call, requests), "load_s": round(load_s, 1), "first_request_s": round(validation_s, 1)}
    finally:
        server.terminate()
        server.wait(timeout=60)


def bench_sparql(bundle: Path, requests: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    import pyoxigraph as ox

    from bepgraph.loading import load_all
    from bepgraph.namespaces import entity_iri
    from bepgraph.store import EmbeddedStore
    from bepgraph.validation.run import validate_graph

    store = EmbeddedStore()
    load_all(store, [bundle])
    validate_graph(store, date.fromisoformat(AS_OF))
    trades = (HERE / "graphql" / "dashboard-trades.rq").read_text()
    status = (HERE / "graphql" / "dashboard-status.rq").read_text()
    series = {"series": ox.NamedNode(entity_iri("series", SERIES))}

    def call() -> None:
        rows = list(store.query(trades, series))  # type: ignore[arg-type]
        assert len({row["trade"] for row in rows}) == 20, len(rows)
        list(store.query(status, series))  # type: ignore[arg-type]

    return timed(call, requests)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    args = ap.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        bundle = generate(size, args.data)
        gql = bench_graphql(bundle, args.requests)
        sparql = bench_sparql(bundle, args.requests)
        results.append({"trades": size, "graphql": gql, "sparql": sparql})
        print(json.dumps(results[-1]), file=sys.stderr)
    print("| trades | GraphQL p50 | p99 | req/s | SPARQL (store) p50 | p99 | req/s | load | first request |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        g, s = r["graphql"], r["sparql"]
        print(f"| {r['trades']:,} | {g['p50_ms']} ms | {g['p99_ms']} ms | {g['rps']} | {s['p50_ms']} ms | "
              f"{s['p99_ms']} ms | {s['rps']} | {g['load_s']} s | {g['first_request_s']} s |")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "graphql.json").write_text(json.dumps({"as_of": AS_OF, "series": SERIES, "cpus": os.cpu_count(),
                                                  "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
