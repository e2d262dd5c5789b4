"""The GraphQL door's schema: one module per type family, assembled in :mod:`bepgraph.graphql.schema`.

Resolvers read the store only through the named queries of
``queries/graphql/`` with bound values, batched per request by the
DataLoaders of :mod:`bepgraph.graphql.loaders`.
"""
