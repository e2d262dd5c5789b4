"""Prefixes and IRI minting: the one place that says what an IRI looks like.

Entity IRIs follow ``{DATA}{kind}/{id}`` where *kind* is the singular of the
bundle table (``transaction``, ``series``…), so the focus of a finding
(``{"table": "transactions", "id": "T-1"}``) and its IRI can be turned into
each other without a lookup.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

__all__ = [
    "BASE",
    "BEP",
    "DATA",
    "DCTERMS",
    "GRAPH",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SH",
    "SKOS",
    "XSD",
    "KIND_OF_TABLE",
    "OWL",
    "TABLE_OF_KIND",
    "entity_iri",
    "graph_iri",
    "split_entity_iri",
    "sparql_prefixes",
]

BASE = "https://w3id.org/bepgraph/"
BEP = BASE + "ontology#"
DATA = BASE + "id/"
GRAPH = BASE + "graph/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
PROV = "http://www.w3.org/ns/prov#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"

PREFIXES: dict[str, str] = {
    "bep": BEP,
    "bepid": DATA,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
    "sh": SH,
}

# bundle table -> IRI path segment of its rows
KIND_OF_TABLE: dict[str, str] = {
    "organizations": "organization",
    "series": "series",
    "trustees": "trustee",
    "relationships": "relationship",
    "agreements": "agreement",
    "agreement_events": "agreement-event",
    "meetings": "meeting",
    "matters": "matter",
    "ballots": "ballot",
    "shareholder_votes": "shareholder-vote",
    "transactions": "transaction",
    "benefits": "benefit",
    "expenditures": "expenditure",
    "reports": "report",
    "records": "record",
    "plan": "plan",
}
TABLE_OF_KIND: dict[str, str] = {kind: table for table, kind in KIND_OF_TABLE.items()}

_SAFE = "-._~!$&'()*+,;=:@/"


def entity_iri(table: str, ident: str) -> str:
    """The IRI of row *ident* of bundle table *table* (``plan`` is the plan itself)."""
    if table == "plan":
        return DATA + "plan"
    return f"{DATA}{KIND_OF_TABLE[table]}/{quote(ident, safe=_SAFE)}"


def split_entity_iri(iri: str) -> tuple[str, str] | None:
    """(table, id) of an entity IRI minted by :func:`entity_iri`, or None for any other IRI."""
    if not iri.startswith(DATA):
        return None
    rest = iri[len(DATA):]
    if rest == "plan":
        return ("plan", "plan")
    kind, _, ident = rest.partition("/")
    table = TABLE_OF_KIND.get(kind)
    if table is None or not ident or kind == "plan":
        return None
    return (table, unquote(ident))


def graph_iri(name: str) -> str:
    """The IRI of a named graph: ``filing``, ``derived``, ``findings``, ``meta`` or ``bundle/<slug>``."""
    return GRAPH + name


def sparql_prefixes(names: list[str] | None = None) -> str:
    """PREFIX lines for the given prefixes (all by default), for generated query text."""
    chosen = names or list(PREFIXES)
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in chosen)
