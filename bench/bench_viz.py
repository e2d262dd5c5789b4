"""Board-view benchmark (issue 6): time to build each view, the page JSON and the board pack.

For each size (trades) it generates a bundle with the project's generator
(or reuses bench/data/bundle-N), loads it with the filing into an on-disk
Oxigraph store, then times: each view's CONSTRUCT → networkx (median of
--runs), the findings run the views are marked with, the /viz/data JSON of
the money view with analysis, and the whole board pack (findings, four
views, figures, calendar, PDF). Prints a Markdown table and writes
bench/out/viz.json.

    python bench/bench_viz.py --sizes 10000 100000 1000000 [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bundles import generate  # bench/ is on sys.path when a benchmark runs as a script

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
    """Runs in a subprocess so peak memory is this size's own; prints one JSON line."""
    from bepgraph.loading import load_all
    from bepgraph.store import EmbeddedStore
    from bepgraph.viz.marks import findings_as_of
    from bepgraph.viz.pack import build_pack
    from bepgraph.viz.service import page_data
    from bepgraph.viz.views import VIEWS, Period, build_view

    period = Period.ending(AS_OF)
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore()  # the service's default store: in memory
        out["load_s"], _ = timed(lambda: load_all(store, [Path(bundle)]), 1)
        for name in VIEWS:
            seconds, graph = timed(lambda: build_view(store, name, AS_OF, period), runs)
            out[f"view_{name}_s"] = seconds
            out[f"view_{name}_size"] = [graph.number_of_nodes(), graph.number_of_edges()]  # type: ignore[attr-defined]
        out["findings_s"], report = timed(lambda: findings_as_of(store, AS_OF), 1)
        out["findings"] = len(report.findings)  # type: ignore[attr-defined]
        out["page_money_s"], _ = timed(lambda: page_data(store, "money", AS_OF, period, report), runs)  # type: ignore[arg-type]
        out["pack_s"], summary = timed(lambda: build_pack(store, AS_OF, Path(tmp) / "pack.pdf"), 1)
        out["pack_pages"] = summary.pages  # type: ignore[attr-defined]
        store.close()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return
    args.data.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, object]] = {}
    for size in args.sizes:
        bundle = generate(size, args.data)
        proc = subprocess.run([sys.executable, __file__, "--child", str(bundle), "--runs", str(args.runs)],
                              check=True, capture_output=True, text=True, cwd=ROOT)
        results[size] = json.loads(proc.stdout.strip().splitlines()[-1])
    keys = ["load_s", "view_structure_s", "view_control_s", "view_money_s", "view_governance_s", "findings_s",
            "page_money_s", "pack_s", "pack_pages", "peak_rss_mb"]
    print("| trades | " + " | ".join(k.removesuffix("_s") + (" (s)" if k.endswith("_s") else "") for k in keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for size, r in results.items():
        cells = [f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys]
        print(f"| {size:,} | " + " | ".join(cells) + " |")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "viz.json").write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
