"""Board-view benchmark (issues 6 and 14): each view, /viz/data over HTTP and the board pack, code beside code.

For each size (trades) it generates a bundle with the project's generator
(or reuses bench/data/bundle-N) and, for each ``--code NAME=SRC`` (a
checkout's src/, e.g. main's and a branch's, side by side in one run), loads
it with the filing into the in-memory Oxigraph store in a fresh process and
times: the money view's CONSTRUCT → networkx (median of --runs), the first
/viz/data of the money view (it runs the findings), then /viz/data of each
view (median of --runs, findings cached), the whole board pack after those
requests (the as-of date validated), and again with an empty answer cache
(as ``bepgraph board-pack`` makes it). The peak memory is the child's
RSS, and the peak of the sum of the PSS of it and its private copies. Prints
a Markdown table and writes bench/out/viz.json.

    python bench/bench_viz.py --sizes 10000 100000 --code main=../main/src --code branch=src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench_partitioned import TreeMemory  # bench/ is on sys.path when a benchmark runs as a script
from bundles import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2004, 12, 31)




def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def child(bundle: str, runs: int) -> None:
    """Runs in a subprocess (its own peak memory, its own code on PYTHONPATH); prints one JSON line.

    Only calls both the branch's and main's code offer: load_all, build_view,
    build_pack(store, as_of, out) and /viz/data over real HTTP.
    """
    import threading

    import httpx
    import uvicorn

    from bepgraph.http.app import create_app
    from bepgraph.loading import load_all
    from bepgraph.settings import Settings
    from bepgraph.store import EmbeddedStore
    from bepgraph.viz.pack import build_pack
    from bepgraph.viz.views import VIEWS, Period, build_view

    period = Period.ending(AS_OF)
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore()  # the service's default store: in memory
        out["load_s"], _ = timed(lambda: load_all(store, [Path(bundle)]), 1)
        for name in VIEWS:
            seconds, graph = timed(lambda: build_view(store, name, AS_OF, period), runs)
            out[f"view_{name}_s"] = seconds
        port = _free_port()
        app = create_app(Settings(port=port, load_on_start=False), store=store)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        until = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > until:
                raise SystemExit("uvicorn did not start")
            time.sleep(0.05)  # poll interval; the deadline bounds the wait

        def get(view: str) -> object:
            r = httpx.get(f"{base}/viz/data", params={"view": view, "asOf": AS_OF.isoformat()}, timeout=600)
            r.raise_for_status()
            return r

        out["data_money_cold_s"], _ = timed(lambda: get("money"), 1)  # the first request runs the findings
        for name in VIEWS:
            out[f"data_{name}_s"], _ = timed(lambda: get(name), runs)
        server.should_exit = True
        thread.join(timeout=30)
        out["pack_s"], summary = timed(lambda: build_pack(store, AS_OF, Path(tmp) / "pack.pdf"), 1)
        out["pack_pages"] = summary.pages  # type: ignore[attr-defined]
        # the pack as the command makes it: nothing validated before (a new cache, the same store)
        import bepgraph.validation.cache as cache

        cache._ANSWERS = cache.AnswerCache()
        out["pack_cold_s"], _ = timed(lambda: build_pack(store, AS_OF, Path(tmp) / "pack2.pdf"), 1)
        store.close()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--code", action="append", default=[], metavar="NAME=SRC",
                        help="measure the bepgraph sources in SRC under NAME (repeat: side by side in one run); "
                             "default: this checkout's src/")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return
    codes = [tuple(c.split("=", 1)) for c in args.code] or [("this", str(ROOT / "src"))]
    args.data.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, object]] = {}
    for size in args.sizes:
        bundle = generate(size, args.data)
        for name, src in codes:
            env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
            proc = subprocess.Popen([sys.executable, __file__, "--child", str(bundle), "--runs", str(args.runs)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
            memory = TreeMemory(proc.pid)  # the process and its private copies, together
            stdout, stderr = proc.communicate()
            memory.stop()
            if proc.returncode:
                raise SystemExit(f"the benchmark of {name} at {size} trades failed:\n{stderr}")
            results[f"{size} {name}"] = {**json.loads(stdout.strip().splitlines()[-1]),
                                         "peak_tree_pss_mb": memory.peak_pss / 1024}
    keys = ["load_s", "view_money_s", "data_money_cold_s", "data_structure_s", "data_control_s", "data_money_s",
            "data_governance_s", "pack_s", "pack_cold_s", "pack_pages", "peak_rss_mb", "peak_tree_pss_mb"]
    print("| trades | code | " + " | ".join(k.removesuffix("_s") + (" (s)" if k.endswith("_s") else "") for k in keys) + " |")
    print("|---" * (len(keys) + 2) + "|")
    for label, r in results.items():
        size, name = label.split(" ", 1)
        cells = [f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys]
        print(f"| {int(size):,} | {name} | " + " | ".join(cells) + " |")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "viz.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
