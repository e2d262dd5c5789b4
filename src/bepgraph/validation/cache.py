"""One cache of answers that depend on an as-of date, shared by every door of one process.

Why one: a validation run takes seconds at a million trades, and GraphQL,
``/viz``, ``/viz/data``, the board pack and the CLI all ask for the same
runs; kept apart, each door ran the same date again. An answer is kept per
store, per *generation of the loaded facts* and per key (the date and what
was asked), so a date is validated once per load, and a load or an update
makes every older answer unreachable (they are dropped at once). The cache
is bounded (least recently used first out), validation runs more tightly
than the smaller answers.

The generation is the store's own answer (:meth:`Store.generation`): an
embedded store counts its writes (reads never count, nor a scratch graph
written and removed again); a remote server is asked for the sources'
provenance in graph/meta each time.

A key being computed is computed once: a second request for it waits for
the first, while requests for other keys (another date) run side by side.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..store import Store

__all__ = ["KEEP", "KEEP_VALIDATIONS", "AnswerCache", "answers"]

T = TypeVar("T")
KEEP_VALIDATIONS = 8  # validation runs kept per store
KEEP = 256  # other answers kept per store (snapshots of statuses, board views, page data)


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


@dataclass
class _PerStore:
    generation: Hashable = None
    kept: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    runs: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    flights: dict[tuple[Hashable, Hashable], _Flight] = field(default_factory=dict)


class AnswerCache:
    """Answers per (store, generation of its loaded facts, key); thread-safe, bounded."""

    def __init__(self, keep: int = KEEP, keep_validations: int = KEEP_VALIDATIONS) -> None:
        self.keep, self.keep_validations = keep, keep_validations
        self._lock = threading.Lock()
        self._stores: "weakref.WeakKeyDictionary[Store, _PerStore]" = weakref.WeakKeyDictionary()
        self.computed = 0  # how many answers were computed (tests and benches read it)

    def known(self, store: Store, key: Hashable) -> Any | None:
        """The answer for *key* if it is kept for the loaded facts, without computing anything."""
        gen = store.generation()
        with self._lock:
            per = self._stores.get(store)
            if per is None or per.generation != gen:
                return None
            for kept in (per.runs, per.kept):
                if key in kept:
                    kept.move_to_end(key)
                    return kept[key]
        return None

    def get(self, store: Store, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for *key*, computed by *compute* the first time (keys starting "validation" are runs)."""
        gen = store.generation()
        with self._lock:
            per = self._stores.setdefault(store, _PerStore())
            if per.generation != gen:  # new facts: every older answer is stale
                per.generation, per.kept, per.runs = gen, OrderedDict(), OrderedDict()
            kept = per.runs if _is_run(key) else per.kept
            if key in kept:
                kept.move_to_end(key)
                return kept[key]  # type: ignore[no-any-return]
            flight = per.flights.get((gen, key))
            owner = flight is None
            if flight is None:
                flight = per.flights[(gen, key)] = _Flight()
        if not owner:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value  # type: ignore[no-any-return]
        try:
            flight.value = compute()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                per.flights.pop((gen, key), None)
                if flight.error is None:
                    self.computed += 1
                    if per.generation == gen:
                        kept[key] = flight.value
                        limit = self.keep_validations if _is_run(key) else self.keep
                        while len(kept) > limit:
                            kept.popitem(last=False)
            flight.done.set()
        return flight.value  # type: ignore[no-any-return]


def _is_run(key: Hashable) -> bool:
    return isinstance(key, tuple) and bool(key) and key[0] == "validation"


_ANSWERS = AnswerCache()


def answers() -> AnswerCache:
    """The process's one cache (every door uses it)."""
    return _ANSWERS

