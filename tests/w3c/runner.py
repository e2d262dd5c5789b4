"""Replays the W3C SPARQL 1.1 Protocol and Graph Store Protocol manifests against a live server.

Each test is an ordered list of HTTP requests (``ht:requests``) with the
expected status class and, for 2xx answers, a boolean, a result format, a
content type or an RDF body. Requests go out through ``http.client``, which
adds no headers of its own (``urllib`` would add a form content type to
every POST and hide the ``bad_*_missing_*_type`` cases).

The manifests are read from the committed copy beside this file, or from
``../shared/w3c`` of a checkout when the copy is missing.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
import uvicorn
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

__all__ = ["Request", "W3CTest", "check", "load_tests", "manifest_dir", "running", "send"]

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")

HERE = Path(__file__).resolve().parent
STATUS: dict[str, Callable[[int], bool]] = {
    "StatusCode2xx": lambda s: 200 <= s < 300,
    "StatusCode3xx": lambda s: 300 <= s < 400,
    "StatusCode4xx": lambda s: 400 <= s < 500,
    "OK": lambda s: s == 200,
    "Created": lambda s: s == 201,
    "NoContent": lambda s: s == 204,
    "NotFound": lambda s: s == 404,
}


def manifest_dir(name: str) -> Path:
    """The committed copy of a W3C suite, else the read-only ``shared/`` beside the checkout."""
    for root in (HERE, HERE.parents[2] / "shared" / "w3c", HERE.parents[1].parent / "shared" / "w3c"):
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"the W3C suite {name} is neither in {HERE} nor in ../shared/w3c")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: list[str]
    boolean: bool | None = None
    result_format: str | None = None
    location_var: str | None = None
    response_type: str | None = None
    response_body: str | None = None


@dataclass
class W3CTest:
    id: str
    name: str
    requests: list[Request]
    graph_data: list[tuple[Path, str]] = field(default_factory=list)


def _headers(g: Graph, node: object) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in g.objects(node, HT.headers):
        for h in Collection(g, item):
            headers[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
    return headers


def _request(g: Graph, node: object) -> Request:
    body_node = g.value(node, HT.body)
    body = None
    if body_node is not None:
        encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(g.value(body_node, CNT.chars)).encode(encoding.lower().replace("utf-16", "utf-16"))
    resp = g.value(node, HT.resp)
    boolean = g.value(resp, MF.expectedBoolean)
    response_body = g.value(resp, HT.body)
    response_headers = _headers(g, resp)
    return Request(
        method=str(g.value(node, HT.methodName)),
        path=str(g.value(node, HT.absolutePath)),
        headers=_headers(g, node),
        body=body,
        statuses=[str(s).rsplit("#", 1)[1] for s in g.objects(resp, MF.expectedStatus)],
        boolean=None if boolean is None else bool(boolean.toPython()),
        result_format=str(g.value(resp, MF.expectedFormat)) if g.value(resp, MF.expectedFormat) else None,
        location_var=str(g.value(resp, MF.expectedLocation)) if g.value(resp, MF.expectedLocation) else None,
        response_type=response_headers.get("content-type"),
        response_body=None if response_body is None else str(g.value(response_body, CNT.chars)),
    )


def load_tests(suite: str, kind: str) -> list[W3CTest]:
    """Every test of class ``mf:{kind}`` in the suite's manifests, in file order."""
    folder = manifest_dir(suite)
    g = Graph()
    for path in sorted(folder.glob("manifest*.ttl")):
        g.parse(path, format="turtle", publicID=path.as_uri())
    tests: list[W3CTest] = []
    for test in g.subjects(RDF.type, MF[kind]):
        action = g.value(test, MF.action)
        requests = [_request(g, r) for r in Collection(g, g.value(action, HT.requests))]
        data = [(folder / Path(str(g.value(d, UT.graph))).name, str(g.value(d, RDFS.label)))
                for d in g.objects(test, UT.graphData)]
        tests.append(W3CTest(str(test).rsplit("#", 1)[1], str(g.value(test, MF.name)), requests, sorted(data)))
    return sorted(tests, key=lambda t: t.id)


@dataclass
class Sent:
    status: int
    headers: dict[str, str]
    body: bytes


def send(port: int, request: Request, path: str, extra: dict[str, str], variables: dict[str, str]) -> Sent:
    """One request exactly as the manifest gives it (plus *extra* headers), through ``http.client``."""
    headers = {"host": "www.example", **request.headers, **extra}
    body = request.body
    for name, value in variables.items():
        path = path.replace(name, value)
        if body is not None:
            body = body.replace(name.encode(), value.encode())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(request.method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Sent(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def check(request: Request, sent: Sent) -> list[str]:
    """What is wrong with *sent* as an answer to *request* (empty: it passed)."""
    problems: list[str] = []
    if not any(STATUS[s](sent.status) for s in request.statuses):
        problems.append(f"{request.method} {request.path}: status {sent.status}, expected {request.statuses}: "
                        f"{sent.body[:300]!r}")
        return problems
    if not 200 <= sent.status < 300:
        return problems
    media = sent.headers.get("content-type", "").split(";")[0].strip()
    if request.result_format in ("boolean", "tabular"):
        fmt = ox.QueryResultsFormat.from_media_type(media)
        if fmt is None:
            return [f"{request.path}: '{media}' is not a result format"]
        parsed = ox.parse_query_results(sent.body, format=fmt)
        expected_type = ox.QueryBoolean if request.result_format == "boolean" else ox.QuerySolutions
        if not isinstance(parsed, expected_type):
            problems.append(f"{request.path}: expected {request.result_format} results, got {type(parsed).__name__}")
        elif request.boolean is not None and bool(parsed) != request.boolean:
            problems.append(f"{request.path}: ASK answered {bool(parsed)}, expected {request.boolean}")
    elif request.result_format == "RDF":
        fmt = ox.RdfFormat.from_media_type(media)
        if fmt is None:
            return [f"{request.path}: '{media}' is not an RDF format"]
        list(ox.parse(sent.body, format=fmt))
    if request.response_type is not None:
        want = request.response_type.split(";")[0].strip().lower()
        if media.lower() != want:
            problems.append(f"{request.path}: content type {media}, expected {want}")
    if request.response_body is not None and request.method != "HEAD":
        expected = Graph().parse(data=request.response_body, format="turtle")
        got = Graph().parse(data=sent.body.decode(), format="turtle")
        if not isomorphic(expected, got):
            problems.append(f"{request.path}: the graph returned differs from the expected one:\n"
                            f"{sent.body.decode()}")
    return problems


@contextmanager
def running(app: object, port: int, deadline_s: float = 30.0, headers: dict[str, str] | None = None) -> Iterator[str]:
    """Serve *app* with uvicorn on 127.0.0.1:*port* in a thread until the block ends; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    until = time.monotonic() + deadline_s
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2.0, headers=headers).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > until or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the app did not answer /healthz on port {port} within {deadline_s}s")
        time.sleep(0.02)  # poll interval, bounded by the deadline
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
