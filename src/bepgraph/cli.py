"""The ``bepgraph`` command: thin commands over the library, exit codes in one place.

Exit codes:
    0  success (for ``validate``: the graph conforms; warnings alone are fine)
    1  ``validate`` found violations
    2  bad input: a bundle, the filing, a parameter or a query was rejected; nothing was loaded
    3  the store could not be opened, reached or written, or an internal fault
  130  interrupted
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from .version import __version__
from .errors import BepgraphError, BundleError, ParameterError
from .loading import describe, load_all, load_for_use
from .sparql import bind, find_query, named_queries
from .settings import RemoteSettings, Settings
from .store import Store, open_store

__all__ = ["main"]

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT, EXIT_FAULT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader went away

EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "ntriples": ox.RdfFormat.N_TRIPLES,
}
RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "xml": ox.QueryResultsFormat.XML,
}


def _add_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundles", nargs="*", type=Path, metavar="BUNDLE",
                        help="facts bundle folder(s); default: the example bundle")
    parser.add_argument("--plan", type=Path, help="the plan filing (default: the JNL Series Trust filing)")
    parser.add_argument("--store", help="'memory' (default), a folder for an on-disk store, or a SPARQL server URL")


def _remote() -> RemoteSettings:
    """The remote store's endpoints and credentials, from the environment only (never the command line)."""
    return RemoteSettings.from_env(os.environ)


def _open(args: argparse.Namespace, load: bool) -> Store:
    """The store the user named; an in-memory store is loaded with the filing and bundles first."""
    store = open_store(args.store, _remote())
    if load:
        try:
            load_for_use(store, args.bundles or None, args.plan, progress=sys.stderr.isatty())
        except BaseException:
            store.close()
            raise
    return store


def cmd_load(args: argparse.Namespace) -> int:
    store = open_store(args.store, _remote())
    try:
        if args.recover:
            dropped = store.recover()
            for graph in dropped:
                print(f"dropped {graph}: written by a load that never committed")
            if not args.bundles:  # recovering only: the example bundle is not loaded in passing
                print(f"{store.location}: {len(dropped)} graph(s) of an unfinished load dropped")
                return EXIT_OK
        report = load_all(store, args.bundles or None, args.plan, progress=sys.stderr.isatty())
        print(f"loaded {report.filing.title} ({len(report.filing.series)} series) into {store.location}")
        for graph, rows in report.rows.items():
            tables = ", ".join(f"{t} {n}" for t, n in rows.items())
            print(f"  {graph}: {tables}")
        for line in describe(store):
            print(f"  {line}")
    finally:
        store.close()
    return EXIT_OK


