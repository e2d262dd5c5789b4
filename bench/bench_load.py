"""Load benchmark (issue 2): rdflib's memory store beside Oxigraph, one run.

For each size (trades) it generates a bundle with the project's generator,
then, each in a fresh subprocess so that peak memory is its own, loads the
filing and the bundle into (a) rdflib's memory store, (b) Oxigraph in
memory, (c) Oxigraph on disk, and runs the three analyst queries of
bench/queries/ on each. Prints a Markdown table and writes bench/out/load.json.

    python bench/bench_load.py --sizes 10000 100000 1000000 [--rdflib-max 100000]

The kind ``reexport`` loads the bundle into Oxigraph in memory, then a copy of
it under a second folder name (a full re-export, issue 10), and reports both
load times and the peak RSS after each. ``--src`` points the children at
another checkout's ``src`` (the code before a change, in one run with after).
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
from pathlib import Path

from bundles import generate  # bench/ is on sys.path when a benchmark runs as a script

HERE = Path(__file__).resolve().parent
QUERIES = sorted((HERE / "queries").glob("*.rq"))


def reexport(bundle: str, again: bool = True) -> dict[str, object]:
    """A first load, then (*again*) the same bundle under a second folder name: times and peak RSS of each."""
    import shutil

    from bepgraph.loading import load_all
    from bepgraph.store import EmbeddedStore

    second = Path(tempfile.mkdtemp(prefix="bench-reexport-")) / "export-q2"
    shutil.copytree(bundle, second)
    store = EmbeddedStore()
    started = time.perf_counter()
    load_all(store, [Path(bundle)], with_ontology=False)
    first_s = time.perf_counter() - started
    first_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not again:
        shutil.rmtree(second.parent)
        return {"kind": "first-load", "load_s": first_s, "first_peak_mb": first_mb, "reexport_s": 0.0,
                "triples": store.count(), "peak_rss_mb": first_mb}
    started = time.perf_counter()
    load_all(store, [second], with_ontology=False)
    again_s = time.perf_counter() - started
    shutil.rmtree(second.parent)
    return {"kind": "reexport", "load_s": first_s, "first_peak_mb": first_mb, "reexport_s": again_s,
            "triples": store.count(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(kind: str, bundle: str, repeat: int, src: str) -> None:
    """Runs in the subprocess: load, time the queries, print one JSON line."""
    sys.path.insert(0, src)
    if kind in ("reexport", "first-load"):
        print(json.dumps(reexport(bundle, again=kind == "reexport")))
        return
    from bepgraph.loading import load_all
    from bepgraph.resources import filing_path
    from bepgraph.sources.bundle import read_bundle
    from bepgraph.sources.filing import filing_triples, read_filing

    result: dict[str, object] = {"kind": kind}
    started = time.perf_counter()
    if kind == "rdflib":
        import rdflib

        filing = read_filing(filing_path())
        ds = rdflib.Dataset(default_union=True)
        ds.graph(rdflib.URIRef("urn:filing")).parse(data="".join(filing_triples(filing)), format="nt")
        source = read_bundle(Path(bundle), filing.ids)
        ds.graph(rdflib.URIRef("urn:bundle")).parse(source.ntriples, format="nt")
        source.close()
        result["load_s"] = time.perf_counter() - started
        result["triples"] = len(ds)

        def run(text: str) -> int:
            return len(list(ds.query(text)))
    else:
        from bepgraph.store import EmbeddedStore

        store = EmbeddedStore(Path(tempfile.mkdtemp(prefix="bench-ox-")) if kind == "oxigraph-disk" else None)
        load_all(store, [Path(bundle)], with_ontology=False)
        result["load_s"] = time.perf_counter() - started
        result["triples"] = store.count()

        def run(text: str) -> int:
            return len(list(store.query(text)))

    for q in QUERIES:
        times = []
        rows = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = run(q.read_text())
            times.append(time.perf_counter() - t0)
        result[f"q:{q.stem}"] = statistics.median(times)
        result[f"rows:{q.stem}"] = rows
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["rdflib", "oxigraph-memory", "oxigraph-disk"])
    parser.add_argument("--rdflib-max", type=int, default=100_000,
                        help="largest size given to rdflib (baselines: 327 s and 10.5 GB at 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="query runs; the median is reported")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--src", default=str(HERE.parent / "src"), help="the bepgraph sources the children load")
    args = parser.parse_args()

    args.data.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        bundle = generate(size, args.data)
        for kind in args.kinds:
            if kind == "rdflib" and size > args.rdflib_max:
                rows.append({"trades": size, "kind": kind, "skipped": f"over --rdflib-max {args.rdflib_max}"})
                continue
            out = subprocess.run([sys.executable, __file__, "--child", kind, str(bundle), str(args.repeat),
                                  args.src],
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["trades"] = size
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "load.json").write_text(json.dumps(rows, indent=2))
    names = [q.stem for q in QUERIES]
    print("| trades | store | triples | load s | peak MB | " + " | ".join(f"{n} s" for n in names) + " |")
    print("|---|---|---|---|---|" + "---|" * len(names))
    for r in rows:
        if "skipped" in r:
            print(f"| {r['trades']:,} | {r['kind']} | – | {r['skipped']} | | " + " | ".join("" for _ in names) + " |")
            continue
        if r["kind"] in ("reexport", "first-load"):
            print(f"| {r['trades']:,} | reexport | {r['triples']:,} | {r['load_s']:.1f} then {r['reexport_s']:.1f} | "
                  f"{r['first_peak_mb']:.0f} then {r['peak_rss_mb']:.0f} | " + " | ".join("" for _ in names) + " |")
            continue
        qs = " | ".join(f"{r[f'q:{n}']:.2f}" for n in names)
        print(f"| {r['trades']:,} | {r['kind']} | {r['triples']:,} | {r['load_s']:.1f} | {r['peak_rss_mb']:.0f} | {qs} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
