"""Findings: what a validation run returns (the contract of docs/findings.md).

The same objects are served by every door: the CLI prints them, GraphQL
types them, the board views mark nodes with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from ..namespaces import entity_iri

__all__ = ["Finding", "Focus", "Report", "Severity"]

Severity = Literal["violation", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("violation", "warning", "info")


@dataclass(frozen=True, order=True)
class Focus:
    """The entity that breaks a rule, by bundle table and id (filing entities use the table they would have)."""

    table: str
    id: str

    @property
    def iri(self) -> str:
        return entity_iri(self.table, self.id)

    def as_dict(self) -> dict[str, str]:
        return {"table": self.table, "id": self.id, "iri": self.iri}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    focus: Focus
    message: str
    series: tuple[str, ...] = ()
    citation: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # "table/id"

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "focus": self.focus.as_dict(),
            "series": list(self.series),
            "message": self.message,
            "citation": list(self.citation),
            "evidence": list(self.evidence),
        }

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.rule, self.focus.table, self.focus.id, self.message)


@dataclass
class Report:
    """A validation run: the as-of date and its findings, in a stable order."""

    as_of: date
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    @property
    def conforms(self) -> bool:
        return self.counts["violation"] == 0

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "conforms": self.conforms,
            "counts": self.counts,
            "findings": [f.as_dict() for f in sorted(self.findings, key=Finding.sort_key)],
        }
