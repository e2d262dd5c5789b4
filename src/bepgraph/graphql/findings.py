"""Findings: the content of findings.md, served from the validation run cached for the as-of date.

Each filter's selection is sorted once per cached run, and a page is found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import strawberry

from ..known_ids import check_known, check_rules
from ..validation.findings import Finding as FindingRecord
from .asof import Snapshot
from .kinds import Severity
from .pagination import Connection, page_of_sorted

__all__ = ["Finding", "FindingReport", "Focus", "findings_page", "findings_report"]


@strawberry.type(description="The entity that breaks a rule, by bundle table and id.")
class Focus:
    table: str
    id: str
    iri: str


@strawberry.type(description="One breach of a rule of rules.md, as findings.md describes it.")
class Finding:
    rule: str = strawberry.field(description="The rule id, e.g. `BEP-7.3`.")
    severity: Severity
    focus: Focus
    series: list[str] = strawberry.field(description="The series concerned.")
    message: str = strawberry.field(description="One plain sentence naming the entity, dates and amounts.")
    citation: list[str] = strawberry.field(description="The plan paragraph and the law.")
    evidence: list[str] = strawberry.field(description="The other facts it rests on, as `table/id`.")


@strawberry.type(description="Counts of findings by severity.")
class SeverityCounts:
    violation: int
    warning: int
    info: int


@strawberry.type(description="A validation run as of a date: whether the graph conforms, and its findings.")
class FindingReport:
    as_of: date
    conforms: bool = strawberry.field(description="True when there is no violation (warnings leave it true).")
    counts: SeverityCounts = strawberry.field(description="Counts over the findings that match the filters.")
    findings: Connection[Finding]
    note: str | None = strawberry.field(
        default=None, description="Set when filters match no finding: \"no findings for BEP-2.1 as of …\" "
                                  "(a filter's id the loaded facts do not know is an error instead).")


def _finding(f: FindingRecord) -> Finding:
    return Finding(rule=f.rule, severity=Severity(f.severity),
                   focus=Focus(table=f.focus.table, id=f.focus.id, iri=f.focus.iri), series=list(f.series),
                   message=f.message, citation=list(f.citation), evidence=list(f.evidence))


@dataclass(frozen=True)
class _Selection:
    """The findings that match one set of filters, sorted, with their keys and counts."""

    findings: list[FindingRecord]
    keys: list[list[str]]
    counts: dict[str, int]


MEMO = 512  # selections kept per snapshot


def _select(snap: Snapshot, rule: str | None, series: str | None, severity: Severity | None) -> _Selection:
    """Filtered and sorted once per snapshot and filter: a million trades can break rules thousands of
    times, and sorting them again on every dashboard request would cost more than the rest of it."""
    key = ("findings", rule, series, severity)
    known = snap.memo.get(key)
    if known is None:
        assert snap.report is not None
        kept = sorted((f for f in snap.report.findings
                       if (rule is None or f.rule == rule) and (series is None or series in f.series)
                       and (severity is None or f.severity == severity.value)), key=FindingRecord.sort_key)  # type: ignore[comparison-overlap]  # strawberry.enum_value reads as its definition
        counts = {s.value: sum(1 for f in kept if f.severity == s.value) for s in Severity}  # type: ignore[misc,comparison-overlap]
        known = _Selection(kept, [list(f.sort_key()) for f in kept], counts)  # type: ignore[arg-type]
        if len(snap.memo) >= MEMO:
            snap.memo.clear()
        snap.memo[key] = known
    return known


async def _matching(info: strawberry.Info, as_of: date | None, rule: str | None, series: str | None,
                    severity: Severity | None) -> tuple[date, bool, _Selection]:
    if rule is not None:
        check_rules([rule])  # an unknown id is an error (extensions.code NOT_FOUND), never an empty list
    if series is not None:
        check_known(info.context.store, "series", series)
    snap = await info.context.snapshot(as_of, findings=True)
    conforms = _select(snap, None, None, None).counts["violation"] == 0
    return snap.as_of, conforms, _select(snap, rule, series, severity)


def _page(info: strawberry.Info, kept: _Selection, first: int, after: str | None) -> Connection[Finding]:
    page = page_of_sorted(info, kept.findings, kept.keys, "findings", first, after)
    page.edges = [type(e)(cursor=e.cursor, node=_finding(e.node)) for e in page.edges]  # type: ignore[arg-type]
    return page  # type: ignore[return-value]


async def findings_page(info: strawberry.Info, as_of: date | None, rule: str | None, series: str | None,
                        severity: Severity | None, first: int, after: str | None) -> Connection[Finding]:
    _, _, kept = await _matching(info, as_of, rule, series, severity)
    return _page(info, kept, first, after)


async def findings_report(info: strawberry.Info, as_of: date | None, rule: str | None, series: str | None,
                          severity: Severity | None, first: int, after: str | None) -> FindingReport:
    day, conforms, kept = await _matching(info, as_of, rule, series, severity)
    counts = SeverityCounts(**kept.counts)
    return FindingReport(as_of=day, conforms=conforms, counts=counts, findings=_page(info, kept, first, after),
                         note=no_findings_note(day, rule, series, severity.value if severity else None)  # type: ignore[arg-type]
                         if not kept.findings else None)


def no_findings_note(day: date, rule: str | None, series: str | None, severity: str | None) -> str | None:
    """"no findings for BEP-2.1, series x as of …" when filters were given, None without filters."""
    scope = [p for p in (rule, f"series {series}" if series else None, severity) if p]
    return f"no findings for {', '.join(scope)} as of {day.isoformat()}" if scope else None
