"""Mixed-load benchmark (issue 11): GraphQL dashboards, curated SPARQL queries and /viz/data at once.

For each code tree given (``--tree LABEL=PATH``, default this checkout and
/work/main), in one run: a fresh ``bepgraph serve`` (that tree's ``src`` on
PYTHONPATH, 127.0.0.1, the example bundle or ``--trades N`` generated) gets
the same list of requests from ``--clients`` clients at once; another fresh
server gets them one at a time. Before either, each server is asked once per
as-of date (the dashboard, timed apart as the *first request* of a date: it
validates the date), so the load measures a server in use, not its start. A request is one of: the series dashboard of
bench/graphql/dashboard.graphql for one of four as-of dates, a curated query
of that tree's queries/analyst/ (trustees-as-of bound to the date), or
``/viz/data`` of one of the four views for the date. Reported: requests per
second, p50/p99/max latency, errors; then, on the warm concurrent server,
the median ``/viz/data`` time for a date already validated.

    python bench/bench_mixed.py [--trades 2000] [--clients 16] [--requests 240]
    python bench/bench_mixed.py --trades 1000000 --viz-only    # /viz/data per view, first and repeated
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
DATES = ["2003-06-30", "2003-12-31", "2004-06-30", "2004-12-31"]
VIEWS = ["structure", "control", "money", "governance"]
SERIES = "ppm-america-jnl-value-fund"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, tree: Path, bundle: Path | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        args = [sys.executable, "-m", "bepgraph.cli", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(args + ([str(bundle)] if bundle else []), env=env, cwd=tree,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        until = time.monotonic() + 600
        while time.monotonic() < until:
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server of {tree} ended ({self.proc.returncode})")
            time.sleep(0.2)  # polling a starting server; the deadline bounds it
        raise RuntimeError(f"the server of {tree} did not answer")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def requests_for(tree: Path, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The same mix for every tree: (kind, path, payload); curated queries from the tree's own files."""
    dashboard = (ROOT / "bench" / "graphql" / "dashboard.graphql").read_text(encoding="utf-8")
    curated = []
    for path in sorted((tree / "queries" / "analyst").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        curated.append((path.stem, text))
    out: list[tuple[str, str, dict[str, Any]]] = []
    i = 0
    while len(out) < count:
        day = DATES[i % len(DATES)]
        kind = i % 3
        if kind == 0:
            out.append(("graphql", "/graphql", {"query": dashboard, "variables": {"id": SERIES, "asOf": day}}))
        elif kind == 1:
            name, text = curated[(i // 3) % len(curated)]
            if "?asOf  xsd:date  the date" in text:  # the one query whose date is required
                text = text.replace("WHERE {", f'WHERE {{ VALUES ?asOf {{ "{day}"^^<{XSD_DATE}> }}', 1)
            out.append(("sparql:" + name, "/sparql", {"query": text}))
        else:
            view = VIEWS[(i // 3) % len(VIEWS)]
            out.append(("viz:" + view, "/viz/data", {"view": view, "asOf": day}))
        i += 1
    return out


def send(client: httpx.Client, url: str, request: tuple[str, str, dict[str, Any]]) -> tuple[float, bool]:
    kind, path, payload = request
    started = time.perf_counter()
    try:
        if kind == "graphql":
            r = client.post(url + path, json=payload)
            ok = r.status_code == 200 and "errors" not in r.json()
        elif kind.startswith("sparql"):
            r = client.post(url + path, data=payload, headers={"accept": "application/sparql-results+json"})
            ok = r.status_code == 200
        else:
            r = client.get(url + path, params=payload)
            ok = r.status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - started, ok


def drive(url: str, requests: list[tuple[str, str, dict[str, Any]]], clients: int) -> dict[str, Any]:
    todo: Queue[tuple[str, str, dict[str, Any]]] = Queue()
    for r in requests:
        todo.put(r)
    times: list[float] = []
    kinds: dict[str, list[float]] = {}
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=600) as c:
            while True:
                try:
                    r = todo.get_nowait()
                except Empty:
                    return
                took, ok = send(c, url, r)
                with lock:
                    times.append(took)
                    kinds.setdefault(r[0].split(":")[0], []).append(took)
                    errors[0] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(times)
    return {"clients": clients, "requests": len(times), "errors": errors[0], "wall_s": wall,
            "rps": len(times) / wall, "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "max_ms": 1000 * ordered[-1],
            "by_kind_ms": {k: {"p50": 1000 * sorted(v)[len(v) // 2], "max": 1000 * max(v)} for k, v in kinds.items()}}


def first_requests(url: str) -> list[float]:
    """The dashboard once per as-of date, one at a time: ms each (the date's validation included)."""
    dashboard = (ROOT / "bench" / "graphql" / "dashboard.graphql").read_text(encoding="utf-8")
    took = []
    with httpx.Client(timeout=600) as c:
        for day in DATES:
            started = time.perf_counter()
            r = c.post(url + "/graphql", json={"query": dashboard, "variables": {"id": SERIES, "asOf": day}})
            assert r.status_code == 200 and "errors" not in r.json(), r.text
            took.append(1000 * (time.perf_counter() - started))
    return took


def warm_viz(url: str, rounds: int = 20) -> float:
    """Median ms of /viz/data (money view, findings and analysis) for a date already validated."""
    with httpx.Client(timeout=600) as c:
        params = {"view": "money", "asOf": DATES[2]}
        assert c.get(url + "/viz/data", params=params).status_code == 200
        took = []
        for _ in range(rounds):
            started = time.perf_counter()
            assert c.get(url + "/viz/data", params=params).status_code == 200
            took.append(time.perf_counter() - started)
    return 1000 * statistics.median(took)


def viz_by_view(url: str, day: str, rounds: int = 20) -> dict[str, Any]:
    """/viz/data of each view for *day*, in ms: the first request of the date (it validates), the first
    request of each view once the date is validated (it builds the view), then the median of *rounds*
    repeats (what the issue's target speaks of: a date already validated)."""
    out: dict[str, Any] = {}
    with httpx.Client(timeout=1800) as c:
        def get(view: str) -> float:
            started = time.perf_counter()
            r = c.get(url + "/viz/data", params={"view": view, "asOf": day})
            assert r.status_code == 200, r.text[:500]
            return 1000 * (time.perf_counter() - started)

        out["first_of_date_ms"] = get(VIEWS[0])
        for view in VIEWS:
            first = get(view)
            out[view] = {"first_ms": first, "repeat_median_ms": statistics.median(get(view) for _ in range(rounds))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--trades", type=int, help="a generated bundle of N trades (default: the example bundle)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "mixed.json")
    parser.add_argument("--viz-only", action="store_true",
                        help="only /viz/data of each view for one date, on one server per tree (the 1M-trade target)")
    args = parser.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": str(ROOT), "main": "/work/main"}
    bundle = None
    if args.trades:
        from bundles import generate

        bundle = generate(args.trades)
    results: dict[str, Any] = {}
    if args.viz_only:
        for label, path in trees.items():
            started = time.perf_counter()
            server = Server(Path(path), bundle)
            try:
                results[label] = {"start_s": time.perf_counter() - started, **viz_by_view(server.url, DATES[-1])}
            finally:
                server.stop()
            print(label, json.dumps(results[label]), flush=True)
        args.out.parent.mkdir(exist_ok=True)
        args.out.write_text(json.dumps({"trades": args.trades or "example", "viz_only": results}, indent=2))
        return
    for label, path in trees.items():
        tree = Path(path)
        requests = requests_for(tree, args.requests)
        server = Server(tree, bundle)
        try:
            first = first_requests(server.url)
            together = drive(server.url, requests, args.clients)
            viz_ms = warm_viz(server.url)
        finally:
            server.stop()
        server = Server(tree, bundle)
        try:
            first_requests(server.url)
            alone = drive(server.url, requests, 1)
        finally:
            server.stop()
        results[label] = {"first_request_ms": first, "concurrent": together, "sequential": alone,
                          "viz_data_validated_ms": viz_ms}
        print(f"{label:6} first request of each date: {', '.join(f'{t:.0f}' for t in first)} ms", flush=True)
        print(f"{label:6} {args.clients} clients: {together['rps']:.1f} req/s, p50 {together['p50_ms']:.0f} ms, "
              f"p99 {together['p99_ms']:.0f} ms, max {together['max_ms']:.0f} ms, {together['errors']} errors | "
              f"one at a time: {alone['rps']:.1f} req/s, p99 {alone['p99_ms']:.0f} ms, {alone['errors']} errors | "
              f"/viz/data validated date: {viz_ms:.1f} ms", flush=True)
        print("        by kind (concurrent):", {k: {n: round(x) for n, x in v.items()}
                                                 for k, v in together["by_kind_ms"].items()}, flush=True)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"trades": args.trades or "example", "results": results}, indent=2))


if __name__ == "__main__":
    main()
