from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bepgraph.resources import filing_path
from bepgraph.sources.filing import Filing, read_filing

from .bundles import MINI, write_bundle


@pytest.fixture(scope="session")
def filing() -> Filing:
    return read_filing(filing_path())


@pytest.fixture
def mini_tables() -> dict[str, list[dict[str, str]]]:
    """A fresh, valid one-row-per-table bundle to break in a test."""
    return copy.deepcopy(MINI)


@pytest.fixture
def mini_bundle(tmp_path: Path, mini_tables: dict[str, list[dict[str, str]]]) -> Path:
    return write_bundle(tmp_path / "mini", mini_tables)
