"""The SPARQL endpoint: the Protocol and the Graph Store Protocol, as one door.

One module per job, mounted by the thin routers ``http/sparql.py`` and
``http/gsp.py``:

- :mod:`.protocol`    the Protocol's vocabulary: negotiation, the dataset, form reading, its errors
- :mod:`.results`     a query evaluated to the bytes of its answer, under the result cap
- :mod:`.updates`     the update dataset (``using-graph-uri``) written into the update text
- :mod:`.guard`       what a client's text may ask of the server (SERVICE, LOAD, nesting)
- :mod:`.workers`     pre-forked query processes that a deadline really stops
- :mod:`.runner`      the runner: queries in the workers (or handed on), updates in place
- :mod:`.derived`     the derived graphs a query names, in a private copy
- :mod:`.graph_store` the Graph Store Protocol's operations
- :mod:`.token`       the bearer-token check

The lexer every scan of SPARQL text uses is :mod:`bepgraph.sparql_lexer`
(layer 0), since the store and the shape compiler read query text too.
Nothing is imported here, so importing one module does not load the rest.
"""
