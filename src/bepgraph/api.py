"""The plain functions of the public API that are not simply another module's (see ``bepgraph/__init__.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .loading import LoadReport, load_all
from .store import Store
from .validation.findings import Report
from .validation.run import run_validation

__all__ = ["load", "validate"]


def load(store: Store, bundles: Sequence[Path | str] | None = None, plan: Path | str | None = None) -> LoadReport:
    """Load the plan filing, the ontology and the facts bundles into *store*, all or nothing.

    With no *bundles*, the example bundle is loaded; *plan* defaults to the
    JNL Series Trust filing. A bundle with problems raises
    :class:`~bepgraph.errors.BundleError` listing each (file, line, column,
    reason) and leaves the store as it was.
    """
    folders = None if bundles is None else [Path(b) for b in bundles]
    return load_all(store, folders, Path(plan) if plan is not None else None)


def validate(store: Store, as_of: date, rules: Sequence[str] | None = None,
             series: Sequence[str] | None = None) -> Report:
    """Judge the facts in *store* as of *as_of* against every rule (or *rules*, for *series* only).

    The store is only read. An unknown rule id raises
    :class:`~bepgraph.errors.ParameterError`.
    """
    return run_validation(store, as_of, rules, series).report
