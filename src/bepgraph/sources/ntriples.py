"""N-Triples terms written as text.

The readers emit N-Triples lines rather than term objects: a million-trade
blotter is about ten million triples, and formatting text is the one way
through Python that keeps loading inside a minute. Escaping follows the
N-Triples grammar, so no cell can break out of its literal.
"""

from __future__ import annotations

from ..namespaces import BEP, XSD

__all__ = [
    "XSD",
    "bep",
    "iri",
    "literal",
    "typed",
    "triple",
]

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """An IRI term; *value* must already be a valid IRI (minted by namespaces)."""
    return f"<{value}>"


def bep(local: str) -> str:
    """A term of the bep: ontology, or a full IRI given in angle brackets."""
    return local if local.startswith("<") else f"<{BEP}{local}>"


def literal(text: str) -> str:
    """A plain xsd:string literal with every character that could end it escaped."""
    return '"' + text.translate(_ESCAPES) + '"'


def typed(text: str, datatype: str) -> str:
    """A typed literal; *datatype* is an XSD local name such as ``date`` or ``decimal``."""
    return '"' + text.translate(_ESCAPES) + '"^^<' + XSD + datatype + ">"


def triple(s: str, p: str, o: str) -> str:
    return f"{s} {p} {o} .\n"
