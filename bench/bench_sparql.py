"""SPARQL endpoint benchmark (issue 5): the curated queries through ``/sparql`` beside a bare Oxigraph server.

For each size (trades) it generates a bundle with the project's generator,
starts ``bepgraph serve`` on it (a real uvicorn process on 127.0.0.1, store in
memory), dumps the very same dataset to N-Quads and posts it to an in-memory
``oxigraph serve --union-default-graph`` process, then sends every query of
``queries/analyst/`` (parameters bound the same way for both) to each server
over HTTP, asking for SPARQL JSON. One warm-up each, then ``--runs``
rounds that alternate the two servers (ours, bare, ours, bare …), so load
from others on a shared machine falls on both alike, and more rounds for a
fast query until each side spent ``--min-time-s`` on it; the median of each.
Every query is capped at ``--cap-s`` seconds on both servers (our timeout,
Oxigraph's ``--timeout-s`` and the client's); a query that passes it is
reported as not finished. Prints a Markdown table and writes
``bench/out/sparql.json``.

    python bench/bench_sparql.py --sizes 10000 100000 1000000 [--runs 5] [--cap-s 120]

Target (issue 5): every query within 1.5x of the bare Oxigraph server.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bundles import generate  # bench/ is on sys.path when a benchmark runs as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OXIGRAPH = Path(sys.executable).with_name("oxigraph")
BEPGRAPH = Path(sys.executable).with_name("bepgraph")
START_DEADLINE_S = 3600.0
PARAMS = {"trustees-as-of": {"asOf": "2004-06-30"}}  # the one query whose parameter is required


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])




def wait_until(url: str, process: subprocess.Popen[bytes], params: dict[str, str] | None = None) -> None:
    until = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < until:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, params=params, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # poll interval, bounded by the deadline
    raise RuntimeError(f"{url} did not answer within {START_DEADLINE_S}s")


def bound_queries() -> dict[str, str]:
    """Each analyst query with its benchmark parameters bound as the endpoint's users would send it."""
    from bepgraph.sparql import named_queries, to_term
    from bepgraph.store import bind_values

    texts: dict[str, str] = {}
    for name, query in named_queries().items():
        if not name.startswith("analyst/"):
            continue
        short = name.split("/", 1)[1]
        values = PARAMS.get(short, {})
        bindings = {p.name: to_term(p, values[p.name]) for p in query.parameters if p.name in values}
        texts[short] = bind_values(query.text, bindings)
    return texts


def once(client: httpx.Client, url: str, query: str, cap_s: float) -> tuple[float, int] | None:
    """Seconds for one request and its number of rows, or None if it passed the cap (either side's timeout)."""
    start = time.perf_counter()
    try:
        answer = client.post(url, data={"query": query}, headers={"accept": "application/sparql-results+json"},
                             timeout=cap_s + 5)
    except httpx.TimeoutException:
        return None
    elapsed = time.perf_counter() - start
    if answer.status_code in (500, 503) and elapsed >= cap_s * 0.9:
        return None  # the server's own timeout
    answer.raise_for_status()
    return elapsed, len(answer.json()["results"]["bindings"])


def timed_pair(client: httpx.Client, urls: tuple[str, str], query: str, runs: int, cap_s: float,
               min_time_s: float = 0.0) -> list[tuple[float, int] | None]:
    """(median seconds, rows) for each URL, alternating them run by run after one warm-up each; None if capped.

    At least *runs* rounds, and more until each side has spent *min_time_s*
    (up to 200 rounds): a query of a few milliseconds gets a hundred samples,
    so one scheduling hiccup on a shared machine cannot move its median.
    """
    warm = [once(client, url, query, cap_s) for url in urls]
    times: list[list[float]] = [[], []]
    rounds = 0
    while rounds < runs or (rounds < 200 and all(w is not None for w in warm)
                            and min(sum(t) for t in times) < min_time_s):
        rounds += 1
        for i, url in enumerate(urls):
            if warm[i] is None:
                continue
            got = once(client, url, query, cap_s)
            if got is None:
                warm[i] = None
                continue
            times[i].append(got[0])
    return [None if w is None or not t else (statistics.median(t), w[1]) for w, t in zip(warm, times)]


