"""A partitioned run's findings kept in a file with their provenance, for the doors that read them later.

Why a file: at ten million trades no single store holds the blotter for a
board pack or GraphQL to validate again; what they need is the merged
run's findings and proof of what they were computed from: each bundle's
sha256 (the digest the loader records in graph/meta), the filing's, the
rule shapes', the bepgraph that ran it (version and code sha256), the as-of date, the run's scope (``--rule``, ``--series``)
and the partitions.
The file is the findings JSON of ``validate --format json`` with one more
key, ``provenance``; the doors read it through
``validation/saved_findings.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ParameterError
from ..validation.saved_findings import FORMAT, FindingsFile, rules_digest, this_bepgraph
from ..validation.saved_findings import read_findings_file as read_file
from .runner import PartitionedRun, bundle_digest

__all__ = ["read_findings_file", "write_findings_file"]


def write_findings_file(path: Path, run: PartitionedRun) -> None:
    """Write the merged findings and their provenance to *path* (replaced whole, never half-written)."""
    data = run.validation.report.as_dict()
    data["provenance"] = {
        "format": FORMAT,
        "as_of": run.validation.report.as_of.isoformat(),
        "bundles": [{"folder": f, "sha256": sha} for f, sha in run.bundles],
        "plan": {"file": run.plan[0], "sha256": run.plan[1]},
        "rules_sha256": rules_digest(),
        "bepgraph": this_bepgraph(),
        "scope": {"rules": list(run.rules) if run.rules else None,
                  "series": list(run.series) if run.series else None},
        "partition": run.mode,
        "partitions": run.partitions,
        "engine": run.engine,
        "seconds": {k: round(v, 3) for k, v in run.seconds.items()},
    }
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ParameterError(f"--findings-file {path}: cannot be written ({exc.strerror})") from None


def read_findings_file(path: Path, bundles: list[Path] | None = None) -> FindingsFile:
    """The saved run in *path*; with *bundles*, refused unless they are the very files it was computed from."""
    saved = read_file(path)
    if bundles is not None and saved.bundle_digests != sorted(bundle_digest(b) for b in bundles):
        raise ParameterError(f"{path}: its findings were computed from other bundles than those named "
                             "(their sha256 differ): validate them again")
    return saved
