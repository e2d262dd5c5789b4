"""Validation benchmark (issue 3, item 6): the 26 rule shapes on the example generator's bundles.

For each size (bench/data/bundle-N, generated when missing) and in a fresh
subprocess each, so that ``ru_maxrss`` is that measurement's own peak:

* ``engine``: load the filing, ontology and bundle into Oxigraph in memory,
  then ``run_validation`` (derive, every compiled constraint, findings,
  the SHACL report written back) ``--runs`` times (once at 1M); the time of
  each constraint is taken inside the measured runs, so the profile is the
  median run's own;
* ``pyshacl``: the same filing + bundle + ontology + derived graph (derived
  by ``derive()`` and dumped as N-Quads by a preparing subprocess), parsed
  into rdflib, flattened to one graph (the engine sees the union) and
  checked by ``pyshacl.validate(inference="none", advanced=True)`` with the
  same shapes files; only up to ``--pyshacl-max`` trades and within a time
  cap (a run that hits it is reported as not finished);
* ``incremental`` (at ``--incremental-at``): the big bundle loaded and fully
  validated, then a change bundle of ``--changes`` new trades (copies of
  the big bundle's last trades under new ids, with the organizations,
  series and agreements they refer to repeated, since a bundle is
  self-contained) loaded beside it and ``validate_changes`` timed; a full
  run on the same store afterwards must give the same findings.

Prints a Markdown table and writes bench/out/validation-rules.json.

    python bench/bench_validation.py --sizes 10000 100000 1000000 --runs 3 --pyshacl-max 100000
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from bundles import generate  # bench/ is on sys.path when a benchmark runs as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out" / "validation-rules.json"
AS_OF = date(2005, 7, 31)




def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _loaded(folder: Path):  # type: ignore[no-untyped-def]
    from bepgraph.loading import load_all
    from bepgraph.store import EmbeddedStore

    store = EmbeddedStore()
    started = time.perf_counter()
    load_all(store, [folder])
    return store, time.perf_counter() - started


def _timed_run(store) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One run_validation with the time of derive() and of each constraint taken inside it."""
    from bepgraph.validation import derive as derivation
    from bepgraph.validation import engine, run

    per_rule: dict[str, float] = defaultdict(float)
    derive_s = [0.0]
    results_of, derive_of = engine._results, derivation.derive

    def timed_results(c, rows):  # type: ignore[no-untyped-def]
        started = time.perf_counter()  # the query runs lazily, while its rows are read
        try:
            return results_of(c, rows)
        finally:
            per_rule[c.shape.rsplit("#", 1)[-1]] += time.perf_counter() - started

    def timed_derive(*args):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return derive_of(*args)
        finally:
            derive_s[0] += time.perf_counter() - started

    engine._results, derivation.derive = timed_results, timed_derive
    try:
        started = time.perf_counter()
        # what run_validation does in its private copy, here on the bench's own store so the
        # timings taken inside are seen (a forked run's would stay in the child)
        derivation.derive(store, AS_OF)
        validation = run._judge(store, AS_OF, None, None, None)
        total = time.perf_counter() - started
    finally:
        engine._results, derivation.derive = results_of, derive_of
    return {"total_s": total, "derive_s": derive_s[0], "constraints_s": sum(per_rule.values()),
            "per_rule_s": dict(per_rule), "findings": len(validation.report.findings),
            "results": len(validation.results)}


