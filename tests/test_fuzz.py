"""Seeded, bounded fuzzing of every input door: bundles, the filing, SPARQL and GraphQL requests.

Each campaign is a few hundred cases from a fixed seed (the same cases every
run, so a failure can be replayed), and all of them take seconds. What must
hold for each case:

- a bundle or filing either loads (exit 0) or is rejected (exit 2) with
  every problem located by file (and line where a line is at fault), and the
  store is exactly as it was after a rejection;
- a SPARQL or GraphQL request never gets a 5xx (a query stopped by the
  timeout, 503 QueryTimeout, is the one documented exception), never a
  traceback in its body, and the server logs nothing at ERROR for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from bepgraph.errors import BundleError, InputError
from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.resources import filing_path
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .servers import free_port
from .w3c.runner import running

SEED = 13
TOKEN = "fuzz-token"


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Records at ERROR or above from the app, strawberry and uvicorn (whose loggers do not reach the root)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.ERROR)
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "strawberry", "bepgraph")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


# --- mutations ---------------------------------------------------------------------------------------

WEIRD = [b"", b"\x00", b"\xff\xfe", b'"', b'""', b",", b"\r", b"\n", b"\xef\xbb\xbf", b"-1", b"1e9999", b"NaN",
         b"2004-02-30", b"9999-99-99", "é\u202e".encode(), b"x" * 5000, b";;;", b"<script>", b"%s%n", b"\\"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random edit of *data*: a byte, a line, a cell or a truncation."""
    lines = data.split(b"\n")
    choice = rng.randrange(9)
    if choice == 0 and data:
        at = rng.randrange(len(data))
        return data[:at] + data[at + 1:]
    if choice == 1:
        at = rng.randrange(len(data) + 1)
        return data[:at] + bytes([rng.randrange(256)]) + data[at:]
    if choice == 2:
        return data[:rng.randrange(len(data) + 1)]
    if choice == 3 and len(lines) > 1:
        at = rng.randrange(len(lines))
        lines.insert(at, lines[rng.randrange(len(lines))])
        return b"\n".join(lines)
    if choice == 4 and len(lines) > 1:
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if choice == 5:
        at = rng.randrange(len(lines))
        cells = lines[at].split(b",")
        cells[rng.randrange(len(cells))] = rng.choice(WEIRD)
        lines[at] = b",".join(cells)
        return b"\n".join(lines)
    if choice == 6:
        at = rng.randrange(len(lines))
        cells = lines[at].split(b",")
        if len(cells) > 1:
            i, j = rng.randrange(len(cells)), rng.randrange(len(cells))
            cells[i], cells[j] = cells[j], cells[i]
        lines[at] = b",".join(cells)
        return b"\n".join(lines)
    if choice == 7:
        return rng.choice(WEIRD) + data
    return data.replace(b",", b";", 1) if rng.random() < 0.5 else data + b"\n" + rng.choice(WEIRD)


def _fingerprint(store: EmbeddedStore) -> str:
    return hashlib.sha256(store.dump(ox.RdfFormat.N_QUADS)).hexdigest()


# --- bundles and the filing ---------------------------------------------------------------------------

def test_mutated_bundles_load_or_are_rejected_with_located_problems_and_the_store_unchanged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    original = write_bundle(tmp_path / "original", MINI)
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path / "base", MINI)])
    names = sorted(p.name for p in original.iterdir())
    outcomes = {0: 0, 2: 0}
    before = _fingerprint(store)
    for case in range(200):
        bundle = tmp_path / "mutant"
        shutil.rmtree(bundle, ignore_errors=True)
        shutil.copytree(original, bundle)
        for _ in range(rng.randrange(1, 4)):
            name = rng.choice(names)
            (bundle / name).write_bytes(mutate((bundle / name).read_bytes(), rng))
        try:
            load_all(store, [bundle], with_ontology=False, with_filing=False)
            outcomes[0] += 1
            before = _fingerprint(store)  # a bundle that loads changes the store, as it should
        except BundleError as exc:
            outcomes[2] += 1
            assert exc.exit_code == 2
            assert exc.problems, case
            for problem in exc.problems:
                assert problem.file.endswith(".csv") and problem.line > 0 and problem.reason, (case, problem)
                assert str(problem).startswith(f"{problem.file}:{problem.line}"), (case, problem)
            assert _fingerprint(store) == before, f"case {case}: a rejected bundle changed the store"
    assert outcomes[0] and outcomes[2], outcomes  # the campaign reached both outcomes


