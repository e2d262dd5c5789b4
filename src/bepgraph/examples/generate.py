"""Write the example facts bundle: ``python -m bepgraph.examples.generate --out DIR [--trades N] [--seed S]``.

The same arguments give byte-identical files. The governance facts and the
deliberate breaches are the same at every size; ``--trades`` scales the
blotter (and with it the benefits and expenditures).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..resources import filing_path
from ..sources.tables import TABLE_ORDER, TABLES
from .blotter import write_blotter
from .readme import render_readme
from .scenario import build_scenario
from .schedule import plan_date, read_schedule_a

__all__ = ["DEFAULT_SEED", "DEFAULT_TRADES", "generate", "main"]

DEFAULT_TRADES = 2000
DEFAULT_SEED = 20020516
BLOTTER_TABLES = ("transactions", "benefits", "expenditures")

NOTES = [
    "`pimco-jnl-total-return-bond-fund`: shares_for is exactly 67% of shares_present "
    "(6700000.000 of 10000000.000, present 54.2% of outstanding) — approved; compare exactly.",
    "`mellon-capital-management-jnl-bond-index-fund`: shares_for is 52.6% of present but "
    "10000000.001 of 20000000.000 outstanding, one thousandth of a share over half — approved.",
    "`t-brandt` is absent from the 2004-05-13 meeting; the continuances still carry both majorities.",
    "On the 2003-11-13 nomination of `t-ridley` the interested trustees abstain (BEP-9.1).",
    "About 3% of directed trades leave `agreement` empty: BEP-1.3 is met by any qualifying agreement in force.",
    "Some benefits inure to other series besides the generating one; some expenditures are funded by "
    "two benefits, counted in full against each (never more than either).",
    "Payments on trades with an introducing broker go to `westbridge-securities`; the rest to the Distributor.",
    "`db-harbor-point` has an `amended` event (2003-06-02), which changes nothing the rules check.",
    "Every `controls` relationship starts before any agreement its controlled party is in, so none is an "
    "assignment (BEP-7.4).",
]


def _writer(stack: ExitStack, out: Path, table: str) -> Any:
    """A csv writer (RFC 4180: minimal quoting, CRLF) for *table*, its header already written."""
    fh = stack.enter_context(open(out / f"{table}.csv", "w", encoding="utf-8", newline=""))
    w = csv.writer(fh)
    w.writerow([c.name for c in TABLES[table].columns])
    return w


def generate(out: Path, trades: int = DEFAULT_TRADES, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the bundle and its README into *out*; return the row count of each table."""
    filing = filing_path()
    schedule = read_schedule_a(filing)
    scn = build_scenario(schedule, plan_date(filing))
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with ExitStack() as stack:
        for table in TABLE_ORDER:
            if table in BLOTTER_TABLES:
                continue
            w = _writer(stack, out, table)
            cols = [c.name for c in TABLES[table].columns]
            rows = scn.facts.rows.get(table, [])
            w.writerows([row[c] for c in cols] for row in rows)
            counts[table] = len(rows)
        tx, ben, exp = (_writer(stack, out, t) for t in BLOTTER_TABLES)
        res = write_blotter(scn, [s.id for s in schedule], trades, seed, tx.writerow, ben.writerow, exp.writerow)
    counts.update(res.counts)
    readme = render_readme(counts, scn.facts.breaches + res.breaches, res.warnings, trades, seed,
                           default=(trades, seed) == (DEFAULT_TRADES, DEFAULT_SEED), notes=NOTES)
    (out / "README.md").write_text(readme, encoding="utf-8", newline="\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bepgraph.examples.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to write the bundle into")
    ap.add_argument("--trades", type=int, default=DEFAULT_TRADES, help=f"transactions to write (default {DEFAULT_TRADES})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = generate(args.out, args.trades, args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {sum(counts.values())} rows in {len(counts)} tables to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
