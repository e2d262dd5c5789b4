"""A partitioned run's findings kept in a file with their provenance, for the doors that read them later.

Why a file: at ten million trades no single store holds the blotter for a
board pack or GraphQL to validate again; what they need is the merged
run's findings and proof of what they were computed from: each bundle's
sha256 (the digest the loader records in graph/meta), the filing's, the
as-of date and the partitions. The file is the findings JSON of
``validate --format json`` with one more key, ``provenance``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..validation.findings import Finding, Focus, Report
from .runner import PartitionedRun, bundle_digest

__all__ = ["SavedRun", "read_findings_file", "write_findings_file"]

FORMAT = "bepgraph-findings/1"


@dataclass
class SavedRun:
    report: Report
    provenance: dict[str, Any]


def write_findings_file(path: Path, run: PartitionedRun) -> None:
    """Write the merged findings and their provenance to *path* (replaced whole, never half-written)."""
    data = run.validation.report.as_dict()
    data["provenance"] = {
        "format": FORMAT,
        "as_of": run.validation.report.as_of.isoformat(),
        "bundles": [{"folder": f, "sha256": sha} for f, sha in run.bundles],
        "plan": {"file": run.plan[0], "sha256": run.plan[1]},
        "partition": run.mode,
        "partitions": run.partitions,
        "engine": run.engine,
        "seconds": {k: round(v, 3) for k, v in run.seconds.items()},
    }
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_findings_file(path: Path, bundles: list[Path] | None = None) -> SavedRun:
    """The saved run in *path*; with *bundles*, refused unless they are the very files it was computed from."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        prov = data["provenance"]
        if prov.get("format") != FORMAT:
            raise ParameterError(f"{path}: not a bepgraph findings file (format {prov.get('format')!r})")
        findings = [Finding(f["rule"], f["severity"], Focus(f["focus"]["table"], f["focus"]["id"]), f["message"],
                            tuple(f["series"]), tuple(f["citation"]), tuple(f["evidence"]))
                    for f in data["findings"]]
        report = Report(date.fromisoformat(data["as_of"]), findings)
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ParameterError(f"{path}: not a bepgraph findings file ({exc.__class__.__name__}: {exc})") from None
    if bundles is not None:
        saved = sorted(b["sha256"] for b in prov["bundles"])
        given = sorted(bundle_digest(b) for b in bundles)
        if saved != given:
            raise ParameterError(f"{path}: its findings were computed from other bundles than those named "
                                 "(their sha256 differ): validate them again")
    return SavedRun(report, prov)
