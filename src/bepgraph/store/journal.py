"""What a load writes besides its graphs: the graph/meta records of its sources, the journal of a load in
progress (so a crash drops what it wrote), and the commit that makes its changes visible together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import BEP, DCTERMS, PROV, RDF, XSD, graph_iri

__all__ = ["ADDS_TO", "COMMITTED", "Commit", "JOURNAL", "META", "MOVES_TO", "PENDING", "STAGING", "provenance_quads"]

META = graph_iri("meta")
JOURNAL = graph_iri("journal")  # the graphs a load in progress has written, dropped if it never commits
STAGING = graph_iri("staging/")
PENDING = BEP + "pendingGraph"
COMMITTED = BEP + "committed"
MOVES_TO = BEP + "movesTo"  # in the journal of a committed load: staging graph -> the graph it becomes
ADDS_TO = BEP + "addsTo"  # likewise, for a staging graph of records added to graph/meta


def provenance_quads(graph: str, source: str, sha256: str, extra: Mapping[str, str] | None = None) -> list[ox.Quad]:
    """The graph/meta record of a source graph: its file, sha256 and load time."""
    g, meta = ox.NamedNode(graph), ox.NamedNode(META)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    quads = [
        ox.Quad(g, ox.NamedNode(_PROV_TYPE), ox.NamedNode(PROV + "Entity"), meta),
        ox.Quad(g, ox.NamedNode(DCTERMS + "source"), ox.Literal(source), meta),
        ox.Quad(g, ox.NamedNode(BEP + "sha256"), ox.Literal(sha256), meta),
        ox.Quad(g, ox.NamedNode(PROV + "generatedAtTime"),
                ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime")), meta),
    ]
    path = Path(source)
    if path.is_absolute():
        quads.append(ox.Quad(g, ox.NamedNode(PROV + "wasDerivedFrom"), ox.NamedNode(path.as_uri()), meta))
    for key, value in (extra or {}).items():
        quads.append(ox.Quad(g, ox.NamedNode(BEP + key), ox.Literal(value), meta))
    return quads


_PROV_TYPE = RDF + "type"


@dataclass
class Commit:
    """A load's changes to the store, made visible together or not at all.

    New sources were already written to their staging graphs (see
    :meth:`Store.staging_graph`); the commit moves each into place, removes
    the graph/meta records of the sources it replaces (*forget*), and
    deletes and inserts the quads given (records, facts changing owner).
    """

    moves: dict[str, str] = field(default_factory=dict)  # staging graph -> final graph
    adds: dict[str, str] = field(default_factory=dict)  # staging graph -> graph it is added to (graph/meta)
    forget: list[str] = field(default_factory=list)
    deletes: list[ox.Quad] = field(default_factory=list)
    inserts: list[ox.Quad] = field(default_factory=list)

    def update_text(self, pending: bool, moves: bool = True) -> str:
        """The commit as one SPARQL 1.1 Update request (one transaction on stores that have them).

        Without *moves*, the staging graphs are left for the caller to move
        (and the journal is kept): the on-disk store moves them itself.
        """
        ops = [f"DELETE WHERE {{ GRAPH <{META}> {{ <{ox.NamedNode(g).value}> ?p ?o }} }}" for g in self.forget]
        if self.deletes:
            ops.append("DELETE DATA { " + " ".join(f"{_quad_text(q)}" for q in self.deletes) + " }")
        if self.inserts:
            ops.append("INSERT DATA { " + " ".join(f"{_quad_text(q)}" for q in self.inserts) + " }")
        for staging, final in self.moves.items() if moves else ():
            if staging != final:  # a staging graph a source filled with nothing new does not exist
                ops += [f"DROP SILENT GRAPH <{ox.NamedNode(final).value}>",
                        f"MOVE SILENT <{ox.NamedNode(staging).value}> TO <{ox.NamedNode(final).value}>"]
        for staging, target in self.adds.items() if moves else ():
            ops += [f"ADD SILENT <{ox.NamedNode(staging).value}> TO <{ox.NamedNode(target).value}>",
                    f"DROP SILENT GRAPH <{ox.NamedNode(staging).value}>"]
        if pending:
            ops.append(f"DROP SILENT GRAPH <{JOURNAL}>")
        return " ;\n".join(ops) if ops else ""


def _quad_text(quad: ox.Quad) -> str:
    return f"GRAPH {quad.graph_name} {{ {quad.subject} {quad.predicate} {quad.object} }}"

