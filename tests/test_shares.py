"""A run shared among private copies that judge side by side is the run one copy makes: the same findings,
the same SHACL results in the same order, at the latest date and at every date judged back from it; and a
copy that fails or dies fails the whole run, never leaving the other copy's part as the answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import bepgraph.validation.engine as engine
import bepgraph.validation.many_dates as many_dates
import bepgraph.validation.run as run
import bepgraph.validation.shares as shares
from bepgraph.errors import StoreError
from bepgraph.loading import load_all
from bepgraph.store import EmbeddedStore
from bepgraph.validation.many_dates import Steps, run_validations
from bepgraph.validation.run import Part, put_together, run_validation
from bepgraph.validation.shares import Claims, copies_for_a_run, copies_wanted
from bepgraph.viz.dates import quarter_ends

CASES = Path(__file__).parent / "rules" / "cases"
COMES_AND_GOES = CASES / "BEP-7.4" / "trade-after-assignment"  # a finding that stands at some quarter ends only


@pytest.fixture(scope="module")
def example() -> EmbeddedStore:
    store = EmbeddedStore()
    load_all(store)
    return store


def copies(monkeypatch: pytest.MonkeyPatch, n: int) -> list[int]:
    """Runs made from now on use *n* copies; the list receives the number of parts each run put together."""
    monkeypatch.setattr(shares, "copies_wanted", lambda: n)
    seen: list[int] = []
    together = run.put_together

    def counted(parts: list[Part], series: object = None) -> object:
        seen.append(len(parts))
        return together(parts, series)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "put_together", counted)
    monkeypatch.setattr(many_dates, "put_together", counted)
    return seen


def test_claims_hand_each_item_to_exactly_one_of_the_processes_forked_after_them() -> None:
    claims: Claims[int] = Claims()
    items = list(range(300))
    readers, pids = [], []
    for _ in range(3):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                taken = list(claims.claimed(items))
                os.write(write_end, json.dumps({"taken": taken, "recorded": claims.taken}).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        readers.append(read_end)
        pids.append(pid)
    handed = []
    for read_end, pid in zip(readers, pids):
        chunks = []
        while chunk := os.read(read_end, 1 << 16):
            chunks.append(chunk)
        os.close(read_end)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        answer = json.loads(b"".join(chunks))
        assert answer["taken"] == answer["recorded"] == sorted(answer["taken"])
        handed += answer["taken"]
    assert sorted(handed) == items  # each item once: none lost, none judged twice


def test_a_run_in_two_copies_is_the_run_of_one_copy(example: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    day = date(2004, 12, 31)
    parts = copies(monkeypatch, 1)
    alone = run_validation(example, day)
    parts = copies(monkeypatch, 2)
    shared = run_validation(example, day)
    assert parts == [2]
    assert alone.report.findings  # the example's plan has findings at that date: the comparison says something
    assert shared.report == alone.report
    assert shared.results == alone.results  # the SHACL report's results, in the same order
    assert shared.derived == alone.derived and shared.derived


def test_a_run_of_some_series_in_two_copies_keeps_their_findings_only(example: EmbeddedStore,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    day = date(2004, 12, 31)
    every = run_validation(example, day)
    series = sorted({s for f in every.report.findings for s in f.series})[0]
    copies(monkeypatch, 1)
    alone = run_validation(example, day, series=[series])
    copies(monkeypatch, 2)
    shared = run_validation(example, day, series=[series])
    assert shared.report == alone.report and shared.report.findings
    assert all(series in f.series for f in shared.report.findings)
    assert len(shared.report.findings) < len(every.report.findings)


def test_a_cold_timeline_in_two_copies_is_the_timeline_of_one_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore()
    load_all(store, [COMES_AND_GOES])
    days = quarter_ends(date(2002, 6, 30), date(2004, 6, 30))
    copies(monkeypatch, 1)
    steps_alone = Steps()
    alone = run_validations(store, days, steps=steps_alone)
    parts = copies(monkeypatch, 2)
    steps_shared = Steps()
    shared = run_validations(store, days, steps=steps_shared)
    assert parts == [2] * len(days)
    assert len({len(r.report.findings) for r in alone.values()}) > 1  # findings come and go over these dates
    for day in days:
        assert shared[day].report == alone[day].report, day
        assert shared[day].results == alone[day].results, day
    assert steps_shared == steps_alone  # each constraint judged back the same way, whichever copy claimed it
    store.close()


def test_a_copy_whose_rule_fails_fails_the_run(example: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    copies(monkeypatch, 2)
    judged = engine.run_constraint

    def broken(store: object, c: object, *args: object, **kwargs: object) -> object:
        if "BEP-2.2" in c.shape:  # type: ignore[attr-defined]
            raise ValueError("BEP-2.2 could not be judged")
        return judged(store, c, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "run_constraint", broken)
    with pytest.raises(ValueError, match="could not be judged"):
        run_validation(example, date(2004, 12, 31))


def test_a_copy_that_dies_fails_the_run_with_the_reason(example: EmbeddedStore,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    copies(monkeypatch, 2)
    judged = engine.run_constraint

    def dies(store: object, c: object, *args: object, **kwargs: object) -> object:
        if "BEP-2.2" in c.shape:  # type: ignore[attr-defined]
            os._exit(9)  # as a copy killed for its memory would end
        return judged(store, c, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "run_constraint", dies)
    with pytest.raises(StoreError, match="ended with status 9 before it answered"):
        run_validations(example, [date(2004, 6, 30), date(2004, 12, 31)])


def test_parts_of_two_dates_are_not_put_together() -> None:
    with pytest.raises(ValueError, match="one date"):
        put_together([Part(date(2004, 6, 30), [], []), Part(date(2004, 12, 31), [], [])])
    with pytest.raises(ValueError, match="one date"):
        put_together([])


def test_a_second_copy_needs_the_process_size_free_beside_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    sizes = {"/proc/self/status": 5_000_000, "/proc/meminfo": 0}
    monkeypatch.setattr(shares, "_kib", lambda path, field: sizes[path])
    for available, wanted in ((4_999_999, 1), (9_999_999, 1), (10_000_000, 2), (40_000_000, 2)):
        sizes["/proc/meminfo"] = available
        assert copies_wanted() == wanted, available
    monkeypatch.setattr(shares, "_kib", lambda path, field: None)
    assert copies_wanted() == 1  # not known: one copy


def test_one_copy_judges_where_the_process_may_use_one_core() -> None:
    code = ("import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
            "from bepgraph.validation.shares import copies_wanted; print(copies_wanted())")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "1"
    assert 1 <= copies_wanted() <= min(2, len(os.sched_getaffinity(0)))


def test_a_run_while_another_judges_side_by_side_takes_one_copy(example: EmbeddedStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    parts = copies(monkeypatch, 2)
    with copies_for_a_run() as held:  # another run of this process, judging in two copies
        assert held == 2
        during = run_validation(example, date(2004, 6, 30))
        assert parts == [1]
        with copies_for_a_run() as second:
            assert second == 1
    after = run_validation(example, date(2004, 6, 30))
    assert parts == [1, 2]  # the slot is free again once that run is over
    assert during.report == after.report


def test_copies_are_counted_from_the_cpus_where_a_platform_has_no_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(shares, "_kib", lambda path, field: 1_000 if "status" in path else 10_000)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert copies_wanted() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert copies_wanted() == 2
