"""Run every benchmark of bench/ in turn (`make bench`); each prints its own Markdown table.

The benchmarks are not tests: they time whole loads, validations and
servers at 10k, 100k and 1M trades and take tens of minutes on two cores.
Pass --sizes to any of them to run a subset, e.g.
``python bench/bench_load.py --sizes 10000``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_load.py", "bench_validation.py", "bench_sparql.py", "bench_graphql.py", "bench_viz.py"]


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n## {name}\n", flush=True)
        if subprocess.run([sys.executable, str(path), *sys.argv[1:]]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
