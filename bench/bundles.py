"""The benchmarks' bundles: made once by the example generator, kept in bench/data/ (git-ignored)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def generate(trades: int, root: Path = DATA) -> Path:
    """The folder of a bundle with *trades* transactions, generated if it is not there yet."""
    out = root / f"bundle-{trades}"
    if not (out / "transactions.csv").is_file():
        subprocess.run([sys.executable, "-m", "bepgraph.examples.generate", "--out", str(out),
                        "--trades", str(trades)], check=True, cwd=ROOT)
    return out
