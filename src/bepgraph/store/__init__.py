"""The one package that knows which RDF store holds the graph.

Two backends behind one interface (:class:`Store`, ``interface.py``):

* :class:`EmbeddedStore` (``embedded.py``): Oxigraph (pyoxigraph) in this
  process, in memory or on disk.
* :class:`RemoteStore` (``remote.py``): any SPARQL 1.1 server speaking the
  Protocol and the Graph Store Protocol (tested against a live Oxigraph
  server and Virtuoso).

:func:`open_store` (``opening.py``) picks one from a location or the
settings. Values are bound into queries as ``VALUES`` rows of terms
serialized by Oxigraph (``binding.py``), the same way for both backends;
a load's journal, commit and graph/meta records are in ``journal.py``; the
answers' types, and the two readers that say which kind a caller expects,
in ``results.py``. Import from here: the modules are the package's own layout.
"""

from __future__ import annotations

from .binding import bind_values
from .embedded import EmbeddedStore
from .interface import Forwarded, Store
from .journal import META, Commit, provenance_quads
from .opening import open_store
from .remote import RemoteStore
from .results import QueryResult, Term, solutions, triples

__all__ = [
    "Commit",
    "EmbeddedStore",
    "Forwarded",
    "META",
    "QueryResult",
    "RemoteStore",
    "Store",
    "Term",
    "bind_values",
    "open_store",
    "provenance_quads",
    "solutions",
    "triples",
]
