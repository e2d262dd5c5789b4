"""Validation benchmark (issue 3): the SPARQL-compiled engine beside plain ``pyshacl.validate``.

For each size it writes a synthetic trade blotter (about 9 triples per
trade, a few violations of every kind, as in baselines.md) and the ten
constraints of bench/validation/shapes.ttl (min/max count, datatype, class,
one SHACL-SPARQL constraint). Each measurement runs in a fresh subprocess
so that its peak memory (ru_maxrss) is its own:

* ``engine``: load the blotter into Oxigraph in memory, then ``validate`` (median of the runs);
  then ``validate(focus=…)`` on the last 1,000 trades, checked equal to the full run filtered;
* ``pyshacl``: parse into rdflib, then ``pyshacl.validate(inference="none")`` through
  ``tests/pyshacl_reference.py``, only up to ``--pyshacl-max`` trades and with a time limit.

Prints a Markdown table and writes bench/out/validation.json.

    python bench/bench_validation_engine.py --sizes 10000 100000 1000000 [--pyshacl-max 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHAPES = HERE / "validation" / "shapes.ttl"
B = "http://example.org/bench/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD = "http://www.w3.org/2001/XMLSchema#"
BROKERS, AFFILIATED, SERIES = 60, 10, 38
FOCUS = 1000


def write_blotter(trades: int, out: Path) -> None:
    """N-Triples for *trades* trades; violations at fixed strides so every run sees the same ones."""
    with out.open("w") as f:
        f.write(f"<{B}AffiliatedBroker> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{B}Broker> .\n")
        for b in range(BROKERS):
            kind = "AffiliatedBroker" if b < AFFILIATED else "Broker"
            f.write(f"<{B}broker/{b}> {RDF_TYPE} <{B}{kind}> .\n")
        for i in range(trades):
            t = f"<{B}trade/{i}>"
            broker = i % BROKERS
            day = 1 + i % 28
            lines = [
                f"{t} {RDF_TYPE} <{B}Trade>",
                f"{t} <{B}series> <{B}series/{i % SERIES}>",
                f'{t} <{B}date> "2003-{1 + i % 12:02d}-{day:02d}"^^<{XSD}date>',
                f"{t} <{B}placedBy> <{B}adviser/{i % 7}>",
                f'{t} <{B}directed> "{"true" if i % 2 else "false"}"^^<{XSD}boolean>',
                f'{t} <{B}credit> "{i % 100}.5"^^<{XSD}decimal>',
            ]
            if i % 997:
                lines.append(f"{t} <{B}broker> <{B}broker/{broker}>" if i % 977 else f"{t} <{B}broker> <{B}nobody>")
            if i % 991:
                lines.append(f'{t} <{B}commission> "{10 + i % 500}.25"^^<{XSD}decimal>')
            else:
                lines.append(f'{t} <{B}commission> "12.5"')
            if i % 983 == 0:
                lines.append(f"{t} <{B}series> <{B}series/{(i + 1) % SERIES}>")
            if broker < AFFILIATED and i % 101:
                lines.append(f'{t} <{B}bestExecution> "true"^^<{XSD}boolean>')
            f.write(" .\n".join(lines) + " .\n")


def fingerprint(results: list) -> dict[str, object]:
    keys = sorted(json.dumps(r.key()) for r in results)
    return {"results": len(keys), "sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]}


def child(kind: str, blotter: str, trades: int, runs: int) -> None:
    """Runs in the subprocess: load, validate *runs* times, print one JSON line."""
    sys.path.insert(0, str(HERE.parent / "src"))
    sys.path.insert(0, str(HERE.parent))  # the reference is test code
    from bepgraph.validation.engine import load_shapes, validate
    from tests.pyshacl_reference import pyshacl_reference

    out: dict[str, object] = {"kind": kind, "trades": trades}
    started = time.perf_counter()
    if kind == "engine":
        from bepgraph.store import EmbeddedStore

        store = EmbeddedStore()
        with open(blotter, "rb") as f:
            store.replace_graph(f"{B}graph/blotter", f)
        out["load_s"] = time.perf_counter() - started
        started = time.perf_counter()
        shapes = load_shapes([SHAPES])
        out["compile_s"] = time.perf_counter() - started
        times, results = [], []
        for _ in range(runs):
            started = time.perf_counter()
            results = validate(store, shapes)
            times.append(time.perf_counter() - started)
        focus = [f"{B}trade/{i}" for i in range(trades - FOCUS, trades)]
        focus_times, focused = [], []
        for _ in range(runs):
            started = time.perf_counter()
            focused = validate(store, shapes, focus=focus)
            focus_times.append(time.perf_counter() - started)
        wanted = set(focus)
        out["focus_s"] = statistics.median(focus_times)
        out["focus_results"] = len(focused)
        out["focus_equals_full"] = focused == [r for r in results if r.focus in wanted]
    else:
        import rdflib

        graph = rdflib.Graph()
        graph.parse(blotter, format="nt")
        out["load_s"] = time.perf_counter() - started
        times, results = [], []
        for _ in range(runs):
            started = time.perf_counter()
            results = pyshacl_reference(graph, [SHAPES])
            times.append(time.perf_counter() - started)
    out["validate_s"] = statistics.median(times)
    out["runs_s"] = times
    out |= fingerprint(results)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(kind: str, blotter: Path, trades: int, runs: int, timeout: float) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", kind, str(blotter), str(trades), str(runs)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "trades": trades, "error": f"did not finish in {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"kind": kind, "trades": trades, "error": exc.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--pyshacl-max", type=int, default=100_000, help="largest size pySHACL is tried at")
    parser.add_argument("--pyshacl-timeout", type=float, default=1800, help="seconds for all pySHACL runs of a size")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, blotter, trades, runs = args.child
        child(kind, blotter, int(trades), int(runs))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for trades in args.sizes:
            blotter = Path(tmp) / f"blotter-{trades}.nt"
            write_blotter(trades, blotter)
            rows.append(measure("engine", blotter, trades, args.runs, 7200))
            if trades <= args.pyshacl_max:
                rows.append(measure("pyshacl", blotter, trades, args.runs, args.pyshacl_timeout))
            blotter.unlink()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "validation.json").write_text(json.dumps(rows, indent=2))
    print("| trades | validator | load s | validate s (median) | results | peak MB | focus 1k s | same as pySHACL |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['trades']:,} | {row['kind']} | – | {row['error']} | | | | |")
            continue
        ref = next((r for r in rows if r["trades"] == row["trades"] and r["kind"] == "pyshacl" and "sha256" in r), None)
        same = "–" if ref is None else ("yes" if ref["sha256"] == row["sha256"] else "NO")
        focus = f"{row['focus_s']:.2f} ({'=' if row['focus_equals_full'] else '≠'} full)" if "focus_s" in row else "–"
        print(f"| {row['trades']:,} | {row['kind']} | {row['load_s']:.1f} | {row['validate_s']:.2f} | "
              f"{row['results']} | {row['peak_mb']:.0f} | {focus} | {same} |")


if __name__ == "__main__":
    main()
