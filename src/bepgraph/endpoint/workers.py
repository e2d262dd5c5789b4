"""Pre-forked query processes that hold the store copy-on-write and can be killed mid-query.

Why processes: pyoxigraph evaluates a query in Rust and cannot be
interrupted from Python, so a timeout that only stops *waiting* would leave a
runaway query eating a core. Why a pool: forking the server for every query
copies the page tables of the whole store, which cost more than most curated
queries take. A worker is forked once, shares the in-memory store's pages,
and answers one request at a time over a pair of pipes; it is SIGKILLed and
reaped when its deadline passes, and forked again on the next demand.

A worker sees the store as it was when it was forked, so every worker is
tagged with the store's write generation (:meth:`Store.write_count`)
and retired once it changes: after any write, the next query runs in a fresh
fork that sees it. Forks happen under the store's write lock, never in the
middle of a write.

The framing on the pipes: an 8-byte length and a JSON request; back, the
8-byte lengths of a JSON header and of the body, then both. The parent reads
the lengths and header with its first read and the body straight into a
buffer of its size (one copy, however large the answer); the answer pipe
holds 1 MiB, so a large answer crosses in few wake-ups.
"""

from __future__ import annotations

import asyncio
import fcntl
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

from ..store import Store

__all__ = ["Handler", "Outcome", "WorkerDied", "WorkerPool"]

# Runs in the worker: the request in, (header, body) out. Built once per worker, in the worker.
Handler = Callable[[dict[str, Any]], tuple[dict[str, Any], bytes | bytearray]]
# what a worker answers: its header and the body (a bytearray, read into place)
Outcome = tuple[dict[str, Any], bytearray]
_LENGTH = struct.Struct("!Q")
_LENGTHS = struct.Struct("!QQ")
_FIRST_READ = 1 << 16  # lengths, header and a small body in one read
_PIPE_SIZE = 1 << 20  # Linux's default pipe-max-size
# workers run this much nicer than the server: with every core busy with runaway queries, the server
# must still get the CPU to notice a deadline, kill the worker and answer (bench_timeouts.py measures it)
_NICENESS = 5
# the worker answers on a thread with this much stack (reserved, touched only as used): pyoxigraph's
# parser and evaluator recurse, and 8 MiB took a query nested 5,000 groups deep down with the process
_STACK_SIZE = 256 << 20


class WorkerDied(Exception):
    """The worker process ended without answering (killed by the kernel, or crashed)."""


@dataclass(eq=False)  # each worker is itself: hashed by identity
class _Worker:
    pid: int
    requests: int  # parent writes requests here
    answers: int  # parent reads answers here
    generation: int | None


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


