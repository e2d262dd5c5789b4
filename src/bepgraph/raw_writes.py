"""Raw writes (the Graph Store Protocol, SPARQL Update with the write token) keep each fact held once.

The loader stores a fact once, whatever number of sources state it
(``holdings.py``); a raw write would otherwise put a second copy in the
union default graph, which then counts it twice. So every raw write goes
through :func:`apply`, in two updates:

1. The write itself, in one update, preceded by the facts the graphs it
   names repeat (put back in place, their records dropped): a ``DELETE`` or
   ``DROP`` then sees every fact the user wrote into the graph, held or not.
2. The settling: a fact the written graphs hold that another graph also
   holds stays with one graph and the others record it in ``graph/meta``
   (``<graph> bep:repeats "<s> <p> <o>"``; the real default graph as
   ``graph/default``). A named graph keeps a fact before the default graph
   does (``GRAPH ?g`` then finds it), and among named graphs the one that
   held it first keeps it. A fact no graph holds any more, that a graph
   repeats, moves to that graph (named first).

The loaded sources are the loader's: a raw write that names one (or the
store's own graphs under ``graph/``), or that names its graphs by a
variable or ``ALL``/``NAMED`` while sources are loaded, is refused, because
a re-export's rows are read from the bundle that first gave them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import pyoxigraph as ox

from .errors import QueryError
from .holdings import REPEATS, Holdings, _terms, stated
from .namespaces import graph_iri
from .sparql_lexer import blank_strings_and_comments
from .store import META, Store, solutions

__all__ = ["DEFAULT", "apply", "graph_triples", "queried_graphs", "raw_graphs", "settle", "written_graphs"]

DEFAULT = graph_iri("default")  # the real default graph, as graph/meta records name it
_OURS = graph_iri("")
_IRI = r"<[^<>\"{}|^`\\\s]*>"
_PNAME = r"[A-Za-z][\w.-]*:[^\s{}();,]*|:[^\s{}();,]*"
_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*(" + _IRI + ")", re.IGNORECASE)
_NAMED = re.compile(
    r"(?:\bGRAPH|\bWITH|\bINTO|\bTO|\b(?:ADD|MOVE|COPY)(?:\s+SILENT)?)\s+(?:GRAPH\s+)?(" + _IRI + "|" + _PNAME + ")",
    re.IGNORECASE)
_ANY = re.compile(r"\bGRAPH\s*[?$]|\b(?:CLEAR|DROP)\s+(?:SILENT\s+)?(?:ALL|NAMED)\b", re.IGNORECASE)
ALL = "*"


def written_graphs(update: str) -> set[str]:
    """The graphs *update* may write, read from its text: their IRIs, or ``ALL`` when a variable or ALL/NAMED names them.

    The default graph is always counted (``DEFAULT``). A name this cannot
    resolve (a relative IRI, an unknown prefix) counts as ``ALL``: wrong
    only on the safe side.
    """
    text = blank_strings_and_comments(update)
    if _ANY.search(text):
        return {ALL, DEFAULT}
    prefixes = {(m.group(1) or ""): m.group(2)[1:-1] for m in _PREFIX.finditer(text)}
    found = {DEFAULT}
    for match in _NAMED.finditer(text):
        name = match.group(1)
        if name.upper() in ("DEFAULT", "SILENT"):
            continue
        if name.startswith("<"):
            iri = name[1:-1]
        else:
            prefix, _, local = name.partition(":")
            if prefix not in prefixes:
                return {ALL, DEFAULT}
            iri = prefixes[prefix] + local
        if ":" not in iri:
            return {ALL, DEFAULT}
        found.add(iri)
    return found


def _refuse_loaded(graphs: set[str], holdings: Holdings) -> None:
    if ALL in graphs and holdings.sources:
        raise QueryError("this write names its graphs by a variable (GRAPH ?g) or ALL/NAMED, so it could change "
                         "a loaded source; name the graphs it writes (loaded sources change by `bepgraph load`)")
    for graph in sorted(graphs - {ALL, DEFAULT}):
        if graph in holdings.sources or graph.startswith(_OURS):
            raise QueryError(f"<{graph}> is a loaded source or the store's own graph: it changes only by "
                             "`bepgraph load` (a corrected export under the same folder name replaces a bundle)")


def _raw(holdings: Holdings, store: Store) -> list[str]:
    """Every graph a raw write may have written: the named graphs that are not loaded sources, and the default."""
    return [g for g in store.named_graphs() if g not in holdings.sources and not g.startswith(_OURS)] + [DEFAULT]



def queried_graphs(store: Store) -> list[str]:
    """The named graphs a query's ``GRAPH ?g`` ranges over, empty ones included: on a server, every graph
    it unions (not only the project's, which is all :meth:`Store.named_graphs` lists there). Read from the
    dataset's list of graphs, not its facts, so it costs no scan: what tells that a graph came or went."""
    rows = solutions(store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"))
    return sorted(row["g"].value for row in rows)


def raw_graphs(store: Store) -> list[str]:
    """The graphs holding facts that came by raw writes, not by a load: the graphs queries range over that
    hold a fact and are not loaded sources nor the store's own, and :data:`DEFAULT` when the real default
    graph holds a fact. Reads every fact (a scan): asked once per change of :func:`queried_graphs`.

    Why: a findings file speaks for the loaded sources only, while the rules see the union, raw facts
    included (validation/saved_findings.py refuses a file then). A server's real default graph is told
    apart by counting: its union (one solution per graph holding a fact) less its named graphs.
    """
    sources = set(Holdings.read(store).sources)
    held = solutions(store.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"))  # a scan: graphs with facts
    found = sorted(g for g in (row["g"].value for row in held) if g not in sources and not g.startswith(_OURS))
    if _remote(store):
        union, named = (next(iter(solutions(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"))))["n"]
                        for pattern in ("?s ?p ?o", "GRAPH ?g { ?s ?p ?o }"))
        in_default = int(union.value) > int(named.value)
    else:
        in_default = bool(store.query("ASK { ?s ?p ?o }", default_graphs=[]))
    return found + ([DEFAULT] if in_default else [])


def _data(graph: str, lines: Iterable[str]) -> str:
    body = " ".join(f"{line} ." for line in sorted(lines))
    return body if graph == DEFAULT else f"GRAPH <{graph}> {{ {body} }}"


def _records(graph: str, lines: Iterable[str]) -> str:
    return " ".join(f"<{graph}> <{REPEATS}> {ox.Literal(line)} ." for line in sorted(lines))


def _put_back(holdings: Holdings, graphs: Sequence[str]) -> list[str]:
    """Updates putting back in place the facts *graphs* repeat, and dropping their records."""
    ops = []
    for graph in graphs:
        lines = holdings.repeats.get(graph, set())
        if lines:
            ops += [f"INSERT DATA {{ {_data(graph, lines)} }}",
                    f"DELETE DATA {{ GRAPH <{META}> {{ {_records(graph, lines)} }} }}"]
    return ops


def apply(store: Store, update: str, run: Callable[[str], None], graphs: Iterable[str | None] | None = None) -> None:
    """Run the raw write *update* with *run* (the door's executor), then settle what it wrote.

    *graphs* are the graphs the write names when the door knows them (the
    Graph Store Protocol; ``None`` is the default graph); otherwise they are
    read from the update's text (:func:`written_graphs`).
    """
    named = written_graphs(update) if graphs is None else {DEFAULT if g is None else g for g in graphs} | {DEFAULT}
    holdings = Holdings.read(store)
    _refuse_loaded(named, holdings)
    touched = _raw(holdings, store) if ALL in named else sorted(named)
    run(" ;\n".join(_put_back(holdings, touched) + [update]))
    settle = _settle(store, touched)
    if settle:
        run(settle)


def settle(store: Store, graphs: Iterable[str | None] | None = None) -> None:
    """Settle *graphs* (every raw graph when None) after a write that did not go through :func:`apply`.

    The loader calls it after a load (a bundle may state what a raw graph
    holds), and the Graph Store door after a write it forwarded to a remote
    server's own endpoint.
    """
    holdings = Holdings.read(store)
    if graphs is None:
        # a server's default graph is found only by a scan of its union: a load does not pay for it
        touched = [g for g in _raw(holdings, store) if not (g == DEFAULT and _remote(store))]
    else:
        touched = sorted({DEFAULT if g is None else g for g in graphs})
    text = _settle(store, touched)
    if text:
        store.update(text)


def _remote(store: Store) -> bool:
    # a SPARQL server's queries see the union as their default graph, so the real one is counted apart
    return store.forwards


def _line(row: object) -> str:
    return f"{row['s']} {row['p']} {row['o']}"  # type: ignore[index]


_NOT_OURS = (f"FILTER (!isBlank(?s) && !isBlank(?o) && !STRSTARTS(STR(?h), \"{_OURS}meta\") "
             f"&& !STRSTARTS(STR(?h), \"{_OURS}journal\") && !STRSTARTS(STR(?h), \"{_OURS}staging/\"))")


def _held_elsewhere(store: Store, graph: str) -> dict[str, list[str]]:
    """line -> the other graphs holding it, for each fact *graph* holds (blank nodes are each graph's own)."""
    found: dict[str, list[str]] = {}
    if graph == DEFAULT:
        if _remote(store):  # the union gives a fact once per graph holding it, the default graph included
            text = (f"SELECT ?s ?p ?o (COUNT(*) AS ?j) (COUNT(DISTINCT ?h) AS ?m) (GROUP_CONCAT(DISTINCT STR(?h); "
                    f"separator=\" \") AS ?hs) WHERE {{ ?s ?p ?o GRAPH ?h {{ ?s ?p ?o }} {_NOT_OURS} }} GROUP BY ?s ?p ?o")
            for row in store.query(text):  # type: ignore[union-attr]
                joined, named = int(row["j"].value), int(row["m"].value)
                if joined > named * named:  # joined = (named + in default) * named
                    found[_line(row)] = row["hs"].value.split(" ")
            return found
        text = f"SELECT ?s ?p ?o ?h WHERE {{ ?s ?p ?o GRAPH ?h {{ ?s ?p ?o }} {_NOT_OURS} }}"
        for row in store.query(text, default_graphs=[]):  # type: ignore[union-attr]
            found.setdefault(_line(row), []).append(row["h"].value)
        return found
    text = f"SELECT ?s ?p ?o ?h WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} GRAPH ?h {{ ?s ?p ?o }} {_NOT_OURS} }}"
    for row in store.query(text, default_graphs=[]):  # type: ignore[union-attr]
        if row["h"].value != graph:
            found.setdefault(_line(row), []).append(row["h"].value)
    if _remote(store):
        text = (f"SELECT ?s ?p ?o (COUNT(*) AS ?u) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} ?s ?p ?o "
                f"FILTER (!isBlank(?s) && !isBlank(?o)) }} GROUP BY ?s ?p ?o")
        in_default = [_line(row) for row in store.query(text)  # type: ignore[union-attr]
                      if int(row["u"].value) > 1 + len(found.get(_line(row), []))]
    else:
        text = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} ?s ?p ?o FILTER (!isBlank(?s) && !isBlank(?o)) }}"
        in_default = [_line(row) for row in store.query(text, default_graphs=[])]  # type: ignore[union-attr]
    for line in in_default:
        found.setdefault(line, []).append(DEFAULT)
    return found


def _keeper(graphs: Iterable[str], touched: set[str]) -> str:
    """The graph that keeps a fact several hold: a named graph before the default, one not written before one written."""
    return min(graphs, key=lambda g: (g == DEFAULT, g in touched, g))


def _settle(store: Store, touched: Sequence[str]) -> str:
    """The update that leaves each fact held once after a write to *touched*, or '' when nothing needs it."""
    gone: dict[str, set[str]] = {}  # graph -> facts it stops holding (and records)
    written = set(touched)
    for graph in touched:
        for line, others in _held_elsewhere(store, graph).items():
            keeper = _keeper([graph, *others], written)
            for holder in {graph, *others} - {keeper}:
                gone.setdefault(holder, set()).add(line)
    holdings = Holdings.read(store)
    back: dict[str, set[str]] = {}  # graph -> facts it holds again (no graph holds them any more)
    dropped: dict[str, set[str]] = {}
    wanted: dict[str, list[str]] = {}
    for graph, lines in holdings.repeats.items():
        if graph not in holdings.sources:
            for line in lines:
                wanted.setdefault(line, []).append(graph)
    if wanted:
        held = _held_anywhere(store, wanted)
        for line, graphs in wanted.items():
            if line not in held:
                keeper = _keeper(graphs, set())
                back.setdefault(keeper, set()).add(line)
                dropped.setdefault(keeper, set()).add(line)
    ops = []
    for graph, lines in sorted(gone.items()):
        ops += [f"DELETE DATA {{ {_data(graph, lines)} }}",
                f"INSERT DATA {{ GRAPH <{META}> {{ {_records(graph, lines)} }} }}"]
    for graph, lines in sorted(back.items()):
        ops += [f"INSERT DATA {{ {_data(graph, lines)} }}",
                f"DELETE DATA {{ GRAPH <{META}> {{ {_records(graph, dropped[graph])} }} }}"]
    return " ;\n".join(ops)


def _held_anywhere(store: Store, lines: Iterable[str]) -> set[str]:
    """Those of *lines* some graph (named, or the default) holds."""
    held: set[str] = set()
    for line in lines:
        s, p, o = _terms(line)
        text = f"ASK {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?h {{ ?s ?p ?o }} FILTER (?h != <{META}>) }} }}"
        if store.query(text, {"s": s, "p": p, "o": o}, default_graphs=[]):
            held.add(line)
    return held


def _default_held(store: Store) -> list[ox.Triple]:
    """The facts the real default graph holds."""
    if not _remote(store):
        return list(store.query("CONSTRUCT WHERE { ?s ?p ?o }", default_graphs=[]))  # type: ignore[arg-type]
    # a server's union gives a fact once per graph holding it: the default graph holds those it gives more often
    union = "SELECT ?s ?p ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ?p ?o"
    named = "SELECT ?s ?p ?o (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?s ?p ?o"
    counts = {(r["s"], r["p"], r["o"]): int(r["n"].value) for r in store.query(named)}  # type: ignore[union-attr]
    return [ox.Triple(r["s"], r["p"], r["o"]) for r in store.query(union)  # type: ignore[union-attr]
            if int(r["n"].value) > counts.get((r["s"], r["p"], r["o"]), 0)]


def graph_triples(store: Store, graph: str | None) -> list[ox.Triple]:
    """What a graph states, as a Graph Store GET answers it: the facts it holds and those it repeats.

    A loaded bundle's repeated rows are read from the bundle that first
    gave them (``holdings.stated``); a raw graph's repeated facts from its
    records.
    """
    if graph is None:
        held = _default_held(store)
        lines = Holdings.read(store).repeats.get(DEFAULT, set())
    else:
        node = ox.NamedNode(graph)
        held = list(store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": node}))  # type: ignore[arg-type]
        holdings = Holdings.read(store)
        lines = stated(store, graph) if graph in holdings.sources else holdings.repeats.get(graph, set())
    mine = {f"{t.subject} {t.predicate} {t.object}" for t in held}
    extra = [ox.Triple(*_terms(line)) for line in sorted(lines) if line not in mine]
    return held + extra