def child_engine(trades: int, runs: int) -> dict[str, object]:
    store, load_s = _loaded(generate(trades))
    measured = [_timed_run(store) for _ in range(runs)]
    median = sorted(measured, key=lambda m: m["total_s"])[len(measured) // 2]  # type: ignore[arg-type,return-value]
    return {"kind": "engine", "trades": trades, "load_s": load_s, "runs_s": [m["total_s"] for m in measured],
            "validate_s": statistics.median(m["total_s"] for m in measured),  # type: ignore[misc]
            "median_run": median, "peak_rss_mb": peak_mb()}


def child_prepare(trades: int, nquads: Path) -> dict[str, object]:
    """The engine's whole dataset, derived graph included, as N-Quads for the pySHACL child."""
    import pyoxigraph as ox

    from bepgraph.validation.derive import derive

    store, _ = _loaded(generate(trades))
    derive(store, AS_OF)
    nquads.write_bytes(store.dump(ox.RdfFormat.N_QUADS))
    return {"kind": "prepare", "trades": trades, "bytes": nquads.stat().st_size}


def child_pyshacl(trades: int, nquads: Path) -> dict[str, object]:
    import rdflib

    from bepgraph.resources import shape_files

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the reference is test code
    from tests.pyshacl_reference import pyshacl_reference

    started = time.perf_counter()
    dataset = rdflib.Dataset()
    dataset.parse(nquads, format="nquads")
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    results = pyshacl_reference(dataset, shape_files())  # pyshacl.validate(inference="none", advanced=True)
    return {"kind": "pyshacl", "trades": trades, "parse_s": parse_s, "validate_s": time.perf_counter() - started,
            "results": len(results), "peak_rss_mb": peak_mb()}


def _change_bundle(big: Path, folder: Path, count: int) -> Path:
    """*count* new trades (the big bundle's last ones under new ids) and the rows they refer to, repeated."""
    folder.mkdir(parents=True, exist_ok=True)
    with (big / "transactions.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, last = reader.fieldnames, []
        for row in reader:
            last.append(row)
            if len(last) > count:
                last.pop(0)
    with (folder / "transactions.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)  # type: ignore[arg-type]
        writer.writeheader()
        writer.writerows(dict(row, id="C-" + row["id"]) for row in last)
    for table in ("organizations", "series", "agreements"):
        (folder / f"{table}.csv").write_bytes((big / f"{table}.csv").read_bytes())
    return folder


def child_incremental(trades: int, changes: int) -> dict[str, object]:
    from bepgraph.loading import bundle_graph, load_all
    from bepgraph.validation.run import run_validation, validate_changes

    big = generate(trades)
    store, load_s = _loaded(big)
    started = time.perf_counter()
    previous = run_validation(store, AS_OF)
    full_before_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        change = _change_bundle(big, Path(tmp) / f"change-{changes}", changes)
        started = time.perf_counter()
        load_all(store, [change])
        change_load_s = time.perf_counter() - started
        started = time.perf_counter()
        incremental = validate_changes(store, AS_OF, previous, [bundle_graph(change)])
        incremental_s = time.perf_counter() - started
    started = time.perf_counter()
    full = run_validation(store, AS_OF)
    full_after_s = time.perf_counter() - started
    return {"kind": "incremental", "trades": trades, "changes": changes, "load_s": load_s,
            "full_run_s": full_before_s, "change_load_s": change_load_s, "validate_changes_s": incremental_s,
            "full_run_after_s": full_after_s, "same_findings": incremental.report.as_dict() == full.report.as_dict(),
            "findings": len(full.report.findings), "peak_rss_mb": peak_mb()}


def measure(args: list[str], timeout: float | None) -> dict[str, object]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"finished": False, "cap_s": timeout, "wall_s": time.perf_counter() - started}
    except subprocess.CalledProcessError as exc:
        return {"finished": False, "error": exc.stderr.strip().splitlines()[-1:]}
    return {"finished": True, **json.loads(done.stdout.strip().splitlines()[-1])}


def _table(engine: dict[int, dict], pyshacl: dict[int, dict], incremental: dict | None) -> str:
    lines = ["| trades | load | validate (engine) | peak RSS | derive | pySHACL validate | pySHACL peak | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for n, e in sorted(engine.items()):
        p = pyshacl.get(n)
        if p is None:
            ps, pm, ratio = "not run", "–", "–"
        elif not p.get("finished"):
            ps, pm, ratio = f"not finished in {p.get('cap_s', 0):.0f} s", "–", f"> {p.get('cap_s', 0) / e['validate_s']:.0f}×"
        else:
            ps, pm, ratio = f"{p['validate_s']:.1f} s", f"{p['peak_rss_mb']:.0f} MB", f"{p['validate_s'] / e['validate_s']:.0f}×"
        runs = len(e["runs_s"])
        lines.append(f"| {n:,} | {e['load_s']:.1f} s | {e['validate_s']:.2f} s ({'median of ' + str(runs) if runs > 1 else '1 run'}) "
                     f"| {e['peak_rss_mb']:.0f} MB | {e['median_run']['derive_s']:.2f} s | {ps} | {pm} | {ratio} |")
    out = "\n".join(lines)
    for n, e in sorted(engine.items()):
        top = sorted(e["median_run"]["per_rule_s"].items(), key=lambda kv: -kv[1])[:8]
        rest = e["validate_s"] - e["median_run"]["derive_s"] - e["median_run"]["constraints_s"]
        out += (f"\n\nWhere the time goes at {n:,} trades (median run, {e['validate_s']:.2f} s): derive "
                f"{e['median_run']['derive_s']:.2f} s, constraints {e['median_run']['constraints_s']:.2f} s, "
                f"findings and report {rest:.2f} s. Slowest rules: "
                + ", ".join(f"{r} {s:.2f} s" for r, s in top) + ".")
    if incremental:
        if incremental.get("finished"):
            out += (f"\n\nIncremental: {incremental['changes']:,} new trades beside {incremental['trades']:,}: "
                    f"validate_changes {incremental['validate_changes_s']:.2f} s (full run "
                    f"{incremental['full_run_after_s']:.1f} s); same findings as the full run: "
                    f"{incremental['same_findings']}.")
        else:
            out += f"\n\nIncremental: did not finish ({incremental})."
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000, 1000000])
    parser.add_argument("--runs", type=int, default=3, help="runs per size below 1M (1 at 1M)")
    parser.add_argument("--pyshacl-max", type=int, default=100000)
    parser.add_argument("--pyshacl-cap", type=float, nargs="+", default=[1800.0, 900.0],
                        help="seconds before a pySHACL run is stopped, per size in order (the last repeats)")
    parser.add_argument("--incremental-at", type=int, default=1000000, help="0: skip")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n = args.child[0], int(args.child[1])
        result = {"engine": lambda: child_engine(n, int(args.child[2])),
                  "prepare": lambda: child_prepare(n, Path(args.child[2])),
                  "pyshacl": lambda: child_pyshacl(n, Path(args.child[2])),
                  "incremental": lambda: child_incremental(n, int(args.child[2]))}[kind]()
        print(json.dumps(result))
        return

    engine: dict[int, dict] = {}
    pyshacl: dict[int, dict] = {}
    caps = iter(args.pyshacl_cap)
    cap = args.pyshacl_cap[0]
    for n in args.sizes:
        generate(n)
        runs = 1 if n >= 1000000 else args.runs
        engine[n] = measure(["engine", str(n), str(runs)], None)
        print(f"engine {n}: {engine[n].get('validate_s')}", file=sys.stderr, flush=True)
        if n <= args.pyshacl_max:
            with tempfile.TemporaryDirectory() as tmp:
                nquads = Path(tmp) / f"dataset-{n}.nq"
                measure(["prepare", str(n), str(nquads)], None)
                cap = next(caps, cap)
                pyshacl[n] = measure(["pyshacl", str(n), str(nquads)], cap)
            print(f"pyshacl {n}: {pyshacl[n]}", file=sys.stderr, flush=True)
    incremental = None
    if args.incremental_at:
        incremental = measure(["incremental", str(args.incremental_at), str(args.changes)], None)
    both = [n for n in engine if pyshacl.get(n, {}).get("finished")]
    largest = max(both) if both else None
    summary = {
        "as_of": AS_OF.isoformat(), "engine": engine, "pyshacl": pyshacl, "incremental": incremental,
        "ratio_at_largest_both_finish": (
            {"trades": largest, "ratio": pyshacl[largest]["validate_s"] / engine[largest]["validate_s"]}
            if largest else None),
        "pyshacl_caps_s": args.pyshacl_cap,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(_table(engine, pyshacl, incremental))


if __name__ == "__main__":
    main()
