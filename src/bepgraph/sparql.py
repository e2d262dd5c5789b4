"""Named queries: the ``.rq`` files of ``queries/``, each parsed for its banner once.

A query file opens with a banner that says what it is for and declares its
parameters with their types; values given by a user are turned into typed
RDF terms by that declaration and bound, never written into the text::

    # Title: Commissions by broker
    # Purpose: …
    # Parameters:
    #   ?from    xsd:date   first trade date counted (optional)
    #   ?series  series     the series, by bundle id
    # Columns:
    #   ?broker  the executing broker
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from .errors import ParameterError, QueryError
from .namespaces import TABLE_OF_KIND, XSD, entity_iri
from .resources import query_dir
from .store import QueryResult, Store, Term

__all__ = ["NamedQuery", "Parameter", "bind", "find_query", "named_queries", "parse_banner", "run", "to_term"]

_SECTION = re.compile(r"^#\s*([A-Z][A-Za-z ]*):\s*(.*)$")
_PARAM = re.compile(r"^#\s+\?([A-Za-z_]\w*)\s+(\S+)\s*(.*)$")
_COLUMN = re.compile(r"^#\s+\?([A-Za-z_]\w*)\s*(.*)$")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")

# parameter types: XSD datatypes, "iri", or an entity kind ("series", "organization", …) meaning a bundle id
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SCALARS = {"xsd:date", "xsd:decimal", "xsd:integer", "xsd:boolean", "xsd:string", "iri"}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str
    optional: bool


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    title: str = ""
    purpose: str = ""
    parameters: tuple[Parameter, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)


def parse_banner(name: str, path: Path, text: str) -> NamedQuery:
    """Read the banner of a query file; unknown parameter types are an error of the file."""
    info: dict[str, str] = {}
    params: list[Parameter] = []
    columns: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        head = _SECTION.match(line)
        if head:
            section = head.group(1).strip().lower()
            info[section] = head.group(2).strip()
            continue
        if section == "parameters" and (m := _PARAM.match(line)):
            kind = m.group(2)
            if kind not in _SCALARS and kind not in TABLE_OF_KIND:
                raise QueryError(f"{path}: parameter ?{m.group(1)} has unknown type '{kind}'")
            desc = m.group(3).strip()
            params.append(Parameter(m.group(1), kind, desc, "(optional)" in desc))
        elif section == "columns" and (m := _COLUMN.match(line)):
            columns[m.group(1)] = m.group(2).strip()
        elif section and section in info:
            info[section] = (info[section] + " " + line.lstrip("# ").strip()).strip()
    return NamedQuery(name, path, text, info.get("title", ""), info.get("purpose", ""), tuple(params), columns)


@lru_cache(maxsize=1)
def named_queries() -> dict[str, NamedQuery]:
    """Every ``.rq`` under queries/, by its path without the suffix (``analyst/credits-by-broker``)."""
    root = query_dir()
    found: dict[str, NamedQuery] = {}
    for path in sorted(root.rglob("*.rq")):
        name = path.relative_to(root).with_suffix("").as_posix()
        found[name] = parse_banner(name, path, path.read_text(encoding="utf-8"))
    return found


def find_query(name_or_path: str) -> NamedQuery:
    """A named query by full name, by unique last part (``credits-by-broker``) or a ``.rq`` file."""
    queries = named_queries()
    if name_or_path in queries:
        return queries[name_or_path]
    matches = [q for n, q in queries.items() if n.rsplit("/", 1)[-1] == name_or_path]
    if len(matches) == 1:
        return matches[0]
    path = Path(name_or_path)
    if path.suffix == ".rq" and path.is_file():
        return parse_banner(path.stem, path, path.read_text(encoding="utf-8"))
    if len(matches) > 1:
        raise QueryError(f"'{name_or_path}' is ambiguous: {', '.join(q.name for q in matches)}")
    raise QueryError(f"no query named '{name_or_path}' (see `bepgraph query --list`)")


def to_term(param: Parameter, raw: str) -> Term:
    """The RDF term for a user's value of *param*; malformed values are a ParameterError."""
    kind = param.type
    try:
        if kind == "xsd:date":
            # the bundle's form only: Python alone would also take '20030516' or '2003-W01-1'
            if not _DATE.fullmatch(raw):
                raise ValueError
            return ox.Literal(date.fromisoformat(raw).isoformat(), datatype=ox.NamedNode(XSD + "date"))
        if kind == "xsd:decimal":
            # the xsd:decimal lexical form, as the bundle takes money: Decimal alone would let
            # '1e3' or ' 12' through as literals that are not decimals and never match
            if not _DECIMAL.fullmatch(raw):
                raise ValueError
            return ox.Literal(raw, datatype=ox.NamedNode(XSD + "decimal"))
        if kind == "xsd:integer":
            return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
        if kind == "xsd:boolean":
            if raw not in ("true", "false"):
                raise ValueError
            return ox.Literal(raw, datatype=ox.NamedNode(XSD + "boolean"))
        if kind == "iri":
            return ox.NamedNode(raw)
        if kind in TABLE_OF_KIND:
            return ox.NamedNode(entity_iri(TABLE_OF_KIND[kind], raw))
        return ox.Literal(raw)
    except ValueError:
        raise ParameterError(f"parameter {param.name}: '{raw}' is not a valid {kind}") from None


def bind(query: NamedQuery, values: Mapping[str, str] | None = None) -> dict[str, Term]:
    """The user's *values* (strings) as terms typed by the query's banner; checked before any work."""
    values = dict(values or {})
    declared = {p.name: p for p in query.parameters}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ParameterError(
            f"{query.name} has no parameter {', '.join(unknown)} "
            f"(it takes: {', '.join(declared) or 'none'})"
        )
    bindings: dict[str, Term] = {}
    for param in query.parameters:
        if param.name in values:
            bindings[param.name] = to_term(param, values[param.name])
        elif not param.optional:
            raise ParameterError(f"{query.name} needs --param {param.name}=… ({param.type}: {param.description})")
    return bindings


def run(store: Store, query: NamedQuery, values: Mapping[str, str] | None = None) -> QueryResult:
    """Run *query* with the user's *values* typed by its banner and bound."""
    return store.query(query.text, bind(query, values))
