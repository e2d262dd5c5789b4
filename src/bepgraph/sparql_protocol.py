"""The SPARQL 1.1 Protocol without HTTP: content negotiation, the dataset, updates, and guarded execution.

The router (``http/sparql.py``) only reads the request and writes the
response; everything it decides on is here, so it can be tested and reused
without a server.

Why queries run in other processes: pyoxigraph evaluates a query in Rust
and cannot be interrupted from Python, so a timeout that only stops
*waiting* would leave a runaway query eating a core for as long as it
likes. Queries go to a small pool of pre-forked workers
(:mod:`bepgraph.query_workers`) that share the in-memory store's pages
copy-on-write; a worker past its deadline is killed and forked again on the
next demand, and every worker is retired after a write, so later queries
see it. Updates run in the server process itself. An on-disk store is
reopened read-only in each worker (RocksDB's background threads do not
survive a fork); a remote SPARQL server gets the timeout as its HTTP
timeout, and the request is dropped when it passes.

Why the result cap is a rewrite: a SELECT gets ``LIMIT cap+1``
(:func:`capped_select`), so the engine stops early, and the answer Oxigraph
serialized is counted as bytes; no row becomes a Python object.
"""

from __future__ import annotations

import asyncio
import binascii
import csv
import functools
import hmac
import io
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pyoxigraph as ox

from .errors import QueryError
from .query_workers import Handler, Outcome, WorkerDied, WorkerPool
from . import raw_writes
from .sparql_guard import GuardError, check_query, check_update
from .sparql_derived import (DerivedGraphsRefused, answer_with_derived_graphs, named_derived_dates,
                             refuse_derived_graphs)
from .store import EmbeddedStore, RemoteStore, Store

__all__ = [
    "Answer",
    "Dataset",
    "ProtocolError",
    "QueryRunner",
    "capped_select",
    "declares_dataset",
    "graph_iris",
    "negotiate",
    "parse_form",
    "rewrite_update",
    "token_matches",
]

RESULTS_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_RESULTS_DEFAULT = "application/sparql-results+json"
_GRAPH_DEFAULT = "text/turtle"
# the media types written back: the first one of each format above
_RESULTS_TYPE = {fmt: media for media, fmt in reversed(RESULTS_FORMATS.items())}
_GRAPH_TYPE = {fmt: media for media, fmt in reversed(GRAPH_FORMATS.items())}


class ProtocolError(QueryError):
    """A request the Protocol answers with an error status: *status* is the HTTP status to send."""

    def __init__(self, status: int, detail: str, kind: str = "QueryError") -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind


def graph_iris(names: Sequence[str], parameter: str) -> tuple[str, ...]:
    """*names* checked as IRIs, as the Protocol's graph parameters must be."""
    for name in names:
        try:
            ox.NamedNode(name)
        except ValueError:
            raise ProtocolError(400, f"{parameter} '{name}' is not an absolute IRI", "MalformedQuery") from None
    return tuple(names)


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset named by the request; ``None`` lists mean "not given"."""

    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None

    @classmethod
    def of(cls, default: Sequence[str], named: Sequence[str]) -> "Dataset":
        """The dataset a request names; a name that is not an absolute IRI is the client's error (400)."""
        if not default and not named:
            return cls()
        return cls(graph_iris(default, "default-graph-uri"), graph_iris(named, "named-graph-uri"))

    @property
    def given(self) -> bool:
        return self.default_graphs is not None


@dataclass(frozen=True)
class Answer:
    media_type: str
    body: bytes | bytearray  # a worker's answer stays in the buffer it was read into


# --- content negotiation ----------------------------------------------------------------------

def _accepted(accept: str | None) -> list[tuple[float, int, str]]:
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept or "*/*").split(",")):
        parts = [p.strip() for p in item.split(";")]
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if parts[0] and quality > 0:
            ranges.append((-quality, position, parts[0].lower()))
    return sorted(ranges)


def negotiate(accept: str | None, offered: Sequence[str], default: str) -> str:
    """The media type of *offered* the client prefers (``*/*`` gets *default*); 406 if none."""
    for _, _, wanted in _accepted(accept):
        if wanted == "*/*":
            return default
        if wanted.endswith("/*"):
            prefix = wanted[:-1]
            if default.startswith(prefix):
                return default
            match = next((o for o in offered if o.startswith(prefix)), None)
        else:
            match = wanted if wanted in offered else None
        if match:
            return match
    raise ProtocolError(406, f"none of the accepted types ({accept}) can carry this answer; "
                             f"ask for one of: {', '.join(offered)}", "NotAcceptable")


