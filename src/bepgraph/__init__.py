"""bepgraph: the JNL Series Trust Brokerage Enhancement Plan as a compliance knowledge graph.

Data flows one way: the filing and a facts bundle are read by ``sources``,
written into the ``store``, and read back out by validation, SPARQL, GraphQL
and the board views.

The public API is the names in ``__all__``, imported from here::

    import bepgraph
    store = bepgraph.open_store("memory")
    bepgraph.load(store)
    report = bepgraph.validate(store, date(2004, 6, 30))

Each name is imported on first use (PEP 562), so ``import bepgraph`` (and
every ``bepgraph`` command, which imports this package first) stays quick:
the HTTP service and the rules engine load only when asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .api import load, validate
    from .errors import (BepgraphError, BundleError, FilingError, InputError, ParameterError, Problem, QueryError,
                         StoreError)
    from .http.app import create_app
    from .loading import LoadReport
    from .settings import Settings
    from .sparql import NamedQuery, find_query, named_queries
    from .store import EmbeddedStore, RemoteStore, Store, open_store
    from .validation.findings import Finding, Focus, Report

__all__ = [
    "BepgraphError",
    "BundleError",
    "EmbeddedStore",
    "FilingError",
    "Finding",
    "Focus",
    "InputError",
    "LoadReport",
    "NamedQuery",
    "ParameterError",
    "Problem",
    "QueryError",
    "RemoteStore",
    "Report",
    "Settings",
    "Store",
    "StoreError",
    "__version__",
    "create_app",
    "find_query",
    "load",
    "named_queries",
    "open_store",
    "validate",
]

_HOME = {
    "BepgraphError": ".errors", "BundleError": ".errors", "FilingError": ".errors", "InputError": ".errors",
    "ParameterError": ".errors", "Problem": ".errors", "QueryError": ".errors", "StoreError": ".errors",
    "EmbeddedStore": ".store", "RemoteStore": ".store", "Store": ".store", "open_store": ".store",
    "Finding": ".validation.findings", "Focus": ".validation.findings", "Report": ".validation.findings",
    "LoadReport": ".loading", "Settings": ".settings", "create_app": ".http.app",
    "NamedQuery": ".sparql", "find_query": ".sparql", "named_queries": ".sparql",
    "load": ".api", "validate": ".api",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'bepgraph' has no attribute '{name}'")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
