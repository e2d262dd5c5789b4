"""The only module that knows where ontology/, shapes/, queries/, filings/, examples/ and web/ live.

In a checkout (editable install) they sit beside ``src/``; in an installed
wheel they are shipped inside the package as ``bepgraph/_data`` (pyproject.toml's
``force-include``). Looking in the checkout first serves both.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "data_root",
    "example_bundle",
    "filing_path",
    "ontology_files",
    "query_dir",
    "shape_files",
    "web_dir",
]

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder holding ontology/, shapes/, queries/, filings/, examples/ and web/."""
    checkout = _PACKAGE.parent.parent
    if (checkout / "ontology").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    return _PACKAGE / "_data"


def ontology_files() -> list[Path]:
    return sorted((data_root() / "ontology").glob("*.ttl"))


def shape_files() -> list[Path]:
    return sorted((data_root() / "shapes").glob("*.ttl"))


def query_dir() -> Path:
    return data_root() / "queries"


def example_bundle() -> Path:
    return data_root() / "examples" / "jnl-2002-2005"


def filing_path() -> Path:
    """The JNL Series Trust plan filing shipped with the project (a copy of the EDGAR text)."""
    return data_root() / "filings" / "jnl-series-trust-bep-2002.txt"


def web_dir() -> Path:
    """The browser pages and their npm-installed files (``web/``), served by the HTTP doors."""
    return data_root() / "web"
