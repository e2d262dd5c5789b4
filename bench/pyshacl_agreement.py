"""The engine and pySHACL on a whole bundle: the same results, key by key.

tests/test_rules_reference.py checks the two agree on every tiny rule case;
this checks it on a real-sized graph (default: the example bundle, 2,000
trades, as of 2005-07-31): the filing, the bundle and the derived graph,
every rule shape, pySHACL over the union as ``bench_validation.py`` runs it.

pySHACL parses each SHACL-SPARQL query again for every focus node; here
rdflib's parsing is memoized per query text (``parse_once``), which also
shows how much of plain pySHACL's time (bench_validation.py) is parsing. Prints the counts, the
differences (none expected) and both times; writes bench/out/pyshacl-agreement.json.

    python bench/pyshacl_agreement.py [BUNDLE] [--as-of 2005-07-31]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import rdflib

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))  # tests/pyshacl_reference.py: the reference is test code

from bepgraph.loading import load_all  # noqa: E402
from bepgraph.resources import example_bundle, shape_files  # noqa: E402
from bepgraph.store import EmbeddedStore  # noqa: E402
from bepgraph.validation.derive import derived_for  # noqa: E402
from bepgraph.validation.engine import load_shapes, validate  # noqa: E402
from tests.pyshacl_reference import pyshacl_reference  # noqa: E402

OUT = HERE / "out" / "pyshacl-agreement.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=example_bundle())
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2005, 7, 31))
    args = parser.parse_args()
    store = EmbeddedStore()
    load_all(store, [args.bundle])
    with derived_for(store, args.as_of):
        started = time.perf_counter()
        engine = {r.key() for r in validate(store, load_shapes(shape_files()))}
        engine_s = time.perf_counter() - started
        graph = rdflib.Graph().parse(data=store.dump(ox.RdfFormat.N_TRIPLES), format="nt")  # the union
    started = time.perf_counter()
    reference = {r.key() for r in pyshacl_reference(graph, shape_files(), parse_once=True)}
    pyshacl_s = time.perf_counter() - started
    summary = {"bundle": str(args.bundle), "as_of": args.as_of.isoformat(), "triples": len(graph),
               "engine_results": len(engine), "pyshacl_results": len(reference),
               "engine_only": sorted(map(list, engine - reference)),
               "pyshacl_only": sorted(map(list, reference - engine)),
               "engine_s": engine_s, "pyshacl_parse_memoized_s": pyshacl_s}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith("_only")}))
    print(f"same results: {engine == reference} (engine only: {len(engine - reference)}, "
          f"pySHACL only: {len(reference - engine)})")


if __name__ == "__main__":
    main()
