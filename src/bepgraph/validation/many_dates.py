"""Whole validation runs for several as-of dates at once (a findings timeline), on every core.

Why not one :func:`~bepgraph.validation.run.run_validation` per date: each
run forks twice (once to derive, once to judge) and sends its derived graph
and its results across a pipe, and runs one after the other on one core. A
timeline of a dozen quarter ends is a dozen runs. Here the dates are dealt
to one forked private copy per core (:mod:`bepgraph.private_copy`); each
copy derives and judges its dates one after the other, in exactly the steps
of ``run_validation`` (derive as of the date from the loaded facts, judge
every rule on the loaded facts and that derived graph), so each date's run
is the same run, not an approximation of it (tests/test_many_dates.py
compares them finding by finding).

A store that cannot be forked (on disk, remote) runs the dates one after the
other through ``run_validation``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import date

from ..private_copy import can_fork, in_private_copy
from ..store import Store
from .derive import DERIVED_GRAPH, derived_lines
from .run import Validation, _judge, _warm, derived_triples, run_validation

__all__ = ["run_validations", "workers_for"]


def workers_for(days: int) -> int:
    """How many private copies to work in: one per core, no more than there are dates."""
    return max(1, min(days, os.cpu_count() or 1))


def _judged_in_turn(copy: Store, days: Sequence[date]) -> list[Validation]:
    """In a private copy: each date derived from the loaded facts alone, then judged (run_validation's steps)."""
    out = []
    for day in days:
        if DERIVED_GRAPH in copy.named_graphs():
            copy.drop_graph(DERIVED_GRAPH)  # the next date derives from the loaded facts, as a fresh copy would
        copy.replace_graph(DERIVED_GRAPH, "".join(derived_lines(copy, day)[1]).encode())
        validation = _judge(copy, day, None, None, None)
        validation.derived = derived_triples(copy)
        out.append(validation)
    return out


def run_validations(store: Store, days: Sequence[date], workers: int | None = None) -> dict[date, Validation]:
    """The full validation run of *store* as of each of *days* (every rule, every series), the dates side by side."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    if not can_fork(store):
        return {day: run_validation(store, day) for day in wanted}
    _warm()
    count = min(workers or workers_for(len(wanted)), len(wanted))
    # dealt in turn, so each copy gets early (few facts in force) and late dates alike
    shares = [wanted[i::count] for i in range(count)]
    found: dict[date, Validation] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(share: list[date]) -> None:
        try:
            runs = in_private_copy(store, lambda copy: _judged_in_turn(copy, share),
                                   f"the validations as of {', '.join(d.isoformat() for d in share)}")
            with lock:
                found.update(zip(share, runs))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(share,), name="validations") for share in shares[1:]]
    for thread in threads:
        thread.start()
    work(shares[0])
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return {day: found[day] for day in wanted}