def _print_table(result: ox.QuerySolutions) -> None:
    names = [v.value for v in result.variables]
    rows = [["" if row[n] is None else row[n].value for n in names] for row in result]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def cmd_query(args: argparse.Namespace) -> int:
    if args.list:
        for name, q in named_queries().items():
            params = " ".join(f"{p.name}:{p.type}" for p in q.parameters)
            print(f"{name:45} {q.title}" + (f"  [{params}]" if params else ""))
        return EXIT_OK
    if not args.query:
        raise ParameterError("name a query (see `bepgraph query --list`) or a .rq file")
    query = find_query(args.query)
    values: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise ParameterError(f"--param '{item}' is not of the form key=value")
        values[key.strip().lstrip("?")] = value
    bindings = bind(query, values)  # a typo in a parameter fails before a long load
    store = _open(args, load=True)
    try:
        from .known_ids import check_entity_parameters
        from .validation.overlay import query_with_derived

        check_entity_parameters(store, query, bindings)  # an unknown series or broker: exit 2, not zero rows

        result = query_with_derived(store, query.text, bindings)  # with the derived graphs it names
        out = sys.stdout.buffer
        if isinstance(result, ox.QueryBoolean):
            print("true" if bool(result) else "false")
        elif isinstance(result, ox.QuerySolutions):
            if args.format == "table":
                _print_table(result)
            else:
                out.write(result.serialize(format=RESULT_FORMATS[args.format]) or b"")
        else:
            out.write(ox.serialize(result, format=ox.RdfFormat.TURTLE) or b"")
    finally:
        store.close()
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    if args.graph is not None:
        try:
            ox.NamedNode(args.graph)
        except ValueError:
            raise ParameterError(f"--graph '{args.graph}' is not an absolute IRI") from None
    store = _open(args, load=True)
    try:
        if args.graph is not None and args.graph not in (graphs := store.named_graphs()):
            raise ParameterError(f"--graph <{args.graph}> is not a graph of this store; its graphs: "
                                 + ", ".join(sorted(graphs)))
        data = store.dump(EXPORT_FORMATS[args.format], args.graph)
    finally:
        store.close()
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .known_ids import check_known, check_rules
    from .validation.run import run_validation
    from .validation.text import summary

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        raise ParameterError(f"--as-of '{args.as_of}' is not a date (YYYY-MM-DD)") from None
    check_rules(args.rule)  # before a long load
    from .partition.command import refuse_partition_options, validate_command

    if args.partition:
        return validate_command(args, as_of)
    refuse_partition_options(args)
    store = _open(args, load=True)
    try:
        for series in args.series:
            check_known(store, "series", series)
        validation = run_validation(store, as_of, args.rule or None, args.series or None, save=args.save)
    finally:
        store.close()
    report = validation.report
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    elif args.format == "turtle":
        sys.stdout.buffer.write(validation.shacl_report)
    else:
        scope = ", ".join([*args.rule, *(f"series {s}" for s in args.series)]) or None
        print(summary(report, scope), end="")
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .http.app import create_app
    from .http.server import server_config

    settings = Settings.from_env(
        host=args.host, port=args.port, store=args.store, plan=args.plan,
        bundles=tuple(args.bundles) if args.bundles else None,
        allow_updates=args.allow_updates or None,
        findings_files=tuple(args.findings_file) or None,
    )
    if settings.allow_updates and not settings.token:
        raise ParameterError("--allow-updates needs the environment variable BEPGRAPH_TOKEN (the bearer token)")
    if not _loopback(settings.host) and not settings.read_token and not args.public:
        raise ParameterError(f"--host {settings.host} is reachable from other machines and every read would be "
                             "open: set BEPGRAPH_READ_TOKEN, or pass --public to serve the data to anyone")
    app = create_app(settings)
    server = uvicorn.Server(server_config(app, settings.host, settings.port))
    try:
        server.run()  # a Ctrl-C stops it gracefully, and uvicorn raises the signal again once it has stopped
    except SystemExit:
        failure = getattr(app, "startup_error", None)
        if failure is not None:  # uvicorn printed its message and exits 3 for any start it could not make
            return int(failure.exit_code)
        raise
    return EXIT_INTERRUPTED if server.should_exit else EXIT_OK


