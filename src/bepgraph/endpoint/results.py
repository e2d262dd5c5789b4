"""A query evaluated to the bytes of its answer, in the negotiated format and under the result cap.

Why the result cap is a rewrite: a SELECT gets ``LIMIT cap+1``
(:func:`capped_select`), so the engine stops early, and the answer Oxigraph
serialized is counted as bytes; no row becomes a Python object.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Iterable
from itertools import islice

import pyoxigraph as ox

from ..sparql_lexer import declares_dataset, keywords, scan
from .protocol import GRAPH_FORMATS, RESULTS_FORMATS, Answer, Dataset, ProtocolError, negotiate

__all__ = ["capped_select", "evaluate", "recap"]

_RESULTS_DEFAULT = "application/sparql-results+json"
_GRAPH_DEFAULT = "text/turtle"
# the media types written back: the first one of each format above
_RESULTS_TYPE = {fmt: media for media, fmt in reversed(RESULTS_FORMATS.items())}
_GRAPH_TYPE = {fmt: media for media, fmt in reversed(GRAPH_FORMATS.items())}
_CAP_WORDS = keywords("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "LIMIT", "VALUES")


def _query_options(declares: bool, dataset: Dataset) -> dict[str, object]:
    if dataset.given:
        return {
            "default_graph": [ox.NamedNode(g) for g in dataset.default_graphs or ()] or [ox.DefaultGraph()],
            "named_graphs": [ox.NamedNode(g) for g in dataset.named_graphs or ()],
        }
    if declares:
        return {}
    return {"use_default_graph_as_union": True}


_REMEMBERED_QUERY_CHARS = 1 << 14  # 16k characters: the longest curated query is 3.6 kB; 256 of these stay small


@functools.lru_cache(maxsize=256)
def _remembered_reading(query: str, limit: int) -> tuple[str | None, bool]:
    return capped_select(query, limit), declares_dataset(query)


def _reading(query: str, limit: int) -> tuple[str | None, bool]:
    """(:func:`capped_select`, :func:`declares_dataset`) of *query*, remembered for the texts seen last.

    Why: the two scans of a curated query with its banner are a real share
    of what a small query takes in all, and analysts' tools send the same
    text again and again (YASGUI re-runs, dashboards).
    Each worker remembers its own; texts over 16k characters are not kept,
    so a client cannot fill a worker's memory with long texts.
    """
    if len(query) > _REMEMBERED_QUERY_CHARS:
        return capped_select(query, limit), declares_dataset(query)
    return _remembered_reading(query, limit)


def _capped(rows: Iterable[object], limit: int, what: str) -> list[object]:
    kept = list(islice(rows, limit + 1))
    if len(kept) > limit:
        raise _too_large(limit, what)
    return kept


def _too_large(limit: int, what: str) -> ProtocolError:
    return ProtocolError(413, f"the answer has more than {limit} {what} (the result cap); add a LIMIT "
                              "or aggregate, or raise BEPGRAPH_RESULT_LIMIT", "ResultTooLarge")


def capped_select(query: str, limit: int) -> str | None:
    """*query* with a LIMIT so the engine itself stops after ``limit + 1`` rows; None when none is needed or possible.

    A SELECT without LIMIT gets ``LIMIT limit+1`` at the end of its solution
    modifiers (before a trailing VALUES); one whose LIMIT is larger gets it
    lowered to ``limit+1``; one whose LIMIT is already within the cap is left
    alone. Either way the rows kept are the same first rows, and there are
    more than *limit* of them exactly when the query as written has. ASK,
    CONSTRUCT and DESCRIBE are left alone.
    """
    words = iter(scan(query, _CAP_WORDS))
    for word, _, _, depth, _ in words:
        if depth == 0 and word in ("ASK", "CONSTRUCT", "DESCRIBE"):
            return None
        if depth == 0 and word == "SELECT":
            break
    else:
        return None
    opened = False
    for word, start, end, depth, parens in words:  # the WHERE group: from its '{' back to depth 0
        if word == "{" and depth == 0 and not parens:
            opened = True
        elif word == "}" and depth == 0 and opened:
            break
    else:
        return None
    for word, start, end, depth, _ in words:  # the solution modifiers, then maybe VALUES
        if depth != 0:
            continue
        if word == "LIMIT":
            given = re.compile(r"\s*(\d+)").match(query, end)
            if given is None:
                return None
            if int(given.group(1)) <= limit:
                return None
            return f"{query[:given.start(1)]}{limit + 1}{query[given.end(1):]}"
        if word == "VALUES":
            return f"{query[:start]} LIMIT {limit + 1}\n{query[start:]}"
    return f"{query}\nLIMIT {limit + 1}"


def _row_bound(body: bytes, fmt: ox.QueryResultsFormat) -> int:
    """At least the number of rows in *body*, counted without parsing it (exact for TSV and XML)."""
    if fmt == ox.QueryResultsFormat.TSV:
        return body.count(b"\n") - 1  # newlines inside literals are written as \\n
    if fmt == ox.QueryResultsFormat.XML:
        return body.count(b"<result>")  # a '<' inside a literal is written as &lt;
    if fmt == ox.QueryResultsFormat.CSV:
        return body.count(b"\n") - 1  # plus any newline quoted inside a value
    return body.count(b"[{") + body.count(b",{")  # JSON: a row opens after '[' or ','; terms after ':'


def _row_count(body: bytes, fmt: ox.QueryResultsFormat) -> int:
    if fmt == ox.QueryResultsFormat.CSV:
        return sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1
    if fmt == ox.QueryResultsFormat.JSON:
        return len(json.loads(body)["results"]["bindings"])
    return _row_bound(body, fmt)


def _solutions_bytes(result: ox.QuerySolutions, fmt: ox.QueryResultsFormat, limit: int) -> bytes:
    """The solutions written by Oxigraph; refused when there are more than *limit*.

    The rows are counted in the written bytes, not as Python objects: a
    cheap upper bound first, and a real parse only when that bound passes
    the cap (rare: a result near the cap, or literals that look like rows).
    """
    body = result.serialize(format=fmt) or b""  # None only when given a file
    if _row_bound(body, fmt) > limit and _row_count(body, fmt) > limit:
        raise _too_large(limit, "rows")
    return body


def evaluate(
    store: ox.Store, query: str, dataset: Dataset, accept: str | None, limit: int, base_iri: str | None = None
) -> Answer:
    """Run *query* on a pyoxigraph store and serialize the answer in the negotiated format, capped at *limit*."""
    capped, declares = _reading(query, limit)
    options = _query_options(declares, dataset)
    try:
        result = None
        if capped is not None:
            try:
                result = store.query(capped, base_iri=base_iri, **options)  # type: ignore[arg-type]
            except SyntaxError:
                result = None  # our rewrite tripped on something: the query as given says what is wrong
        if result is None:
            result = store.query(query, base_iri=base_iri, **options)  # type: ignore[arg-type]
        if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
            media = negotiate(accept, list(RESULTS_FORMATS), _RESULTS_DEFAULT)
            fmt = RESULTS_FORMATS[media]
            if isinstance(result, ox.QueryBoolean):
                return Answer(_RESULTS_TYPE[fmt], result.serialize(format=fmt) or b"")
            return Answer(_RESULTS_TYPE[fmt], _solutions_bytes(result, fmt, limit))
        media = negotiate(accept, list(GRAPH_FORMATS), _GRAPH_DEFAULT)
        graph_fmt = GRAPH_FORMATS[media]
        triples = _capped(result, limit, "triples")
        return Answer(_GRAPH_TYPE[graph_fmt], ox.serialize(triples, format=graph_fmt))  # type: ignore[arg-type]
    except SyntaxError as exc:
        raise ProtocolError(400, f"SPARQL syntax error: {exc}", "QuerySyntaxError") from None
    except RuntimeError as exc:  # pyoxigraph's evaluation errors: an unknown function, an unbound SERVICE, …
        raise ProtocolError(400, f"the query cannot be evaluated: {exc}", "QueryEvaluationError") from None
    except OSError as exc:
        raise ProtocolError(500, f"the store could not be read: {exc}", "StoreError") from None


def recap(media: str, body: bytes, accept: str | None, limit: int) -> Answer:
    """A remote server's answer (its *media* type and *body*) in the client's format, under the same result cap
    as a local one."""
    if media == "application/sparql-results+json":
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        chosen = negotiate(accept, list(RESULTS_FORMATS), _RESULTS_DEFAULT)
        fmt = RESULTS_FORMATS[chosen]
        if isinstance(parsed, ox.QueryBoolean):
            return Answer(_RESULTS_TYPE[fmt], parsed.serialize(format=fmt) or b"")
        return Answer(_RESULTS_TYPE[fmt], _solutions_bytes(parsed, fmt, limit))
    if media == "application/n-triples":
        chosen = negotiate(accept, list(GRAPH_FORMATS), _GRAPH_DEFAULT)
        parsed_triples = (q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        triples = _capped(parsed_triples, limit, "triples")
        return Answer(_GRAPH_TYPE[GRAPH_FORMATS[chosen]], ox.serialize(triples, format=GRAPH_FORMATS[chosen]))  # type: ignore[arg-type]
    raise ProtocolError(502, f"the SPARQL server answered with an unexpected type '{media}'", "StoreError")
