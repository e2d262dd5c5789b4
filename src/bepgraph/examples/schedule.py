"""Schedule A of the plan filing, read at run time (never retyped)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScheduleSeries", "plan_date", "read_schedule_a", "slug"]

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_DATE_LINE = re.compile(r"^(?:Date:\s*)?([A-Z][a-z]+ \d{1,2}, \d{4})$")


def slug(text: str) -> str:
    """Lower-case, each run of characters outside a-z0-9 replaced by one '-', trimmed."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class ScheduleSeries:
    position: int  # 1-based position on Schedule A
    name: str
    id: str
    sub_adviser: str
    sub_adviser_name: str


def read_schedule_a(path: Path) -> list[ScheduleSeries]:
    """The series of Schedule A: lines between "SCHEDULE A" and its trailing date."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "SCHEDULE A")
    out: list[ScheduleSeries] = []
    for line in lines[start + 1:]:
        text = line.strip()
        if not text or text == "<PAGE>":
            continue
        if _DATE_LINE.match(text):
            break
        adviser = text.split("/JNL", 1)[0]
        out.append(ScheduleSeries(len(out) + 1, text, slug(text), slug(adviser), adviser))
    return out


def plan_date(path: Path) -> dt.date:
    """The plan's date: the "Date:" line of the filing."""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("Date:"):
            m = _DATE_LINE.match(text)
            if m:
                return dt.datetime.strptime(m.group(1), "%B %d, %Y").date()
    raise ValueError(f"{path}: no 'Date:' line")
