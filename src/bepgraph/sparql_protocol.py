"""The SPARQL 1.1 Protocol without HTTP: content negotiation, the dataset, updates, and guarded execution.

The router (``http/sparql.py``) only reads the request and writes the
response; everything it decides on is here, so it can be tested and reused
without a server.

Why queries run in a forked child process: pyoxigraph evaluates a query in
Rust and cannot be interrupted from Python, so a timeout that only stops
*waiting* would leave a runaway query eating a core for as long as it
likes. A child forked per query shares the in-memory store's pages
copy-on-write, answers through a pipe, and is killed when the deadline
passes; the server's own threads keep answering meanwhile. Updates run in
the server process itself, so every later fork sees them. An on-disk store
is reopened read-only in the child (RocksDB's background threads do not
survive a fork); a remote SPARQL server gets the timeout as its HTTP
timeout, and the request is dropped when it passes.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import select
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

import httpx
import pyoxigraph as ox

from .errors import QueryError
from .store import EmbeddedStore, RemoteStore, Store

__all__ = [
    "Answer",
    "Dataset",
    "ProtocolError",
    "QueryRunner",
    "declares_dataset",
    "negotiate",
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


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset named by the request; ``None`` lists mean "not given"."""

    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None

    @classmethod
    def of(cls, default: Sequence[str], named: Sequence[str]) -> "Dataset":
        if not default and not named:
            return cls()
        return cls(tuple(default), tuple(named))

    @property
    def given(self) -> bool:
        return self.default_graphs is not None


@dataclass(frozen=True)
class Answer:
    media_type: str
    body: bytes


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


# --- reading query and update text --------------------------------------------------------------

_TOKENS = re.compile(
    r"""(?P<skip>\#[^\n]*|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<open>\{)|(?P<close>\})|(?P<semi>;)"""
    r"""|(?P<word>(?<![\w:?$@-])[A-Za-z]+(?![\w:-]))""",
)


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


def declares_dataset(query: str) -> bool:
    """Whether the query names its own dataset (``FROM``/``FROM NAMED``), which the union default must not override."""
    return any(word == "FROM" for word, _, _, depth in _top_level_words(query) if depth == 0)


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
    clause = " " + " ".join([f"USING <{ox.NamedNode(g).value}>" for g in using]
                            + [f"USING NAMED <{ox.NamedNode(g).value}>" for g in using_named]) + " "
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

def _query_options(query: str, dataset: Dataset) -> dict[str, object]:
    if dataset.given:
        return {
            "default_graph": [ox.NamedNode(g) for g in dataset.default_graphs or ()] or [ox.DefaultGraph()],
            "named_graphs": [ox.NamedNode(g) for g in dataset.named_graphs or ()],
        }
    if declares_dataset(query):
        return {}
    return {"use_default_graph_as_union": True}


def _capped(rows: Iterable[object], limit: int, what: str) -> list[object]:
    kept = list(islice(rows, limit + 1))
    if len(kept) > limit:
        raise ProtocolError(413, f"the answer has more than {limit} {what} (the result cap); add a LIMIT "
                                 "or aggregate, or raise BEPGRAPH_RESULT_LIMIT", "ResultTooLarge")
    return kept


def _solutions_bytes(result: ox.QuerySolutions, fmt: ox.QueryResultsFormat, limit: int) -> bytes:
    """Serialize at most *limit* solutions: counted in Python, written by Oxigraph through a TSV round trip."""
    names = [v.value for v in result.variables]
    rows = _capped(result, limit, "rows")
    lines = ["\t".join("?" + n for n in names)]
    for row in rows:
        lines.append("\t".join("" if row[n] is None else str(row[n]) for n in names))  # type: ignore[index]
    tsv = ("\n".join(lines) + "\n").encode()
    if fmt == ox.QueryResultsFormat.TSV:
        return tsv
    return ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=fmt)


def evaluate(
    store: ox.Store, query: str, dataset: Dataset, accept: str | None, limit: int, base_iri: str | None = None
) -> Answer:
    """Run *query* on a pyoxigraph store and serialize the answer in the negotiated format, capped at *limit*."""
    try:
        result = store.query(query, base_iri=base_iri, **_query_options(query, dataset))  # type: ignore[arg-type]
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
    except OSError as exc:
        raise ProtocolError(500, f"the store could not be read: {exc}", "StoreError") from None


# --- the runner: one child per query, a deadline, a kill -----------------------------------------

_HEADER_LIMIT = 1 << 16


