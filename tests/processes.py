"""What the kernel says about this test run's processes, read so that a thread or process ending
mid-read is no error (a query worker is killed and reaped while the tests look)."""

from __future__ import annotations

import os
from pathlib import Path


def children(pid: int | None = None) -> set[int]:
    """The live child processes of `pid` (this process by default), over all its threads."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid or os.getpid()}/task").iterdir():
        try:
            text = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between the listing and the read
        found.update(int(p) for p in text)
    return found


def state(pid: int) -> str:
    """R running, S sleeping, … of the busiest thread, or "gone".

    A query worker answers on a thread of its own while its main thread only waits, so the
    busiest thread is what says whether a runaway query is still running."""
    states = []
    for task in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            states.append(task.read_text().rsplit(")", 1)[1].split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    if not states:
        return "gone"
    return next((s for s in "RD" if s in states), states[0])
