"""The Protocol's update dataset (``using-graph-uri``) written into the update text, and what an update does."""

from __future__ import annotations

from collections.abc import Sequence

from ..sparql_lexer import top_level_words
from .protocol import ProtocolError, graph_iris

__all__ = ["loads", "rewrite_update"]


def rewrite_update(update: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """*update* with the Protocol's ``using-graph-uri``/``using-named-graph-uri`` written as USING clauses.

    pyoxigraph takes no dataset for an update, so the dataset goes where the
    grammar puts it: before the ``WHERE`` of every DELETE/INSERT operation.
    An operation that already says USING or WITH is a conflict (the
    Protocol's rule), and so is a ``DELETE WHERE`` shortcut, which has no
    place for USING.
    """
    if not using and not using_named:
        return update
    using, using_named = graph_iris(using, "using-graph-uri"), graph_iris(using_named, "using-named-graph-uri")
    clause = " " + " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named]) + " "
    inserts: list[int] = []
    words: list[str] = []
    for word, start, _, depth in list(top_level_words(update)) + [(";", len(update), len(update), 0)]:
        if depth != 0:
            continue
        if word == ";":
            words = []
            continue
        words.append(word)
        if word in ("USING", "WITH"):
            raise ProtocolError(400, "the update names its own dataset (USING or WITH) and the request "
                                     "gives using-graph-uri/using-named-graph-uri: give only one of them")
        if word == "WHERE" and words[:1] in (["DELETE"], ["INSERT"]):
            if words[:2] == ["DELETE", "WHERE"]:
                raise ProtocolError(400, "using-graph-uri cannot apply to DELETE WHERE { … }; "
                                         "write DELETE { … } WHERE { … } instead")
            inserts.append(start)
    for at in reversed(inserts):
        update = update[:at] + clause + update[at:]
    return update


def loads(update: str) -> bool:
    """Whether *update* has a LOAD operation (its failures are the source's, not the store's)."""
    return any(word == "LOAD" for word, _, _, _ in top_level_words(update))
