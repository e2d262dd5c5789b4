"""What a board review reads first: findings by rule family, what changed since the last review, series × family.

Why matched by rule and focus: a finding is "the same" at two reviews when
the same rule is broken by the same entity; its message may change (an
amount grows, a deadline passes) without it being new. A finding is new when
the previous review did not have it, resolved when this one no longer does,
persisting when both have it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from ..validation.findings import Finding, Report

__all__ = ["Changes", "FamilyRow", "changes_since", "family", "family_rows", "heat_map", "TRUST_WIDE"]

TRUST_WIDE = "(trust-wide: no one series)"


def family(rule: str) -> str:
    """BEP-7.3 -> BEP-7: the rules of one paragraph of the plan."""
    return rule.split(".", 1)[0]


def _key(f: Finding) -> tuple[str, str, str]:
    return (f.rule, f.focus.table, f.focus.id)


@dataclass(frozen=True)
class Changes:
    since: date
    new: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    persisting: tuple[Finding, ...]


def changes_since(now: Report, before: Report) -> Changes:
    """Findings of *now* new since *before*, those of *before* resolved, those in both (matched by rule and focus)."""
    then = {_key(f): f for f in before.findings}
    current = {_key(f): f for f in now.findings}
    order = Finding.sort_key
    return Changes(before.as_of,
                   tuple(sorted((f for k, f in current.items() if k not in then), key=order)),
                   tuple(sorted((f for k, f in then.items() if k not in current), key=order)),
                   tuple(sorted((f for k, f in current.items() if k in then), key=order)))


@dataclass(frozen=True)
class FamilyRow:
    family: str
    citation: str  # the plan paragraph, as the findings cite it
    violations: int
    warnings: int
    info: int
    new: int | None = None
    resolved: int | None = None
    persisting: int | None = None


def family_rows(report: Report, changes: Changes | None = None) -> list[FamilyRow]:
    """One row per rule family with a finding now or (with *changes*) at the previous review."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    cited: dict[str, str] = {}
    for f in [*report.findings, *(changes.resolved if changes else ())]:
        cited.setdefault(family(f.rule), f.citation[0] if f.citation else "")
    for f in report.findings:
        counts[family(f.rule)][f.severity] += 1
    moved: dict[str, Counter[str]] = defaultdict(Counter)
    if changes:
        for name, found in (("new", changes.new), ("resolved", changes.resolved), ("persisting", changes.persisting)):
            for f in found:
                moved[family(f.rule)][name] += 1
    rows = []
    for fam in sorted(set(counts) | set(moved), key=lambda r: (len(r), r)):
        c, m = counts[fam], moved[fam]
        rows.append(FamilyRow(fam, cited.get(fam, ""), c["violation"], c["warning"], c["info"],
                              m["new"] if changes else None, m["resolved"] if changes else None,
                              m["persisting"] if changes else None))
    return rows


def heat_map(report: Report, series_labels: dict[str, str]) -> tuple[list[str], list[str], dict[tuple[str, str], Counter[str]]]:
    """Rows (every series, by label, then the trust-wide row), columns (families found) and counts by severity."""
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for f in report.findings:
        rows = [series_labels.get(s, s) for s in f.series] or [TRUST_WIDE]
        for row in rows:
            cells[(row, family(f.rule))][f.severity] += 1
    columns = sorted({family(f.rule) for f in report.findings}, key=lambda r: (len(r), r))
    rows = sorted(set(series_labels.values()) | {r for r, _ in cells if r != TRUST_WIDE}) + [TRUST_WIDE]
    return rows, columns, cells