def _loopback(host: str) -> bool:
    """Whether *host* is reachable only from this machine (a name other than localhost is not assumed to be)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _option_day(option: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ParameterError(f"{option} '{raw}' is not a date (YYYY-MM-DD)") from None


def cmd_board_pack(args: argparse.Namespace) -> int:
    from .viz.pack import build_pack

    as_of = _option_day("--as-of", args.as_of)
    start = _option_day("--from", args.start)
    since = _option_day("--since", args.since)
    assert as_of is not None  # required by the parser
    if since is not None and since >= as_of:
        raise ParameterError(f"--since {since} is not before --as-of {as_of}: the previous review comes first")
    saved = None
    if args.findings_file:  # read (and refused if malformed) before a long load
        from .validation.saved_findings import SavedFindings

        saved = SavedFindings.read(args.findings_file)
    store = _open(args, load=True)
    try:
        summary = build_pack(store, as_of, Path(args.output), start, since=since, paper=args.paper, saved=saved)
    finally:
        store.close()
    print(f"wrote {summary.path}: {summary.pages} pages, {summary.findings} findings as of {as_of}"
          + (f" (read from findings files; quarter ends not drawn: {', '.join(summary.timeline_missing)})"
             if summary.timeline_missing else " (read from findings files)" if saved else ""))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bepgraph", description=__doc__.split("\n")[0],
                                     epilog=__doc__.split("\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"bepgraph {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("load", help="read the filing and bundles into a store and report what went where")
    _add_sources(p)
    p.add_argument("--recover", action="store_true",
                   help="first drop what a killed load left on a SPARQL server (the graphs its journal names); "
                        "with no BUNDLE, only that. Only when no other load into that server is running")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("query", help="run a named query from queries/ or a .rq file")
    p.add_argument("query", nargs="?", help="query name (e.g. analyst/commissions-by-broker) or path to a .rq file")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a parameter value, typed by the query's banner and bound (repeatable)")
    p.add_argument("--format", choices=["table", *RESULT_FORMATS], default="table")
    p.add_argument("--list", action="store_true", help="list the named queries and their parameters")
    _add_sources(p)
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("export", help="write the graph as Turtle, N-Quads, TriG, N-Triples or JSON-LD")
    p.add_argument("--format", choices=list(EXPORT_FORMATS), default="turtle")
    p.add_argument("--graph", help="only this named graph (IRI)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    _add_sources(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", help="check the graph against the rules as of a date (exit 1 on violations)")
    p.add_argument("--as-of", help="judge the facts as of this date, YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=["text", "json", "turtle"], default="text",
                   help="a readable summary, the findings JSON, or the SHACL validation report")
    p.add_argument("--rule", action="append", default=[], metavar="ID", help="only this rule, e.g. BEP-7.3 (repeatable)")
    p.add_argument("--series", action="append", default=[], metavar="ID", help="only findings of this series (repeatable)")
    p.add_argument("--save", action="store_true",
                   help="also write the SHACL report to the store's graph/findings (otherwise the store is only read)")
    from .partition.command import add_partition_options

    add_partition_options(p)
    _add_sources(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("serve", help="serve GraphQL, SPARQL and the board views over HTTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--allow-updates", action="store_true",
                   help="enable SPARQL Update and the Graph Store Protocol (needs BEPGRAPH_TOKEN)")
    p.add_argument("--public", action="store_true",
                   help="serve on an address other machines reach without BEPGRAPH_READ_TOKEN (every read open)")
    p.add_argument("--findings-file", action="append", default=[], type=Path, metavar="FILE",
                   help="answer the findings of GraphQL, /viz/data and /viz/quarters from this file of "
                        "`validate --partition --findings-file` (repeatable, one per as-of date; other dates are "
                        "refused) instead of validating")
    _add_sources(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("board-pack", help="write the trustees' board pack (PDF): findings, the four views, "
                                          "money flow, compliance calendar")
    p.add_argument("--as-of", required=True, metavar="DATE", help="judge the rules and draw the views as of DATE")
    p.add_argument("--from", dest="start", metavar="DATE",
                   help="first day of the money flow and votes shown (default: a year before --as-of)")
    p.add_argument("--since", metavar="DATE",
                   help="the previous review's date: findings new, resolved and persisting since then")
    p.add_argument("--paper", choices=["a4", "letter"], default="a4", help="paper size (default a4)")
    p.add_argument("-o", "--output", required=True, metavar="PACK.pdf", help="the PDF to write")
    p.add_argument("--findings-file", action="append", default=[], type=Path, metavar="FILE",
                   help="read the findings from this file of `validate --partition --findings-file` instead of "
                        "validating (repeatable, one per date: --as-of's is needed, --since's too if given; "
                        "quarter ends without one are not drawn)")
    _add_sources(p)
    p.set_defaults(func=cmd_board_pack)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BundleError as exc:
        print(f"bepgraph: {exc}", file=sys.stderr)
        return exc.exit_code
    except BepgraphError as exc:
        print(f"bepgraph: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`bepgraph query … | head`): what it read is all it wanted, so end
        # quietly, with stdout pointed at nothing so that the interpreter's final flush cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
