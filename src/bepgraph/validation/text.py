"""The readable summary of a validation run: findings grouped by rule, then by series, with counts.

Why a text form beside the JSON: a compliance officer reads the command's
output directly; grouping by rule and series puts a breach that repeats a
thousand times on one heading instead of a thousand lines of noise first.
"""

from __future__ import annotations

from collections import defaultdict

from .findings import Finding, Report
from .catalogue import rule_catalogue, rule_order

__all__ = ["summary"]

NO_SERIES = "(no series)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report, scope: str | None = None) -> str:
    """*report* as text: a headline with the counts, then each rule's findings by series.

    *scope* names the filters the run was narrowed by ("BEP-2.1, series x"):
    the headline then speaks of them, never of the whole graph.
    """
    counts = report.counts
    tally = (f"{_plural(counts['violation'], 'violation')}, {_plural(counts['warning'], 'warning')}, "
             f"{_plural(counts['info'], 'info')}")
    if scope is not None and not report.findings:
        return f"No findings for {scope} as of {report.as_of.isoformat()}.\n"
    if scope is not None:
        lines = [f"As of {report.as_of.isoformat()}, for {scope}: {tally}."]
    else:
        verdict = "conforms" if report.conforms else "does not conform"
        lines = [f"As of {report.as_of.isoformat()}: {tally}; the graph {verdict}."]
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_rule[finding.rule].append(finding)
    catalogue = rule_catalogue()
    for rule_id in sorted(by_rule, key=rule_order):
        found = sorted(by_rule[rule_id], key=Finding.sort_key)
        rule = catalogue.get(rule_id)
        cited = "; ".join(found[0].citation)
        lines += ["", f"{rule_id} ({found[0].severity}, {_plural(len(found), 'finding')}) {cited}"]
        if rule is not None:
            lines.append(f"  {rule.description}")
        by_series: dict[str, list[Finding]] = defaultdict(list)
        for finding in found:
            for series in finding.series or (NO_SERIES,):
                by_series[series].append(finding)
        for series in sorted(by_series, key=lambda s: (s == NO_SERIES, s)):
            lines.append(f"  {series}: {_plural(len(by_series[series]), 'finding')}")
            for finding in by_series[series]:
                lines.append(f"    {finding.focus.table}/{finding.focus.id}: {finding.message}")
    return "\n".join(lines) + "\n"
