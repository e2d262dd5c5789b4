"""The endpoint's runner: each query under a timeout that really stops it, each update in place.

Why queries run in other processes: pyoxigraph evaluates a query in Rust
and cannot be interrupted from Python, so a timeout that only stops
*waiting* would leave a runaway query eating a core for as long as it
likes. Queries go to a small pool of pre-forked workers
(:mod:`bepgraph.endpoint.workers`) that share the in-memory store's pages
copy-on-write; a worker past its deadline is killed and forked again on the
next demand, and every worker is retired after a write, so later queries
see it. Updates run in the server process itself. An on-disk store is
reopened read-only in each worker (RocksDB's background threads do not
survive a fork); a store that is itself a SPARQL server gets the request
handed on with the timeout as its HTTP timeout, and the request is dropped
when it passes.

The runner asks the store what it can do (:attr:`Store.forwards`,
:attr:`Store.forkable`, :attr:`Store.copyable_by_fork`), never which class
it is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from ..errors import LoadUnderWay, StoreError, StoreUnreachable
from ..raw_writes import apply as raw_apply
from ..store import Store
from .derived import DerivedGraphsRefused, answer_with_derived_graphs, named_derived_dates, refuse_derived_graphs
from .guard import GuardError, check_query, check_update
from .protocol import Answer, Dataset, ProtocolError
from .results import evaluate, recap
from .updates import loads, rewrite_update
from .workers import Handler, Outcome, WorkerDied, WorkerPool

__all__ = ["QueryRunner"]


def _query_handler(store: Store) -> Handler:
    """Made in each worker: the store it reads (an on-disk one reopened read-only), and how it answers."""
    target = store.fork_reader()
    on_disk = not store.copyable_by_fork

    def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes | bytearray]:
        dataset = Dataset(*(tuple(g) if g is not None else None for g in request["dataset"]))
        try:
            if on_disk:  # an in-memory store's derived graphs never reach a query process
                refuse_derived_graphs(request["query"], _graphs_of(dataset), "an on-disk store")
            answer = evaluate(target, request["query"], dataset, request["accept"], request["limit"],
                              request["base_iri"])
        except ProtocolError as exc:
            return {"ok": False, "status": exc.status, "kind": exc.kind, "detail": str(exc)}, b""
        except DerivedGraphsRefused as exc:
            return {"ok": False, "status": exc.status, "kind": "QueryError", "detail": str(exc)}, b""
        return {"ok": True, "media_type": answer.media_type}, answer.body

    return handle


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
        self.workers = (WorkerPool(store, lambda: _query_handler(store), max_workers)
                        if store.forkable and not store.forwards else None)

    # queries

    def guard(self, text: str, base_iri: str | None, update: bool = False) -> None:
        """Refuse (400) a text that would call out or nest too deep, before any worker or store sees it."""
        try:
            (check_update if update else check_query)(text, base_iri, self.service_allow)
        except GuardError as exc:
            raise ProtocolError(400, str(exc), exc.kind) from None

    def query(self, text: str, dataset: Dataset, accept: str | None, base_iri: str | None = None) -> Answer:
        self.guard(text, base_iri)
        if self.store.forwards:
            return self._forwarded_query(text, dataset, accept)
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
        if self.store.forwards:
            forwarded = await asyncio.to_thread(self._forwarded_outcome, text, dataset, accept)
            if isinstance(forwarded, ProtocolError):
                raise forwarded
            return forwarded
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
        """The dates of the derived graphs the query names, if the store can be copied to hold them (derived.py)."""
        if not self.store.copyable_by_fork:
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

    def _forwarded_outcome(self, text: str, dataset: Dataset, accept: str | None) -> Answer | ProtocolError:
        """The server's answer or its error, with the error's frames let go on this thread (pyoxigraph
        results may only be dropped on the thread that made them)."""
        try:
            return self._forwarded_query(text, dataset, accept)
        except ProtocolError as exc:
            return exc.with_traceback(None)

    def _forwarded_query(self, text: str, dataset: Dataset, accept: str | None) -> Answer:
        try:
            refuse_derived_graphs(text, _graphs_of(dataset), "a remote store")
        except DerivedGraphsRefused as exc:
            raise ProtocolError(exc.status, str(exc)) from None
        try:
            response = self.store.forward_query(text, dataset.default_graphs or (), dataset.named_graphs or (),
                                                self.timeout_s)
        except StoreUnreachable as exc:
            if exc.timed_out:
                raise ProtocolError(503, f"the query was stopped after {self.timeout_s:g} s (the query timeout)",
                                    "QueryTimeout") from None
            raise ProtocolError(502, f"the SPARQL server could not be reached: {exc}", "StoreError") from None
        except LoadUnderWay as exc:
            raise ProtocolError(503, str(exc), "LoadUnderWay") from None
        if response.status >= 400:
            raise ProtocolError(400 if response.status < 500 else 502, response.body.decode(errors="replace")
                                .strip()[:1000])
        return recap(response.media_type, response.body, accept, self.result_limit)

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
        if store.forwards:
            def forward(update: str) -> None:
                try:
                    response = store.forward_update(update, using, using_named, self.timeout_s)
                except StoreUnreachable as exc:
                    raise ProtocolError(502, f"the SPARQL server could not be reached: {exc}", "StoreError") from None
                except LoadUnderWay as exc:
                    raise ProtocolError(503, str(exc), "LoadUnderWay") from None
                if response.status >= 400:
                    raise ProtocolError(400, response.body.decode(errors="replace").strip()[:1000])

            raw_apply(store, text, forward)  # each fact stays held once (raw_writes.py)
            return
        if not store.forkable:
            raise ProtocolError(501, f"the SPARQL endpoint cannot update a {type(store).__name__}", "StoreError")
        rewritten = rewrite_update(text, using, using_named)
        try:
            raw_apply(store, rewritten, lambda update: store.protocol_update(update, base_iri))
        except SyntaxError as exc:
            raise ProtocolError(400, f"SPARQL Update syntax error: {exc}", "QuerySyntaxError") from None
        except RuntimeError as exc:
            raise ProtocolError(400, f"the update failed and changed nothing: {exc} (SILENT ignores "
                                     "this failure)", "UpdateError") from None
        except OSError as exc:
            if loads(rewritten):
                raise ProtocolError(400, f"the LOAD source could not be read: {exc}; nothing was changed",
                                    "UpdateError") from None
            raise ProtocolError(503, f"the store could not be written: {exc}", "StoreError") from None
        except StoreError as exc:
            raise ProtocolError(501, str(exc), "StoreError") from None

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
