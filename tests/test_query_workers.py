"""The endpoint's query runner without HTTP: pre-forked workers, their retirement after writes, and the result cap.

Real pyoxigraph stores and real forked processes; the explosive query is a
five-way cross product that would run for hours if nothing stopped it.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from bepgraph.endpoint.protocol import Dataset, ProtocolError
from bepgraph.endpoint.results import capped_select, evaluate
from bepgraph.endpoint.runner import QueryRunner
from bepgraph.store import EmbeddedStore

from .processes import state

EX = "http://example.org/"
# 20 triples to the 7th power: over a billion rows, so no machine finishes it within the 1 s timeout
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o . ?p ?q ?r . ?s ?t ?u }"
# literals that look like rows to a byte count: JSON row openers, an XML result tag, newlines, quotes
TRICKY = ['a,{"b"', '[{x}]', "<result>", "line\nbreak", 'say "hi", then\r\nleave', "plain"]


def _store(rows: int = 20) -> EmbeddedStore:
    store = EmbeddedStore()
    store.oxigraph.extend(ox.Quad(ox.NamedNode(f"{EX}s{i:02d}"), ox.NamedNode(EX + "p"),
                                  ox.Literal(TRICKY[i % len(TRICKY)]), ox.NamedNode(EX + "g"))
                          for i in range(rows))
    return store


@pytest.fixture
def runner() -> Iterator[QueryRunner]:
    made = QueryRunner(_store(), timeout_s=1.0, result_limit=1000)
    yield made
    made.close()


def _ask(runner: QueryRunner, query: str) -> bool:
    answer = runner.query(query, Dataset(), "application/sparql-results+json")
    return b'"boolean":true' in answer.body


# --- the pool -------------------------------------------------------------------------------------

def test_queries_reuse_one_worker_instead_of_forking_each_time(runner: QueryRunner) -> None:
    assert runner.workers is not None
    for _ in range(5):
        assert _ask(runner, f"ASK {{ <{EX}s01> <{EX}p> ?o }}")
    assert len(runner.workers.pids) == 1


def test_a_write_retires_the_workers_so_the_next_query_sees_it(runner: QueryRunner) -> None:
    assert runner.workers is not None
    ask = f"ASK {{ <{EX}new> <{EX}p> 1 }}"
    assert not _ask(runner, ask)
    (before,) = runner.workers.pids
    runner.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}new> <{EX}p> 1 }} }}", [], [], None)
    assert _ask(runner, ask)
    assert before not in runner.workers.pids and state(before) == "gone"
    store = runner.store
    assert isinstance(store, EmbeddedStore)
    store.oxigraph.remove(ox.Quad(ox.NamedNode(EX + "new"), ox.NamedNode(EX + "p"), ox.Literal(1),
                                  ox.NamedNode(EX + "g")))  # a write through the raw store counts too
    assert not _ask(runner, ask)


def test_a_worker_keeps_none_of_the_servers_descriptors(runner: QueryRunner) -> None:
    assert runner.workers is not None
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        inode = os.fstat(listening.fileno()).st_ino
        assert _ask(runner, "ASK {}")
        (pid,) = runner.workers.pids
        held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    assert f"socket:[{inode}]" not in held
    assert sum(1 for target in held if target.startswith("socket:")) == 0
    assert sum(1 for target in held if target.startswith("pipe:")) <= 2 + 3  # its two pipes (+ inherited stdio)


def test_an_explosive_query_is_killed_at_the_deadline_and_the_next_query_gets_a_fresh_worker(
    runner: QueryRunner,
) -> None:
    assert runner.workers is not None
    assert _ask(runner, "ASK {}")
    start = time.monotonic()
    with pytest.raises(ProtocolError) as stopped:
        runner.query(EXPLOSIVE, Dataset(), None)
    assert stopped.value.status == 503 and stopped.value.kind == "QueryTimeout"
    assert time.monotonic() - start < 1.0 + 1.0
    assert not [pid for pid in runner.workers.pids if state(pid) in "RD"]
    assert _ask(runner, f"ASK {{ <{EX}s01> <{EX}p> ?o }}")


def test_a_worker_that_dies_mid_query_gives_a_clear_error_not_a_hang(runner: QueryRunner) -> None:
    assert runner.workers is not None
    assert _ask(runner, "ASK {}")
    (pid,) = runner.workers.pids
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            runner.query(EXPLOSIVE, Dataset(), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 5
    while state(pid) != "R" and time.monotonic() < deadline:
        time.sleep(0.01)  # poll until the worker is busy, bounded by the deadline
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    thread.join(timeout=5)
    error = outcome["error"]
    assert isinstance(error, ProtocolError) and error.status == 500
    assert "ended without an answer" in str(error)


# --- the result cap -------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_the_cap_counts_rows_exactly_in_every_format(accept: str) -> None:
    store = _store(rows=12)
    query = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s"
    at_cap = evaluate(store.engine(), query, Dataset(), accept, 12)
    assert at_cap.media_type == accept
    with pytest.raises(ProtocolError) as over:
        evaluate(store.engine(), query, Dataset(), accept, 11)
    assert over.value.status == 413 and "11" in str(over.value)
    limited = evaluate(store.engine(), query + " LIMIT 11", Dataset(), accept, 11)
    assert limited.body != at_cap.body


CAPPED_CASES = [
    ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY DESC(?s)", True),
    ("SELECT ?o ?s WHERE { ?s ?p ?o } ORDER BY ?o LIMIT 3", False),  # within the cap already
    ("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s OFFSET 2 LIMIT 500", True),  # lowered
    ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s VALUES ?o { \"plain\" \"<result>\" }", True),
    ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } }", True),
    ("PREFIX ex: <http://example.org/> SELECT DISTINCT ?o (STRLEN(?o) AS ?len) FROM <http://example.org/g> "
     "WHERE { ?s ex:p ?o } ORDER BY ?len ?o # the end", True),
]


@pytest.mark.parametrize("query, rewritten", CAPPED_CASES)
def test_the_cap_rewrite_keeps_the_answer_variables_and_order(query: str, rewritten: bool) -> None:
    store = _store(rows=20).engine()
    capped = capped_select(query, 100)
    assert (capped is not None) == rewritten
    assert capped is None or capped.rstrip().endswith("LIMIT 101") or "LIMIT 101" in capped
    fmt = ox.QueryResultsFormat.JSON
    as_given = store.query(query, use_default_graph_as_union=True).serialize(format=fmt)
    as_capped = store.query(capped or query, use_default_graph_as_union=True).serialize(format=fmt)
    assert as_capped == as_given


def test_ask_construct_and_describe_are_not_rewritten() -> None:
    for query in ("ASK { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }", "DESCRIBE ?s WHERE { ?s ?p ?o }",
                  "PREFIX select: <http://example.org/> ASK { ?s select:limit ?o }"):
        assert capped_select(query, 10) is None


# --- the pipe -------------------------------------------------------------------------------------

def test_an_answer_larger_than_the_pipe_arrives_whole_on_both_paths() -> None:
    """Several MiB (past the first read and the 1 MiB pipe), read by the blocking and the event-loop path."""
    import asyncio

    store = EmbeddedStore()
    store.oxigraph.extend(ox.Quad(ox.NamedNode(f"{EX}s{i:05d}"), ox.NamedNode(EX + "p"),
                                  ox.Literal(f"{i:05d} " + "x" * 200), ox.NamedNode(EX + "g"))
                          for i in range(20_000))
    query = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s"
    expected = evaluate(store.engine(), query, Dataset(), None, 100_000).body
    assert len(expected) > 4 << 20
    runner = QueryRunner(store, timeout_s=30.0, result_limit=100_000)
    try:
        blocking = runner.query(query, Dataset(), None).body
        looped = asyncio.run(runner.query_async(query, Dataset(), None)).body
    finally:
        runner.close()
    assert blocking == expected
    assert looped == expected