def _child(write_fd: int, work: Callable[[], Answer]) -> None:
    """Runs in the forked child: evaluate, write ``header\\n`` + body to the pipe, and leave without cleanup."""
    code = 0
    try:
        try:
            answer = work()
            head = {"ok": True, "media_type": answer.media_type}
            body = answer.body
        except ProtocolError as exc:
            head, body = {"ok": False, "status": exc.status, "kind": exc.kind, "detail": str(exc)}, b""
        except BaseException as exc:  # noqa: BLE001 - the child must always answer, then exit
            head, body = {"ok": False, "status": 500, "kind": type(exc).__name__, "detail": str(exc)}, b""
        data = json.dumps(head).encode() + b"\n" + body
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything written to *fd* until EOF, or None if the deadline passes first."""
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if not poller.poll(max(1, int(left * 1000))):
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class QueryRunner:
    """Runs the endpoint's queries under a timeout that really stops them, and its updates in place."""

    def __init__(self, store: Store, timeout_s: float, result_limit: int, max_children: int = 8) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.result_limit = result_limit
        self._children = threading.BoundedSemaphore(max_children)
        self._http = httpx.Client() if isinstance(store, RemoteStore) else None

    # queries

    def query(self, text: str, dataset: Dataset, accept: str | None, base_iri: str | None = None) -> Answer:
        if isinstance(self.store, RemoteStore):
            return self._remote_query(text, dataset, accept)
        if not isinstance(self.store, EmbeddedStore):
            raise ProtocolError(501, f"the SPARQL endpoint cannot serve a {type(self.store).__name__}", "StoreError")
        store = self.store
        path = None if store.location == "memory" else store.location

        def work() -> Answer:
            target = ox.Store.read_only(path) if path else store.oxigraph
            return evaluate(target, text, dataset, accept, self.result_limit, base_iri)

        with self._children:
            return self._in_child(work, store)

    def _in_child(self, work: Callable[[], Answer], store: EmbeddedStore) -> Answer:
        read_fd, write_fd = os.pipe()
        with store.write_lock, warnings.catch_warnings():
            # fork while no writer holds the store; the child only evaluates and writes to the pipe
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process
            os.close(read_fd)
            _child(write_fd, work)
        os.close(write_fd)
        data: bytes | None = None
        try:
            data = _read_until(read_fd, time.monotonic() + self.timeout_s)
        finally:
            os.close(read_fd)
            if data is None:  # past the deadline (or interrupted): stop the query for real
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if data is None:
            raise ProtocolError(503, f"the query was stopped after {self.timeout_s:g} s (the query timeout); "
                                     "narrow it, or raise BEPGRAPH_QUERY_TIMEOUT", "QueryTimeout")
        head, _, body = data.partition(b"\n")
        if not head or len(head) > _HEADER_LIMIT:
            raise ProtocolError(500, "the query process ended without an answer", "StoreError")
        info = json.loads(head)
        if not info["ok"]:
            raise ProtocolError(int(info["status"]), info["detail"], info["kind"])
        return Answer(info["media_type"], body)

    def _remote_query(self, text: str, dataset: Dataset, accept: str | None) -> Answer:
        store = self.store
        assert isinstance(store, RemoteStore) and self._http is not None
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
        """Apply an update in place, so every later query sees it."""
        store = self.store
        if isinstance(store, RemoteStore):
            params = [("update", text)] + [("using-graph-uri", g) for g in using] \
                + [("using-named-graph-uri", g) for g in using_named]
            try:
                assert self._http is not None
                response = self._http.post(store.update_url, content=str(httpx.QueryParams(params)),
                                            headers={"Content-Type": "application/x-www-form-urlencoded"},
                                            timeout=self.timeout_s)
            except httpx.HTTPError as exc:
                raise ProtocolError(502, f"the SPARQL server could not be reached: {exc}", "StoreError") from None
            if response.status_code >= 400:
                raise ProtocolError(400, response.text.strip()[:1000])
            return
        if not isinstance(store, EmbeddedStore):
            raise ProtocolError(501, f"the SPARQL endpoint cannot update a {type(store).__name__}", "StoreError")
        rewritten = rewrite_update(text, using, using_named)
        with store.write_lock:
            try:
                store.oxigraph.update(rewritten, base_iri=base_iri)
            except SyntaxError as exc:
                raise ProtocolError(400, f"SPARQL Update syntax error: {exc}", "QuerySyntaxError") from None
            except OSError as exc:
                raise ProtocolError(500, f"the store could not be written: {exc}", "StoreError") from None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