def test_mutated_filings_load_or_are_rejected_with_exit_2(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    text = filing_path().read_bytes()
    bundle = write_bundle(tmp_path / "bundle", MINI)
    outcomes = {0: 0, 2: 0}
    for case in range(60):
        filing = tmp_path / "filing.txt"
        mutated = text
        for _ in range(rng.randrange(1, 6)):
            mutated = mutate(mutated, rng)
        filing.write_bytes(mutated)
        store = EmbeddedStore()
        try:
            load_all(store, [bundle], filing, with_ontology=False)
            outcomes[0] += 1
        except InputError as exc:
            outcomes[2] += 1
            assert exc.exit_code == 2 and str(exc), case
            assert store.count() == 0, f"case {case}: a rejected filing left data in the store"
    assert outcomes[0], outcomes


# --- SPARQL and GraphQL requests ----------------------------------------------------------------------

SPARQL_SEEDS = [
    "PREFIX bep: <https://w3id.org/bepgraph/ontology#> SELECT ?t ?d WHERE { ?t a bep:Transaction ; bep:date ?d } "
    "ORDER BY ?d LIMIT 5",
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s) && STRLEN(STR(?s)) > 3) }",
    "ASK { ?s ?p \"x\"@en }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r } } LIMIT 3",
    "SELECT ?s WHERE { { ?s a ?c } UNION { ?s ?p 1.5e3 } MINUS { ?s ?p ?s } VALUES ?c { <urn:a> <urn:b> } }",
    "DESCRIBE <https://w3id.org/bepgraph/data/series/S-1>",
    "SELECT (SUM(?v) AS ?x) WHERE { BIND(xsd:integer(\"12\") AS ?v) } GROUP BY ?v HAVING (?x > 0)",
]
UPDATE_SEEDS = [
    "INSERT DATA { GRAPH <http://example.org/fuzz> { <urn:a> <urn:b> \"c\" } }",
    "DELETE WHERE { GRAPH <http://example.org/fuzz> { ?s ?p ?o } }",
    "CLEAR SILENT GRAPH <http://example.org/fuzz> ; CREATE SILENT GRAPH <http://example.org/fuzz>",
    "WITH <http://example.org/fuzz> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
]
SPARQL_WORDS = ["{", "}", "(", ")", ".", ";", ",", "SELECT", "WHERE", "OPTIONAL", "UNION", "FILTER", "SERVICE",
                "LOAD", "GRAPH", "?x", "<urn:q>", "\"s\"", "'''", "#", "!", "&&", "*", "LIMIT", "-1",
                "<file:///etc/passwd>", "<http://127.0.0.1:1/>", "PREFIX p: <urn:p>", "p:x", "BASE <x>",
                "DROP", "CLEAR", "CREATE", "SILENT", "DEFAULT", "ALL", "\\u0000", "\x00", "\ud7ff"]


def _tokens_mutated(text: str, rng: random.Random, words: list[str]) -> str:
    parts = text.split(" ")
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(4)
        at = rng.randrange(len(parts))
        if choice == 0 and len(parts) > 1:
            del parts[at]
        elif choice == 1:
            parts.insert(at, rng.choice(words))
        elif choice == 2:
            parts[at] = rng.choice(words)
        else:
            parts.insert(at, parts[rng.randrange(len(parts))] * rng.randrange(1, 200))
    return " ".join(parts)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)])
    settings = Settings(load_on_start=False, allow_updates=True, token=TOKEN, query_timeout_s=0.5,
                        result_limit=1000, max_body=256 * 1024)
    with running(create_app(settings, store=store), free_port()) as base:
        yield base


def _check(answer: httpx.Response, case: object) -> None:
    if answer.status_code == 503:
        assert answer.json()["error"] == "QueryTimeout", (case, answer.text[:300])
    else:
        assert answer.status_code < 500, (case, answer.status_code, answer.text[:300])
    assert "Traceback" not in answer.text and "Internal error" not in answer.text, case


