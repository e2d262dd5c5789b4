"""/graphql as GraphQL over HTTP: malformed bodies are 400 GraphQL errors, the response media type and its
status codes, and the graphql-http audit (npm) run against the live server: every audit ok."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .graphql_server import Served, serve

ROOT = Path(__file__).resolve().parent.parent
RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)])
    with serve(store) as running:
        yield running


BAD_BODIES = {
    "null": b"null",
    "a string": b'"x"',
    "a huge number": b"1e9999",
    "a number": b"1",
    "an array": b"[]",
    "nested 50,000 deep": b"[" * 50_000 + b"]" * 50_000,
    "an object nested 50,000 deep": b'{"query": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    "not JSON": b"{query: x}",
    "not UTF-8": b'{"query": "\xff"}',
    "query not a string": b'{"query": 1}',
    "variables not an object": b'{"query": "{ __typename }", "variables": "x"}',
    "no query": b"{}",
}


@pytest.mark.server
def test_bodies_that_are_not_a_graphql_request_are_400_graphql_errors_and_the_connection_survives(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), httpx.Client(base_url=served.url) as client:
        for name, body in BAD_BODIES.items():
            answer = client.post("/graphql", content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 400, (name, answer.status_code, answer.text[:200])
            errors = answer.json()["errors"]
            assert errors and errors[0]["message"] and "Traceback" not in answer.text, name
            # the same keep-alive connection still answers
            assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage()[:200] for r in caplog.records]


@pytest.mark.server
def test_graphql_response_json_gets_400_without_data_for_documents_that_do_not_parse_or_validate(served: Served) -> None:
    for query in ("{", "{ noSuchField }", "query ($id: Int!) { __typename }"):
        modern = httpx.post(served.url + "/graphql", json={"query": query}, headers={"accept": RESPONSE})
        assert modern.status_code == 400 and modern.headers["content-type"].startswith(RESPONSE), query
        assert "data" not in modern.json() and modern.json()["errors"], query
        legacy = httpx.post(served.url + "/graphql", json={"query": query}, headers={"accept": "application/json"})
        assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json"), query
    fine = httpx.post(served.url + "/graphql", json={"query": "{ __typename }"}, headers={"accept": RESPONSE})
    assert fine.status_code == 200 and fine.headers["content-type"].startswith(RESPONSE)
    refused = httpx.post(served.url + "/graphql", json={"query": "{ __typename }"}, headers={"accept": "text/csv"})
    assert refused.status_code == 406 and refused.json()["errors"]


@pytest.mark.server
def test_the_graphql_http_audit_passes_every_audit(served: Served) -> None:
    node = shutil.which("node")
    assert node, "node is needed for the graphql-http audit (it comes with npm, which `make` uses)"
    assert (ROOT / "web" / "node_modules" / "graphql-http").is_dir(), "run `make install` (web/package.json)"
    run = subprocess.run([node, str(ROOT / "web" / "graphql-audit.mjs"), served.url + "/graphql"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT / "web")
    assert run.returncode == 0, run.stderr[-2000:]
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(results) >= 50
    failing = [(r["name"], r["reason"]) for r in results if r["status"] != "ok"]
    assert not failing, failing
