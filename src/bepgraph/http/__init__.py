"""The HTTP doors: one router per door, assembled by :func:`bepgraph.http.app.create_app`."""