def _write_answer(fd: int, head: bytes, body: bytes | bytearray) -> None:
    """The framed answer, the body written from where it lies (no copy of a large answer)."""
    parts = [memoryview(_LENGTHS.pack(len(head), len(body)) + head), memoryview(body)]
    while parts:
        written = os.writev(fd, parts)
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if parts:
            parts[0] = parts[0][written:]


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
            _write_answer(answers, json.dumps(head).encode(), body)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _serve_on_a_large_stack(requests: int, answers: int,
                            make_handler: Callable[[], Handler]) -> None:  # pragma: no cover - child
    try:
        threading.stack_size(_STACK_SIZE)
        thread = threading.Thread(target=_serve, args=(requests, answers, make_handler))
        thread.start()
        thread.join()
    finally:
        os._exit(1)  # _serve leaves by os._exit itself; this only runs if the thread could not start


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _stop(worker: _Worker, wait: bool = True) -> None:
    """Kill a worker, close the parent's ends of its pipes, and reap it (in the background unless *wait*).

    Why in the background: a killed process is reaped only once the kernel
    has freed its memory, which for a runaway query holding gigabytes takes
    a while; the request whose deadline passed should not wait for that, nor
    the event loop that answers everyone else.
    """
    for fd in (worker.requests, worker.answers):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.kill(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if wait:
        _reap(worker.pid)
    else:
        threading.Thread(target=_reap, args=(worker.pid,), name=f"reap-{worker.pid}", daemon=True).start()


def _stop_all(workers: set[_Worker]) -> None:
    for worker in list(workers):
        _stop(worker)
    workers.clear()


class WorkerPool:
    """At most *max_workers* query processes over one embedded store, each answering one request at a time."""

    def __init__(self, store: Store, make_handler: Callable[[], Handler], max_workers: int = 8) -> None:
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

    def run(self, request: dict[str, Any], deadline: float) -> Outcome | None:
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

    async def run_async(self, request: dict[str, Any], deadline: float) -> Outcome | None:
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
            worker = self._current_idle()
            if worker is not None:
                return worker
        self._slots.release()
        return None

    def _current_idle(self) -> _Worker | None:
        """An idle worker forked since the last write (called holding the pool lock); the older ones are stopped:
        forked before a write, they would answer from the old data."""
        generation = self.store.write_count()
        while self._idle:
            worker = self._idle.pop()
            if worker.generation == generation:
                return worker
            self._workers.discard(worker)
            _stop(worker)
        return None

    # the workers

    def _checkout(self) -> _Worker:
        with self._lock:
            return self._current_idle() or self._fork()

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if worker.generation == self.store.write_count() and worker in self._workers:
                self._idle.append(worker)
                return
            self._workers.discard(worker)
        _stop(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
        _stop(worker, wait=False)

    def _fork(self) -> _Worker:
        """A new worker (called holding the pool lock, so no other fork or pipe is half made)."""
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        with self.store.fork_lock(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded server is the point here
            generation = self.store.write_count()
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker
            # keep only its own pipe ends: a worker holding the server's sockets would keep
            # connections open after the server closed them; gc stays off so no finalizer
            # touches a closed descriptor that a file opened later reuses
            gc.disable()
            _close_all_but(request_r, answer_w)
            os.nice(_NICENESS)
            _serve_on_a_large_stack(request_r, answer_w, self._make_handler)
        os.close(request_r)
        os.close(answer_w)
        worker = _Worker(pid, request_w, answer_r, generation)
        self._workers.add(worker)
        grow = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only; elsewhere the default size
        if grow is not None:
            try:
                fcntl.fcntl(answer_r, grow, _PIPE_SIZE)
            except OSError:
                pass  # a system with a lower pipe-max-size: the default 64 KiB only means more wake-ups
        return worker

    @staticmethod
    def _receive(worker: _Worker, deadline: float) -> Outcome | None:
        poller = select.poll()
        poller.register(worker.answers, select.POLLIN | select.POLLHUP)
        answer = _AnswerReader(worker.answers)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if poller.poll(max(1, int(left * 1000))) and answer.read():
                return answer.outcome()


async def _receive_async(fd: int, deadline: float) -> Outcome | None:
    """The framed answer on *fd*, read by the running loop as it arrives; None past *deadline*."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Outcome] = loop.create_future()
    answer = _AnswerReader(fd)

    def readable() -> None:
        if done.done():
            return
        try:
            if answer.read():
                done.set_result(answer.outcome())
        except WorkerDied as exc:
            done.set_exception(exc)

    loop.add_reader(fd, readable)
    try:
        return await asyncio.wait_for(done, timeout=max(0.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        return None
    finally:
        loop.remove_reader(fd)


class _AnswerReader:
    """One framed answer, read from a pipe each time it is readable.

    The first read takes the lengths, the header and (for a small answer) the
    body; a larger body then goes straight into a buffer of its size.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._start: bytearray | None = bytearray(_FIRST_READ)
        self._started = 0
        self._head: dict[str, Any] | None = None
        self._body = bytearray()
        self._filled = 0

    def read(self) -> bool:
        """One read (the pipe must be readable); True once the whole answer is in. WorkerDied at an early EOF."""
        if self._start is not None:
            self._started += self._readinto(memoryview(self._start)[self._started:])
            return self._take_start()
        self._filled += self._readinto(memoryview(self._body)[self._filled:])
        return self._filled == len(self._body)

    def outcome(self) -> Outcome:
        assert self._head is not None
        return self._head, self._body

    def _readinto(self, view: memoryview) -> int:
        count = os.readv(self.fd, [view])
        if not count:
            raise WorkerDied("the query process ended without an answer")
        return count

    def _take_start(self) -> bool:
        start = self._start
        assert start is not None
        if self._started < _LENGTHS.size:
            return False
        head_size, body_size = _LENGTHS.unpack_from(start)
        head_end = _LENGTHS.size + head_size
        if self._started < head_end:
            if len(start) < head_end:  # a header larger than the first read: make room for it
                start.extend(bytes(head_end - len(start)))
            return False
        self._head = json.loads(start[_LENGTHS.size:head_end])
        self._body = bytearray(body_size)
        self._filled = self._started - head_end
        self._body[:self._filled] = start[head_end:self._started]
        self._start = None
        return bool(self._filled == body_size)


def _close_all_but(*keep: int) -> None:  # pragma: no cover - the worker
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))