# --- reading a form ------------------------------------------------------------------------------

# a '%' that does not start a valid escape (a search led by the literal '%' skips ahead at C speed)
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(raw: bytes) -> str:
    """``urllib.parse.unquote_plus`` of UTF-8 *raw*, strictly, with the escapes decoded in C.

    Why: ``unquote`` decodes escape by escape in Python; a curated query
    posted as a form has hundreds of them (0.1 ms of a 1 ms request). With
    '%' read as '=', quoted-printable decoding (``binascii.a2b_qp``) is the
    same operation, whenever nothing else in *raw* means something to it.
    """
    if b"%" not in raw:
        return raw.replace(b"+", b" ").decode()
    # what a2b_qp would read otherwise: a raw '=' (a soft line break, or an escape to it), a raw
    # line break, or a '%' that is no escape
    if b"=" in raw or b"\r" in raw or b"\n" in raw or _BAD_ESCAPE.search(raw):
        return unquote_plus(raw.decode(), errors="strict")
    return binascii.a2b_qp(raw.replace(b"+", b" ").replace(b"%", b"=")).decode()


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """The fields of an ``application/x-www-form-urlencoded`` body or a query string, as
    ``parse_qsl(..., keep_blank_values=True)`` gives them; :class:`UnicodeDecodeError` for bytes or escapes
    that are not UTF-8."""
    fields: list[tuple[str, str]] = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        fields.append((_unquote_plus(name), _unquote_plus(value)))
    return fields


# --- reading query and update text --------------------------------------------------------------

_TOKENS = re.compile(
    r"""(?P<skip>\#[^\n]*|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<open>\{)|(?P<close>\})|(?P<semi>;)"""
    r"""|(?P<word>(?<![\w:?$@-])[A-Za-z]+(?![\w:-]))""",
)


def _keywords(*words: str) -> re.Pattern[str]:
    """The same tokens plus parentheses, but only *words*: everything else is skipped at regex speed.

    The lookahead lets the engine pass over a position that cannot start a
    token without trying every branch (a 2.5 kB banner took 0.25 ms, now 0.06).
    """
    starts = "".join(sorted({w[0].upper() + w[0].lower() for w in words}))
    pattern = (_TOKENS.pattern.replace("|(?P<semi>;)", "|(?P<paren>[()])")
               .replace("[A-Za-z]+(?![\\w:-])", f"(?i:{'|'.join(words)})(?![\\w:-])"))
    return re.compile(f"(?=[#\"'<{{}}()" + starts + "])(?:" + pattern + ")")


