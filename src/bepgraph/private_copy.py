"""Work on a private copy-on-write copy of the in-memory store: a forked child that answers once.

Why: the rules read the loaded facts *and* the derived facts of one as-of
date together, in SPARQL over the union default graph, which Oxigraph
evaluates fastest. Writing the derived facts into the store everyone reads
made every answer depend on what was asked before (and retired every SPARQL
query process); hiding them behind explicit dataset lists would slow the
analysts' union-default-graph queries. A fork gives the work its own copy
of the whole store for the price of its page tables: the child writes the
derived facts into *its* copy, does the work, sends the (picklable) result
back over a pipe and leaves with ``os._exit``. The parent's store is never
written, its write generation does not move, and two dates are worked on
side by side in two processes.

Fork safety, as in :mod:`bepgraph.endpoint.workers`: the fork happens under
the store's write lock, so no thread of the parent is inside a write; the
child releases its copy of that lock (held by a thread that does not exist
there) before it writes its own copy. Readers are another matter: a thread
of the parent reading the store at the instant of the fork may hold one of
Oxigraph's internal locks, which then stays held in the child, and a
*write* there waits for it forever (reads do not; measured: a few forks in
a hundred under a steady read load). So the child does its writes first
(*prepare*) and says so on the pipe; a child that has not done so within
:data:`PREPARE_S` is killed and the fork tried again (a fresh fork copies
the locks as they are then). The work itself only reads. A child that
dies, or does not answer before its deadline, is killed, reaped and
reported as a :class:`~bepgraph.errors.StoreError`.

Only an in-memory embedded store can be forked this way (an on-disk store's
files are shared, a remote server is elsewhere); :func:`can_fork` says so,
and callers fall back to a scratch graph (see ``validation/overlay.py``).
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable
from typing import TypeVar

from .errors import StoreError
from .store import Store

__all__ = ["CHILD_TIMEOUT_S", "can_fork", "in_private_copy"]

T = TypeVar("T")
CHILD_TIMEOUT_S = 1800.0  # far beyond any full validation (README, Measurements): reaching it is a fault
PREPARE_S = 0.5  # writing a date's derived graph takes milliseconds; past this (and its size's share), a lock was copied held
PREPARE_BYTES_PER_S = 2e6  # a slow machine's pace of loading N-Triples, for the share of a large prepare
ATTEMPTS = 5
_LENGTH = struct.Struct("!Q")
_READY = b"R"


def can_fork(store: Store) -> bool:
    """Whether *store* is an in-memory embedded store on a system with ``fork``."""
    return store.copyable_by_fork


def _child(store: Store, work: Callable[[Store], object], out: int,
           prepare: Callable[[Store], None] | None) -> None:  # pragma: no cover - child
    code = 0
    try:
        gc.disable()  # no finalizer of the parent's objects runs here
        store.after_fork()  # the parent's forking thread held the write lock; it does not exist here
        try:
            if prepare is not None:
                prepare(store)
            os.write(out, _READY)
            payload = pickle.dumps((True, work(store)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - the parent re-raises it
            try:
                payload = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that does not pickle: its words
                payload = pickle.dumps((False, StoreError(f"{type(exc).__name__}: {exc}")))
        data = memoryview(_LENGTH.pack(len(payload)) + payload)
        while data:
            data = data[os.write(out, data):]
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _close_all_but(keep: int) -> None:  # pragma: no cover - the child
    if keep > 3:
        os.closerange(3, keep)
    os.closerange(max(3, keep + 1), os.sysconf("SC_OPEN_MAX"))


def _reap(pid: int, kill: bool) -> int:
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _read_answer(fd: int, deadline: float, ready_by: float) -> bytes | None:
    """Everything the child wrote until it closed the pipe, or None past *deadline* (or *ready_by*
    without its first byte)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    chunks: list[bytes] = []
    while True:
        left = (deadline if chunks else min(deadline, ready_by)) - time.monotonic()
        if left <= 0:
            return None
        if not poller.poll(max(1, int(left * 1000))):
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def in_private_copy(store: Store, work: Callable[[Store], T], what: str,
                    timeout_s: float = CHILD_TIMEOUT_S, prepare: Callable[[Store], None] | None = None,
                    prepare_bytes: int = 0) -> T:
    """``work(copy)`` run in a forked child on its copy of *store*; its result (or exception) comes back.

    *prepare* (optional) writes the copy first: the derived graphs the work
    reads, *prepare_bytes* long. *work* must only read. *what* names the work in errors ("the
    validation as of 2004-06-30"). The result must pickle. *store* must be
    forkable (:func:`can_fork`).
    """
    if not can_fork(store):
        raise StoreError(f"{what}: the {store.location} store cannot be copied by forking")
    deadline = time.monotonic() + timeout_s
    for _ in range(ATTEMPTS):
        outcome = _attempt(store, work, what, deadline, prepare, timeout_s,
                           PREPARE_S + prepare_bytes / PREPARE_BYTES_PER_S)
        if outcome is not None:
            return outcome[0]
    raise StoreError(f"{what} failed: its private copy could not be written in {ATTEMPTS} forks "
                     f"(a lock held at the fork each time)")


def _attempt(store: Store, work: Callable[[Store], T], what: str, deadline: float,
             prepare: Callable[[Store], None] | None, timeout_s: float, prepare_s: float) -> tuple[T] | None:
    """One fork: ``(result,)``, or None when the child did not get past *prepare* in time (fork again)."""
    read_end, write_end = os.pipe()
    try:
        with store.fork_lock(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded process is the point here
            pid = os.fork()
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # pragma: no cover - the child
        # keep only its own pipe end (and the standard streams): a child holding the server's
        # sockets would keep a connection open after the server closed it, for as long as it works
        _close_all_but(write_end)
        _child(store, work, write_end, prepare)
    os.close(write_end)
    ready_by = time.monotonic() + prepare_s
    try:
        raw = _read_answer(read_end, deadline, ready_by)
    finally:
        os.close(read_end)
    status = _reap(pid, kill=raw is None)
    if raw is None:
        if time.monotonic() < deadline:
            return None  # stuck in prepare: a lock copied held
        raise StoreError(f"{what} did not finish within {timeout_s:g} s; its process was stopped")
    raw = raw[len(_READY):] if raw.startswith(_READY) else raw
    if len(raw) < _LENGTH.size or len(raw) != _LENGTH.size + _LENGTH.unpack_from(raw)[0]:
        how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"ended with status {os.waitstatus_to_exitcode(status)}")
        raise StoreError(f"{what} failed: its process {how} before it answered")
    ok, value = pickle.loads(raw[_LENGTH.size:])
    if not ok:
        raise value
    return (value,)