@pytest.mark.server
def test_fuzzed_sparql_requests_never_get_a_5xx_or_a_traceback(app: str) -> None:
    rng = random.Random(SEED)
    auth = {"authorization": f"Bearer {TOKEN}"}
    with errors_logged() as errors, httpx.Client(base_url=app, timeout=30) as client:
        for case in range(300):
            update = rng.random() < 0.3
            text = _tokens_mutated(rng.choice(UPDATE_SEEDS if update else SPARQL_SEEDS), rng, SPARQL_WORDS)
            how = rng.randrange(5)
            if how == 0:
                answer = client.get("/sparql", params={"update" if update else "query": text})
            elif how == 1:
                answer = client.post("/sparql", data={"update" if update else "query": text}, headers=auth)
            elif how == 2:
                media = "application/sparql-update" if update else "application/sparql-query"
                answer = client.post("/sparql", content=text.encode("utf-8", "surrogatepass"),
                                     headers=auth | {"content-type": media})
            elif how == 3:
                raw = mutate(text.encode("utf-8", "surrogatepass"), rng)
                answer = client.post("/sparql", content=raw, headers=auth | {
                    "content-type": rng.choice(["application/sparql-query", "application/sparql-update",
                                                "application/x-www-form-urlencoded", "text/plain",
                                                "application/sparql-query; charset=latin-1", ""])})
            else:
                answer = client.get("/sparql", params={"query": text, rng.choice(
                    ["default-graph-uri", "named-graph-uri", "query", "x"]): rng.choice(SPARQL_WORDS)},
                    headers={"accept": rng.choice(["*/*", "text/csv", "application/x-nothing",
                                                   "text/turtle;q=0", "application/sparql-results+xml;q=abc"])})
            _check(answer, (case, how, text[:200]))
    assert not errors, [r.getMessage()[:300] for r in errors]


GRAPHQL_SEEDS = [
    "{ allSeries(first: 3) { totalCount nodes { id name } pageInfo { hasNextPage endCursor } } }",
    "query ($id: ID!) { series(id: $id) { ... on Series { id name trades(first: 2) { nodes { id } } } "
    "... on NotFound { message } } }",
    "{ findings(asOf: \"2004-06-30\") { totalCount } }",
    "{ trustees(first: 2) { nodes { id status(asOf: \"2004-01-01\") { interested } } } }",
    "{ __schema { types { name } } }",
]
GRAPHQL_WORDS = ["{", "}", "(", ")", ":", "...", "$id", "first: -1", "first: 100000", "after: \"x\"", "asOf: \"x\"",
                 "__typename", "fragment F on Query { __typename }", "...F", "@skip(if: true)", "\"\\u0000\"",
                 "mutation", "subscription", "query", "#", "\x00", "1e9999", "null"]


@pytest.mark.server
def test_fuzzed_graphql_requests_never_get_a_5xx_or_a_traceback(app: str) -> None:
    rng = random.Random(SEED)
    variables_choices: list[object] = [None, {}, {"id": "S-1"}, {"id": 1}, {"id": None}, [], "x", {"id": {"a": 1}},
                                       {"id": "x" * 10_000}]
    with errors_logged() as errors, httpx.Client(base_url=app, timeout=30) as client:
        for case in range(300):
            query = _tokens_mutated(rng.choice(GRAPHQL_SEEDS), rng, GRAPHQL_WORDS)
            how = rng.randrange(4)
            accept = rng.choice(["application/json", "application/graphql-response+json", "*/*"])
            if how == 0:
                body: object = {"query": query, "variables": rng.choice(variables_choices)}
                answer = client.post("/graphql", json=body, headers={"accept": accept})
            elif how == 1:
                answer = client.get("/graphql", params={"query": query, "variables": json.dumps(
                    rng.choice(variables_choices))}, headers={"accept": accept})
            elif how == 2:
                raw = mutate(json.dumps({"query": query}).encode(), rng)
                answer = client.post("/graphql", content=raw, headers={"content-type": "application/json",
                                                                         "accept": accept})
            else:
                answer = client.post("/graphql", content=query.encode("utf-8", "surrogatepass"), headers={
                    "content-type": rng.choice(["application/graphql", "text/plain", "application/json", ""]),
                    "accept": accept})
            _check(answer, (case, how, query[:200]))
    assert not errors, [r.getMessage()[:300] for r in errors]
