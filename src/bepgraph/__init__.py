"""bepgraph: the JNL Series Trust Brokerage Enhancement Plan as a compliance knowledge graph.

Data flows one way: the filing and a facts bundle are read by ``sources``,
written into the ``store``, and read back out by validation, SPARQL, GraphQL
and the board views.
"""

from .version import __version__

__all__ = ["__version__"]
