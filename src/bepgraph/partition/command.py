"""``bepgraph validate --partition series|year``: the CLI's side of a partitioned run."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from ..errors import ParameterError
from ..resources import example_bundle
from ..validation.text import summary
from .engines import engine_for
from .runner import validate_partitioned
from .saved import write_findings_file

__all__ = ["add_partition_options", "refuse_partition_options", "validate_command"]


def add_partition_options(parser: argparse.ArgumentParser) -> None:
    """The options of a partitioned run, on ``validate``."""
    parser.add_argument("--partition", choices=["series", "year"],
                        help="validate the blotter in partitions (by series or by year), each in its own store, "
                             "and merge the findings: for bundles too large for one store")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="with --partition: processes of the local pool (default: one per core)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --partition: run on the Dask distributed scheduler at ADDRESS (tcp://host:port)")
    parser.add_argument("--findings-file", type=Path, metavar="FILE",
                        help="with --partition: also write the findings JSON with its provenance "
                             "(bundles' sha256, as-of, partitions) to FILE")


def refuse_partition_options(args: argparse.Namespace) -> None:
    """An option of a partitioned run given without ``--partition`` would be ignored: say so instead."""
    given = [name for name, value in (("--workers", args.workers), ("--scheduler", args.scheduler),
                                      ("--findings-file", args.findings_file)) if value is not None]
    if given:
        raise ParameterError(f"{', '.join(given)} only applies with --partition series|year")


def validate_command(args: argparse.Namespace, as_of: date) -> int:
    """Run the partitioned validation the options name and print it as ``validate`` prints a run."""
    if args.store not in (None, "", "memory", ":memory:"):
        raise ParameterError("--partition validates the bundles named, each partition in a store of its own: "
                             "it takes no --store")
    if args.save:
        raise ParameterError("--save writes to the store validated, and a partitioned run has none: "
                             "use --findings-file FILE")
    if args.format == "turtle":
        raise ParameterError("--format turtle is not available with --partition (the SHACL report of a merged run "
                             "would not be one store's): use --format json or --findings-file")
    if args.findings_file is not None and not args.findings_file.resolve().parent.is_dir():
        raise ParameterError(f"--findings-file {args.findings_file}: its folder does not exist (checked before a "
                             "long run, not after it)")
    if args.workers is not None and args.scheduler:
        raise ParameterError("--workers is for the local pool; a Dask cluster has the workers it has")
    engine = engine_for(args.workers, args.scheduler)
    bundles = list(args.bundles) or [example_bundle()]
    run = validate_partitioned(bundles, as_of, args.partition, engine, args.plan, args.rule or None,
                               args.series or None)
    if args.findings_file is not None:
        write_findings_file(args.findings_file, run)
    report = run.validation.report
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        scope = ", ".join([*args.rule, *(f"series {s}" for s in args.series)]) or None
        print(summary(report, scope), end="")
        print(f"({len(run.partitions)} partitions by {run.mode}, {run.engine})", file=sys.stderr)
    return 0 if report.conforms else 1
