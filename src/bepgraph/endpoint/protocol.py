"""The SPARQL 1.1 Protocol's vocabulary without HTTP: content negotiation, the dataset, form reading, errors.

The router (``http/sparql.py``) only reads the request and writes the
response; everything it decides on is in this package (:mod:`bepgraph.endpoint`),
so it can be tested and reused without a server.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus

import pyoxigraph as ox

from ..errors import QueryError

__all__ = [
    "GRAPH_FORMATS",
    "RESULTS_FORMATS",
    "Answer",
    "Dataset",
    "ProtocolError",
    "body_text",
    "every",
    "graph_iris",
    "media_of",
    "negotiate",
    "parse_form",
    "single",
    "utf8_only",
]

RESULTS_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


class ProtocolError(QueryError):
    """A request the Protocol answers with an error status: *status* is the HTTP status to send."""

    def __init__(self, status: int, detail: str, kind: str = "QueryError") -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind


def graph_iris(names: Sequence[str], parameter: str) -> tuple[str, ...]:
    """*names* checked as IRIs, as the Protocol's graph parameters must be."""
    for name in names:
        try:
            ox.NamedNode(name)
        except ValueError:
            raise ProtocolError(400, f"{parameter} '{name}' is not an absolute IRI", "MalformedQuery") from None
    return tuple(names)


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset named by the request; ``None`` lists mean "not given"."""

    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None

    @classmethod
    def of(cls, default: Sequence[str], named: Sequence[str]) -> "Dataset":
        """The dataset a request names; a name that is not an absolute IRI is the client's error (400)."""
        if not default and not named:
            return cls()
        return cls(graph_iris(default, "default-graph-uri"), graph_iris(named, "named-graph-uri"))

    @property
    def given(self) -> bool:
        return self.default_graphs is not None


@dataclass(frozen=True)
class Answer:
    media_type: str
    body: bytes | bytearray  # a worker's answer stays in the buffer it was read into


# --- content negotiation ----------------------------------------------------------------------

def _accepted(accept: str | None) -> list[tuple[float, int, str]]:
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept or "*/*").split(",")):
        parts = [p.strip() for p in item.split(";")]
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if parts[0] and quality > 0:
            ranges.append((-quality, position, parts[0].lower()))
    return sorted(ranges)


def negotiate(accept: str | None, offered: Sequence[str], default: str) -> str:
    """The media type of *offered* the client prefers (``*/*`` gets *default*); 406 if none."""
    for _, _, wanted in _accepted(accept):
        if wanted == "*/*":
            return default
        if wanted.endswith("/*"):
            prefix = wanted[:-1]
            if default.startswith(prefix):
                return default
            match = next((o for o in offered if o.startswith(prefix)), None)
        else:
            match = wanted if wanted in offered else None
        if match:
            return match
    raise ProtocolError(406, f"none of the accepted types ({accept}) can carry this answer; "
                             f"ask for one of: {', '.join(offered)}", "NotAcceptable")


# --- reading a form ------------------------------------------------------------------------------

# a '%' that does not start a valid escape (a search led by the literal '%' skips ahead at C speed)
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(raw: bytes) -> str:
    """``urllib.parse.unquote_plus`` of UTF-8 *raw*, strictly, with the escapes decoded in C.

    Why: ``unquote`` decodes escape by escape in Python, and a curated query
    posted as a form has hundreds of them: a real share of a small request. With
    '%' read as '=', quoted-printable decoding (``binascii.a2b_qp``) is the
    same operation, whenever nothing else in *raw* means something to it.
    """
    if b"%" not in raw:
        return raw.replace(b"+", b" ").decode()
    # what a2b_qp would read otherwise: a raw '=' (a soft line break, or an escape to it), a raw
    # line break, or a '%' that is no escape
    if b"=" in raw or b"\r" in raw or b"\n" in raw or _BAD_ESCAPE.search(raw):
        return unquote_plus(raw.decode(), errors="strict")
    return binascii.a2b_qp(raw.replace(b"+", b" ").replace(b"%", b"=")).decode()


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """The fields of an ``application/x-www-form-urlencoded`` body or a query string, as
    ``parse_qsl(..., keep_blank_values=True)`` gives them; :class:`UnicodeDecodeError` for bytes or escapes
    that are not UTF-8."""
    fields: list[tuple[str, str]] = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        fields.append((_unquote_plus(name), _unquote_plus(value)))
    return fields


# --- the request's parameters and body ---------------------------------------------------------------

def single(params: list[tuple[str, str]], name: str) -> str | None:
    """The one value of parameter *name* (None if absent); given twice is the client's error (400)."""
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise ProtocolError(400, f"the request gives '{name}' {len(values)} times; give it once")
    return values[0] if values else None


def every(params: list[tuple[str, str]], name: str) -> list[str]:
    """Every value of parameter *name*, in order (the graph parameters may repeat)."""
    return [v for k, v in params if k == name]


def media_of(content_type: str | None) -> tuple[str, str | None]:
    """A POST's media type and charset (None when it names none); no Content-Type at all is a 415."""
    if not content_type:
        raise ProtocolError(415, "a POST needs a Content-Type: application/x-www-form-urlencoded, "
                                 "application/sparql-query or application/sparql-update", "UnsupportedMediaType")
    parts = [p.strip() for p in content_type.split(";")]
    charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in parts[1:]
                    if p.lower().startswith("charset=")), None)
    return parts[0].lower(), charset


def utf8_only(charset: str | None) -> None:
    """Refuse (415) a body in any charset but UTF-8."""
    if charset not in (None, "utf-8", "utf8"):
        raise ProtocolError(415, f"the body must be UTF-8, not {charset}", "UnsupportedMediaType")


def body_text(body: bytes, charset: str | None) -> str:
    """A direct POST's query or update text (UTF-8 only)."""
    utf8_only(charset)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the body is not valid UTF-8: {exc}") from None