_CAP_WORDS = _keywords("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "LIMIT", "VALUES")
_FROM_WORD = _keywords("FROM")


def _top_level_words(text: str) -> Iterable[tuple[str, int, int, int]]:
    """(upper-cased word or ';', start, end, brace depth) for every keyword outside strings and IRIs."""
    depth = 0
    for m in _TOKENS.finditer(text):
        if m.group("skip"):
            continue
        if m.group("open"):
            depth += 1
        elif m.group("close"):
            depth -= 1
        elif m.group("semi"):
            yield ";", m.start(), m.end(), depth
        else:
            yield m.group("word").upper(), m.start(), m.end(), depth


def _scan(text: str, tokens: re.Pattern[str] = _CAP_WORDS) -> Iterable[tuple[str, int, int, int, int]]:
    """(upper-cased keyword or '{' or '}', start, end, brace depth before it, paren depth) outside strings and IRIs."""
    depth = parens = 0
    for m in tokens.finditer(text):
        if m.group("skip"):
            continue
        if m.group("paren"):
            parens += 1 if m.group("paren") == "(" else -1
        elif m.group("open"):
            yield "{", m.start(), m.end(), depth, parens
            depth += 1
        elif m.group("close"):
            depth -= 1
            yield "}", m.start(), m.end(), depth, parens
        elif m.group("word"):
            yield m.group("word").upper(), m.start(), m.end(), depth, parens


def declares_dataset(query: str) -> bool:
    """Whether the query names its own dataset (``FROM``/``FROM NAMED``), which the union default must not override."""
    return any(word == "FROM" and depth == 0 for word, _, _, depth, _ in _scan(query, _FROM_WORD))


def rewrite_update(update: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """*update* with the Protocol's ``using-graph-uri``/``using-named-graph-uri`` written as USING clauses.

    pyoxigraph takes no dataset for an update, so the dataset goes where the
    grammar puts it: before the ``WHERE`` of every DELETE/INSERT operation.
    An operation that already says USING or WITH is a conflict (the
    Protocol's rule), and so is a ``DELETE WHERE`` shortcut, which has no
    place for USING.
    """
    if not using and not using_named:
        return update
    using, using_named = graph_iris(using, "using-graph-uri"), graph_iris(using_named, "using-named-graph-uri")
    clause = " " + " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named]) + " "
    inserts: list[int] = []
    words: list[str] = []
    for word, start, _, depth in list(_top_level_words(update)) + [(";", len(update), len(update), 0)]:
        if depth != 0:
            continue
        if word == ";":
            words = []
            continue
        words.append(word)
        if word in ("USING", "WITH"):
            raise ProtocolError(400, "the update names its own dataset (USING or WITH) and the request "
                                     "gives using-graph-uri/using-named-graph-uri: give only one of them")
        if word == "WHERE" and words[:1] in (["DELETE"], ["INSERT"]):
            if words[:2] == ["DELETE", "WHERE"]:
                raise ProtocolError(400, "using-graph-uri cannot apply to DELETE WHERE { … }; "
                                         "write DELETE { … } WHERE { … } instead")
            inserts.append(start)
    for at in reversed(inserts):
        update = update[:at] + clause + update[at:]
    return update


def token_matches(expected: str | None, authorization: str | None) -> bool:
    """Whether an ``Authorization: Bearer …`` header carries *expected* (compared in constant time)."""
    if not expected or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


# --- evaluating a query to bytes ------------------------------------------------------------------

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

    Why: the two scans cost 0.1–0.4 ms for a curated query with its banner
    (a tenth to a third of what a small query takes in all), and analysts'
    tools send the same text again and again (YASGUI re-runs, dashboards).
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
    words = iter(_scan(query))
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
    body = result.serialize(format=fmt)
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
                return Answer(_RESULTS_TYPE[fmt], result.serialize(format=fmt))
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


# --- the runner: pre-forked query processes, a deadline, a kill ------------------------------------

def _query_handler(store: EmbeddedStore) -> Handler:
    """Made in each worker: the store it reads (an on-disk one reopened read-only), and how it answers."""
    path = None if store.location == "memory" else store.location
    target = ox.Store.read_only(path) if path else store.reader()

    def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        dataset = Dataset(*(tuple(g) if g is not None else None for g in request["dataset"]))
        try:
            if path is not None:  # an in-memory store's derived graphs never reach a query process
                refuse_derived_graphs(request["query"], _graphs_of(dataset), "an on-disk store")
            answer = evaluate(target, request["query"], dataset, request["accept"], request["limit"],
                              request["base_iri"])
        except ProtocolError as exc:
            return {"ok": False, "status": exc.status, "kind": exc.kind, "detail": str(exc)}, b""
        except DerivedGraphsRefused as exc:
            return {"ok": False, "status": exc.status, "kind": "QueryError", "detail": str(exc)}, b""
        return {"ok": True, "media_type": answer.media_type}, answer.body

    return handle


def _loads(update: str) -> bool:
    """Whether *update* has a LOAD operation (its failures are the source's, not the store's)."""
    return any(word == "LOAD" for word, _, _, _ in _top_level_words(update))


def _graphs_of(dataset: Dataset) -> tuple[str, ...]:
    return (dataset.default_graphs or ()) + (dataset.named_graphs or ())


class QueryRunner:
    """Runs the endpoint's queries under a timeout that really stops them, and its updates in place."""

    def __init__(self, store: Store, timeout_s: float, result_limit: int, max_workers: int = 8,
                 service_allow: Sequence[str] = ()) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.result_limit = result_limit
        self.service_allow = tuple(service_allow)  # the only endpoints SERVICE and LOAD may reach
        self._http = httpx.Client() if isinstance(store, RemoteStore) else None
        self.workers = (WorkerPool(store, lambda: _query_handler(store), max_workers)
                        if isinstance(store, EmbeddedStore) else None)

    # queries

    def guard(self, text: str, base_iri: str | None, update: bool = False) -> None:
        """Refuse (400) a text that would call out or nest too deep, before any worker or store sees it."""
        try:
            (check_update if update else check_query)(text, base_iri, self.service_allow)
        except GuardError as exc:
            raise ProtocolError(400, str(exc), exc.kind) from None

    def query(self, text: str, dataset: Dataset, accept: str | None, base_iri: str | None = None) -> Answer:
        self.guard(text, base_iri)
        if isinstance(self.store, RemoteStore):
            return self._remote_query(text, dataset, accept)
        days = self._derived_days(text, dataset)
        if days:
            return self._with_derived(days, text, dataset, accept, base_iri)
        workers = self._workers()
        try:
            return self._answer(workers.run(self._request(text, dataset, accept, base_iri), self._deadline()))
        except WorkerDied as exc:
            raise ProtocolError(500, str(exc), "StoreError") from None

    async def query_async(self, text: str, dataset: Dataset, accept: str | None, base_iri: str | None = None) -> Answer:
        """:meth:`query` from an event loop, which waits for the worker itself (see ``WorkerPool.run_async``)."""
        self.guard(text, base_iri)
        if isinstance(self.store, RemoteStore):
            outcome = await asyncio.to_thread(self._remote_outcome, text, dataset, accept)
            if isinstance(outcome, ProtocolError):
                raise outcome
            return outcome
        days = self._derived_days(text, dataset)
        if days:
            return await asyncio.to_thread(self._with_derived, days, text, dataset, accept, base_iri)
        workers = self._workers()
        try:
            outcome = await workers.run_async(self._request(text, dataset, accept, base_iri), self._deadline())
        except WorkerDied as exc:
            raise ProtocolError(500, str(exc), "StoreError") from None
        return self._answer(outcome)

    def _derived_days(self, text: str, dataset: Dataset) -> list[Any]:
        """The dates of the derived graphs the query names, if the store is in memory (sparql_derived.py)."""
        if not (isinstance(self.store, EmbeddedStore) and self.store.location == "memory"):
            return []  # a query process of an on-disk store refuses them itself
        try:
            return named_derived_dates(text, _graphs_of(dataset))
        except DerivedGraphsRefused as exc:
            raise ProtocolError(exc.status, str(exc)) from None

    def _with_derived(self, days: list[Any], text: str, dataset: Dataset, accept: str | None,
                      base_iri: str | None) -> Answer:
        limit = self.result_limit
        ok, value = answer_with_derived_graphs(
            self.store, days, lambda raw: evaluate(raw, text, dataset, accept, limit, base_iri), self.timeout_s)
        if not ok:
            raise ProtocolError(*value)
        return value  # type: ignore[no-any-return]

    def _workers(self) -> WorkerPool:
        if self.workers is None:
            raise ProtocolError(501, f"the SPARQL endpoint cannot serve a {type(self.store).__name__}", "StoreError")
        return self.workers

    def _deadline(self) -> float:
        return time.monotonic() + self.timeout_s

    def _request(self, text: str, dataset: Dataset, accept: str | None, base_iri: str | None) -> dict[str, Any]:
        return {"query": text, "dataset": [dataset.default_graphs, dataset.named_graphs], "accept": accept,
                "limit": self.result_limit, "base_iri": base_iri}

    def _answer(self, outcome: Outcome | None) -> Answer:
        if outcome is None:
            raise ProtocolError(503, f"the query was stopped after {self.timeout_s:g} s (the query timeout); "
                                     "narrow it, or raise BEPGRAPH_QUERY_TIMEOUT", "QueryTimeout")
        head, body = outcome
        if not head["ok"]:
            raise ProtocolError(int(head["status"]), head["detail"], head["kind"])
        return Answer(head["media_type"], body)

    def _remote_outcome(self, text: str, dataset: Dataset, accept: str | None) -> Answer | ProtocolError:
        """The remote answer or its error, with the error's frames let go on this thread (pyoxigraph
        results may only be dropped on the thread that made them)."""
        try:
            return self._remote_query(text, dataset, accept)
        except ProtocolError as exc:
            return exc.with_traceback(None)

    def _remote_query(self, text: str, dataset: Dataset, accept: str | None) -> Answer:
        store = self.store
        assert isinstance(store, RemoteStore) and self._http is not None
        try:
            refuse_derived_graphs(text, _graphs_of(dataset), "a remote store")
        except DerivedGraphsRefused as exc:
            raise ProtocolError(exc.status, str(exc)) from None
        params = [("query", text)]
        params += [("default-graph-uri", g) for g in dataset.default_graphs or ()]
        params += [("named-graph-uri", g) for g in dataset.named_graphs or ()]
        try:
            response = self._http.post(
                store.query_url, content=str(httpx.QueryParams(params)), timeout=self.timeout_s,
                headers={"Accept": "application/sparql-results+json, application/n-triples;q=0.9",
                         "Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.TimeoutException:
            raise ProtocolError(503, f"the query was stopped after {self.timeout_s:g} s (the query timeout)",
                                "QueryTimeout") from None
        except httpx.HTTPError as exc:
            raise ProtocolError(502, f"the SPARQL server could not be reached: {exc}", "StoreError") from None
        if response.status_code >= 400:
            raise ProtocolError(400 if response.status_code < 500 else 502, response.text.strip()[:1000])
        media = response.headers.get("content-type", "").split(";")[0].strip()
        return self._recap(media, response.content, accept)

    def _recap(self, media: str, body: bytes, accept: str | None) -> Answer:
        """The remote answer in the client's format, under the same result cap as a local one."""
        if media == "application/sparql-results+json":
            parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            chosen = negotiate(accept, list(RESULTS_FORMATS), _RESULTS_DEFAULT)
            fmt = RESULTS_FORMATS[chosen]
            if isinstance(parsed, ox.QueryBoolean):
                return Answer(_RESULTS_TYPE[fmt], parsed.serialize(format=fmt))
            return Answer(_RESULTS_TYPE[fmt], _solutions_bytes(parsed, fmt, self.result_limit))
        if media == "application/n-triples":
            chosen = negotiate(accept, list(GRAPH_FORMATS), _GRAPH_DEFAULT)
            parsed_triples = (q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
            triples = _capped(parsed_triples, self.result_limit, "triples")
            return Answer(_GRAPH_TYPE[GRAPH_FORMATS[chosen]], ox.serialize(triples, format=GRAPH_FORMATS[chosen]))  # type: ignore[arg-type]
        raise ProtocolError(502, f"the SPARQL server answered with an unexpected type '{media}'", "StoreError")

    # updates

    def update(self, text: str, using: Sequence[str], using_named: Sequence[str], base_iri: str | None) -> None:
        """Apply an update in place, so every later query sees it.

        pyoxigraph's errors are mapped as SPARQL 1.1 Update asks: an operation
        on a graph that does not exist (CLEAR, DROP, MOVE) or one that does
        (CREATE) fails the request unless it says SILENT, and so does a LOAD
        whose source cannot be read or parsed; all are the client's (400).
        """
        store = self.store
        self.guard(text, base_iri, update=True)
        if isinstance(store, RemoteStore):
            params = [("update", text)] + [("using-graph-uri", g) for g in using] \
                + [("using-named-graph-uri", g) for g in using_named]

            def post(text: str) -> None:
                try:
                    assert self._http is not None
                    response = self._http.post(store.update_url, content=str(httpx.QueryParams(
                        [("update", text)] + params[1:])), headers={
                            "Content-Type": "application/x-www-form-urlencoded"}, timeout=self.timeout_s)
                except httpx.HTTPError as exc:
                    raise ProtocolError(502, f"the SPARQL server could not be reached: {exc}", "StoreError") from None
                if response.status_code >= 400:
                    raise ProtocolError(400, response.text.strip()[:1000])

            raw_writes.apply(store, text, post)
            return
        if not isinstance(store, EmbeddedStore):
            raise ProtocolError(501, f"the SPARQL endpoint cannot update a {type(store).__name__}", "StoreError")
        rewritten = rewrite_update(text, using, using_named)
        with store.write_lock:
            try:
                raw_writes.apply(store, rewritten, lambda text: store.reader().update(text, base_iri=base_iri))
            except SyntaxError as exc:
                raise ProtocolError(400, f"SPARQL Update syntax error: {exc}", "QuerySyntaxError") from None
            except RuntimeError as exc:
                raise ProtocolError(400, f"the update failed and changed nothing: {exc} (SILENT ignores "
                                         "this failure)", "UpdateError") from None
            except OSError as exc:
                if _loads(rewritten):
                    raise ProtocolError(400, f"the LOAD source could not be read: {exc}; nothing was changed",
                                        "UpdateError") from None
                raise ProtocolError(503, f"the store could not be written: {exc}", "StoreError") from None
            finally:
                store.mark_written()  # the query processes forked before now are retired

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self.workers is not None:
            self.workers.close()