def bench_size(trades: int, runs: int, data: Path, cap_s: float, only: list[str],
               min_time_s: float = 0.0) -> list[dict[str, object]]:
    from bepgraph.loading import load_all
    from bepgraph.store import EmbeddedStore
    import pyoxigraph as ox

    bundle = generate(trades, data)
    with tempfile.TemporaryDirectory(prefix="bench-sparql-") as tmp:
        work = Path(tmp)
        store = EmbeddedStore()  # in memory: at 1M trades an on-disk store took minutes just to be dumped
        load_all(store, [bundle])
        dump = work / "all.nq"
        dump.write_bytes(store.dump(ox.RdfFormat.N_QUADS))
        store.close()
        del store
        ox_port, app_port = free_port(), free_port()
        env = {**os.environ, "BEPGRAPH_QUERY_TIMEOUT": str(cap_s), "BEPGRAPH_RESULT_LIMIT": "100000000"}
        # both in memory, like for like: `oxigraph serve` without --location, loaded over its Graph Store
        bare = subprocess.Popen([str(OXIGRAPH), "serve", "--bind", f"127.0.0.1:{ox_port}", "--union-default-graph",
                                 "--timeout-s", str(int(cap_s))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        app = subprocess.Popen([str(BEPGRAPH), "serve", str(bundle), "--port", str(app_port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(f"http://127.0.0.1:{ox_port}/query", bare, {"query": "ASK {}"})
            with dump.open("rb") as body:
                httpx.post(f"http://127.0.0.1:{ox_port}/store", content=body, timeout=3600,
                           headers={"content-type": "application/n-quads"}).raise_for_status()
            wait_until(f"http://127.0.0.1:{app_port}/healthz", app)
            results = []
            with httpx.Client(timeout=3600) as client:
                urls = (f"http://127.0.0.1:{app_port}/sparql", f"http://127.0.0.1:{ox_port}/query")
                for name, query in sorted(bound_queries().items()):
                    if only and name not in only:
                        continue
                    ours, theirs = timed_pair(client, urls, query, runs, cap_s, min_time_s)
                    row: dict[str, object] = {
                        "trades": trades, "query": name,
                        "rows": ours[1] if ours else None, "rows_oxigraph": theirs[1] if theirs else None,
                        "endpoint_s": round(ours[0], 4) if ours else None,
                        "oxigraph_s": round(theirs[0], 4) if theirs else None,
                        "ratio": round(ours[0] / theirs[0], 2) if ours and theirs else None,
                        "gap_ms": round((ours[0] - theirs[0]) * 1000, 2) if ours and theirs else None,
                    }
                    results.append(row)
                    print(f"  {trades:>8} {name:50} {row['endpoint_s']}s {row['oxigraph_s']}s x{row['ratio']} "
                          f"rows {row['rows']}", file=sys.stderr, flush=True)
            return results
        finally:
            for process in (app, bare):
                process.terminate()
                process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cap-s", type=float, default=120.0, help="per-query time cap on both servers")
    parser.add_argument("--min-time-s", type=float, default=1.0,
                        help="more rounds (up to 200) until each server spent this long on a query")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--queries", nargs="*", default=[], help="only these analyst queries (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "sparql.json")
    args = parser.parse_args()
    results: list[dict[str, object]] = []
    for size in args.sizes:
        results += bench_size(size, args.runs, args.data, args.cap_s, args.queries, args.min_time_s)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print("| trades | query | rows | /sparql s | oxigraph s | ratio | gap ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        cells = [r["endpoint_s"], r["oxigraph_s"], r["ratio"], r["gap_ms"]]
        shown = ["not finished" if c is None else c for c in cells]
        print(f"| {r['trades']} | {r['query']} | {r['rows']} | {shown[0]} | {shown[1]} | {shown[2]} | {shown[3]} |")
    ratios = [float(r["ratio"]) for r in results if r["ratio"] is not None]  # type: ignore[arg-type]
    unfinished = [f"{r['trades']} {r['query']}" for r in results if r["ratio"] is None]
    print(f"\nworst ratio {max(ratios, default=0):.2f} (target 1.5); not finished within the cap: "
          f"{', '.join(unfinished) or 'none'}")


if __name__ == "__main__":
    main()
