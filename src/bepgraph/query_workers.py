"""Pre-forked query processes that hold the store copy-on-write and can be killed mid-query.

Why processes: pyoxigraph evaluates a query in Rust and cannot be
interrupted from Python, so a timeout that only stops *waiting* would leave a
runaway query eating a core. Why a pool: forking the server for every query
cost 16–20 ms (page tables of the whole store), more than most curated
queries take. A worker is forked once, shares the in-memory store's pages,
and answers one request at a time over a pair of pipes; it is SIGKILLed and
reaped when its deadline passes, and forked again on the next demand.

A worker sees the store as it was when it was forked, so every worker is
tagged with the store's write generation (:attr:`EmbeddedStore.generation`)
and retired once it changes: after any write, the next query runs in a fresh
fork that sees it. Forks happen under the store's write lock, never in the
middle of a write.

The framing on the pipes: an 8-byte length and a JSON request; back, an
8-byte length and a JSON header, then an 8-byte length and the body.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import select
import signal
import struct
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .store import EmbeddedStore

__all__ = ["Handler", "WorkerDied", "WorkerPool"]

# Runs in the worker: the request in, (header, body) out. Built once per worker, in the worker.
Handler = Callable[[dict[str, Any]], tuple[dict[str, Any], bytes]]
_LENGTH = struct.Struct("!Q")


class WorkerDied(Exception):
    """The worker process ended without answering (killed by the kernel, or crashed)."""


@dataclass(eq=False)  # each worker is itself: hashed by identity
class _Worker:
    pid: int
    requests: int  # parent writes requests here
    answers: int  # parent reads answers here
    generation: int


def _read_exactly(fd: int, size: int) -> bytes | None:
    """*size* bytes from a blocking *fd*, or None at EOF (the worker side: no deadline, it just waits)."""
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _serve(requests: int, answers: int, make_handler: Callable[[], Handler]) -> None:  # pragma: no cover - child
    """The worker's life: answer requests until the parent closes the pipe (or dies), then leave."""
    code = 0
    try:
        handle = make_handler()
        while True:
            size = _read_exactly(requests, _LENGTH.size)
            if size is None:
                break
            raw = _read_exactly(requests, _LENGTH.unpack(size)[0])
            if raw is None:
                break
            try:
                head, body = handle(json.loads(raw))
            except BaseException as exc:  # noqa: BLE001 - a worker always answers
                head, body = {"ok": False, "status": 500, "kind": type(exc).__name__, "detail": str(exc)}, b""
            encoded = json.dumps(head).encode()
            _write_all(answers, _LENGTH.pack(len(encoded)) + encoded + _LENGTH.pack(len(body)) + body)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _stop(worker: _Worker) -> None:
    """Kill and reap a worker, and close the parent's ends of its pipes."""
    for fd in (worker.requests, worker.answers):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.kill(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(worker.pid, 0)
    except ChildProcessError:
        pass


def _stop_all(workers: set[_Worker]) -> None:
    for worker in list(workers):
        _stop(worker)
    workers.clear()


class WorkerPool:
    """At most *max_workers* query processes over one embedded store, each answering one request at a time."""

    def __init__(self, store: EmbeddedStore, make_handler: Callable[[], Handler], max_workers: int = 8) -> None:
        self.store = store
        self._make_handler = make_handler
        self._slots = threading.BoundedSemaphore(max_workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        # the workers go with the pool, or at the latest when the interpreter exits
        self._finalizer = weakref.finalize(self, _stop_all, self._workers)

    @property
    def pids(self) -> set[int]:
        """The live workers' process ids (for tests and the service's own bookkeeping)."""
        with self._lock:
            return {w.pid for w in self._workers}

    def run(self, request: dict[str, Any], deadline: float) -> tuple[dict[str, Any], bytes] | None:
        """The answer to *request*, or None when *deadline* (``time.monotonic()``) passed and the worker was killed."""
        if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return None
        try:
            worker = self._checkout()
            try:
                encoded = json.dumps(request).encode()
                _write_all(worker.requests, _LENGTH.pack(len(encoded)) + encoded)
                answer = self._receive(worker, deadline)
            except BaseException:
                self._discard(worker)
                raise
            if answer is None:
                self._discard(worker)  # past the deadline: stop the query for real
                return None
            self._checkin(worker)
            return answer
        finally:
            self._slots.release()

    async def run_async(self, request: dict[str, Any], deadline: float) -> tuple[dict[str, Any], bytes] | None:
        """:meth:`run` for an event loop: with an idle worker at hand, the loop itself sends and waits.

        Why: every thread a request passes through must be scheduled again,
        and on a busy machine each wake-up costs milliseconds; here the only
        hop is to the worker and back. When a worker must first be forked (or
        all are busy) the blocking :meth:`run` does it in a thread instead.
        """
        worker = self._take_idle()
        if worker is None:
            return await asyncio.to_thread(self.run, request, deadline)
        try:
            encoded = json.dumps(request).encode()
            _write_all(worker.requests, _LENGTH.pack(len(encoded)) + encoded)
            answer = await _receive_async(worker.answers, deadline)
        except BaseException:  # also a cancelled request: its query is stopped with its worker
            self._discard(worker)
            raise
        finally:
            self._slots.release()
        if answer is None:
            self._discard(worker)
            return None
        self._checkin(worker)
        return answer

    def close(self) -> None:
        with self._lock:
            self._idle.clear()
            _stop_all(self._workers)

    def _take_idle(self) -> _Worker | None:
        """A slot and an idle worker of the current generation, without waiting or forking; else None."""
        if not self._slots.acquire(blocking=False):
            return None
        with self._lock:
            generation = self.store.generation
            while self._idle:
                worker = self._idle.pop()
                if worker.generation == generation:
                    return worker
                self._workers.discard(worker)
                _stop(worker)
        self._slots.release()
        return None

    # the workers

    def _checkout(self) -> _Worker:
        with self._lock:
            generation = self.store.generation
            while self._idle:
                worker = self._idle.pop()
                if worker.generation == generation:
                    return worker
                self._workers.discard(worker)
                _stop(worker)  # forked before a write: it would answer from the old data
            return self._fork()

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if worker.generation == self.store.generation and worker in self._workers:
                self._idle.append(worker)
                return
            self._workers.discard(worker)
        _stop(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
        _stop(worker)

    def _fork(self) -> _Worker:
        """A new worker (called holding the pool lock, so no other fork or pipe is half made)."""
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        with self.store.write_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded server is the point here
            generation = self.store.generation
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker
            # keep only its own pipe ends: a worker holding the server's sockets would keep
            # connections open after the server closed them; gc stays off so no finalizer
            # touches a closed descriptor that a file opened later reuses
            gc.disable()
            _close_all_but(request_r, answer_w)
            _serve(request_r, answer_w, self._make_handler)
        os.close(request_r)
        os.close(answer_w)
        worker = _Worker(pid, request_w, answer_r, generation)
        self._workers.add(worker)
        return worker

    @staticmethod
    def _receive(worker: _Worker, deadline: float) -> tuple[dict[str, Any], bytes] | None:
        reader = _DeadlineReader(worker.answers, deadline)
        head_size = reader.read(_LENGTH.size)
        if head_size is None:
            return None
        head_raw = reader.read(_LENGTH.unpack(head_size)[0])
        body_size = reader.read(_LENGTH.size) if head_raw is not None else None
        body = reader.read(_LENGTH.unpack(body_size)[0]) if body_size is not None else None
        if head_raw is None or body is None:
            return None
        return json.loads(head_raw), body


async def _receive_async(fd: int, deadline: float) -> tuple[dict[str, Any], bytes] | None:
    """The framed answer on *fd*, read by the running loop as it arrives; None past *deadline*."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[dict[str, Any], bytes]] = loop.create_future()
    data = bytearray()

    def readable() -> None:
        chunk = os.read(fd, 1 << 20)
        if done.done():
            return
        if not chunk:
            done.set_exception(WorkerDied("the query process ended without an answer"))
            return
        data.extend(chunk)
        answer = _framed(data)
        if answer is not None:
            done.set_result(answer)

    loop.add_reader(fd, readable)
    try:
        return await asyncio.wait_for(done, timeout=max(0.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        return None
    finally:
        loop.remove_reader(fd)


def _framed(data: bytearray) -> tuple[dict[str, Any], bytes] | None:
    """The header and body once *data* holds all of them."""
    size = _LENGTH.size
    if len(data) < size:
        return None
    head_end = size + _LENGTH.unpack_from(data)[0]
    if len(data) < head_end + size:
        return None
    body_end = head_end + size + _LENGTH.unpack_from(data, head_end)[0]
    if len(data) < body_end:
        return None
    return json.loads(bytes(data[size:head_end])), bytes(data[head_end + size:body_end])


def _close_all_but(*keep: int) -> None:  # pragma: no cover - the worker
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


class _DeadlineReader:
    """Reads exact byte counts from a pipe until a deadline; raises WorkerDied at an early EOF."""

    def __init__(self, fd: int, deadline: float) -> None:
        self.fd = fd
        self.deadline = deadline
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN | select.POLLHUP)

    def read(self, size: int) -> bytes | None:
        chunks: list[bytes] = []
        while size:
            left = self.deadline - time.monotonic()
            if left <= 0:
                return None
            if not self.poller.poll(max(1, int(left * 1000))):
                continue
            chunk = os.read(self.fd, min(size, 1 << 20))
            if not chunk:
                raise WorkerDied("the query process ended without an answer")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)
