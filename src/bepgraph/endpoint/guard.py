"""What a client's SPARQL text may ask of the server before the engine sees it.

Why a scan of our own: pyoxigraph evaluates ``SERVICE`` and ``LOAD`` by
making HTTP requests from the server, and offers no switch to turn that off;
so anyone who can reach ``/sparql`` could make the server call addresses only
it can reach. And its parser and evaluator recurse on the query's nesting: a
query nested a few thousand groups deep overflows the stack of the process
that parses it (the query worker, or for an update the server itself). Both
are decided here, on tokens (strings, IRIs and comments are read as such, so
a literal or comment that merely contains the word SERVICE is no call), and
refused with a 400 that says why, before a worker or the store is involved.

An endpoint is allowed only when the operator listed it
(``BEPGRAPH_SERVICE_ALLOW``): the IRI after ``SERVICE`` (or ``LOAD``) is
resolved as the parser would (``PREFIX`` and ``BASE`` declarations, the
request's base IRI) and compared with the list exactly. A ``SERVICE`` whose
endpoint is a variable, and ``LOAD`` of a ``file:`` IRI, are never allowed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from urllib.parse import urljoin

from ..errors import QueryError
from ..sparql_lexer import IRI, STRING_OR_COMMENT, tokens

__all__ = ["MAX_NESTING", "MAX_OPERATORS", "GuardError", "check_query", "check_update"]

MAX_NESTING = 100  # groups, parentheses and brackets inside each other; curated queries stay under 10
MAX_OPERATORS = 2_000  # operators and UNION/MINUS/OPTIONAL in one text; each deepens the parse tree

_LEX = tokens(
    r"""(?P<iri>""" + IRI + ")",
    r"""(?P<pname>(?:[A-Za-z][\w.-]*)?:(?:[\w:%-]|\.(?=[\w:%-])|\\.)*)""",
    r"""(?P<var>[?$]\w+)""",
    r"""(?P<word>[A-Za-z_]\w*)""",
    r"""(?P<open>[{(\[])|(?P<close>[})\]])""",
    r"""(?P<op>&&|\|\||!=|<=|>=|[!+*/|^=<>]|-(?![\d.]))""",
    skip=STRING_OR_COMMENT + r"""|@[A-Za-z]+(?:-[A-Za-z0-9]+)*|_:[\w.-]*|\^\^""",
)
_DEEPENING_WORDS = frozenset({"UNION", "MINUS", "OPTIONAL"})


class GuardError(QueryError):
    """A query or update the server refuses to run (400): an outbound call, or nesting past the bounds."""

    status = 400

    def __init__(self, detail: str, kind: str) -> None:
        super().__init__(detail)
        self.kind = kind


def check_query(text: str, base_iri: str | None, allowed: Sequence[str]) -> None:
    """Raise :class:`GuardError` unless *text* may be run as a query here."""
    _checked(text, base_iri, tuple(allowed), False)


def check_update(text: str, base_iri: str | None, allowed: Sequence[str]) -> None:
    """Raise :class:`GuardError` unless *text* may be run as an update here (``LOAD`` only from *allowed*)."""
    _checked(text, base_iri, tuple(allowed), True)


_NOT_OPERATOR_CHARS = {ord(c): None for c in "!&|+*/^=<>-"}


def _plainly_fine(text: str) -> bool:
    """Whether *text* cannot be refused, by counts that bound the scan's from above (C speed, no tokens):
    no 'service' or 'load' anywhere, fewer brackets than the nesting bound, fewer operator characters and
    deepening words than the operator bound. Most queries are decided here, without the scan."""
    low = text.lower()  # str methods, not case-blind regexes: those cost more than the whole check
    if "service" in low or "load" in low:
        return False
    if text.count("{") + text.count("(") + text.count("[") > MAX_NESTING:
        return False
    deepening = low.count("union") + low.count("minus") + low.count("optional")
    return len(text) - len(text.translate(_NOT_OPERATOR_CHARS)) + deepening <= MAX_OPERATORS


def _checked(text: str, base_iri: str | None, allowed: tuple[str, ...], update: bool) -> None:
    if _plainly_fine(text):
        return
    if len(text) <= 1 << 14:
        refusal = _remembered(text, base_iri, allowed, update)
    else:
        refusal = _refusal(text, base_iri, allowed, update)
    if refusal is not None:
        raise GuardError(*refusal)


@functools.lru_cache(maxsize=256)
def _remembered(text: str, base_iri: str | None, allowed: tuple[str, ...], update: bool) -> tuple[str, str] | None:
    """The same texts come again and again (dashboards, YASGUI re-runs): the scan is done once for each."""
    return _refusal(text, base_iri, allowed, update)


def _refusal(text: str, base_iri: str | None, allowed: tuple[str, ...], update: bool) -> tuple[str, str] | None:
    """(detail, kind) of the first reason to refuse *text*, or None."""
    tokens = [(m.lastgroup or "", m.group()) for m in _LEX.finditer(text) if m.lastgroup != "skip"]
    depth = deepest = operators = 0
    base = base_iri
    prefixes: dict[str, str] = {}
    for at, (kind, value) in enumerate(tokens):
        if kind == "open":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    return (f"the {'update' if update else 'query'} nests groups or parentheses more than "
                            f"{MAX_NESTING} deep; flatten it", "QueryTooComplex")
        elif kind == "close":
            depth -= 1
        elif kind == "op":
            operators += 1
        elif kind == "word":
            word = value.upper()
            if word in _DEEPENING_WORDS:
                operators += 1
            elif word == "BASE" and _kind(tokens, at + 1) == "iri":
                base = _resolve(tokens[at + 1][1][1:-1], base)
            elif word == "PREFIX" and _kind(tokens, at + 1) == "pname" and _kind(tokens, at + 2) == "iri":
                prefixes[tokens[at + 1][1].split(":", 1)[0]] = _resolve(tokens[at + 2][1][1:-1], base)
            elif word == "SERVICE":
                refused = _outbound(tokens, at, base, prefixes, allowed, "SERVICE")
                if refused:
                    return refused, "ServiceRefused"
            elif word == "LOAD" and update:
                refused = _outbound(tokens, at, base, prefixes, allowed, "LOAD")
                if refused:
                    return refused, "LoadRefused"
        if operators > MAX_OPERATORS:
            return (f"the {'update' if update else 'query'} has more than {MAX_OPERATORS} operators "
                    "(&&, ||, +, UNION, OPTIONAL, …); split it", "QueryTooComplex")
    return None


def _kind(tokens: list[tuple[str, str]], at: int) -> str | None:
    return tokens[at][0] if at < len(tokens) else None


def _resolve(iri: str, base: str | None) -> str:
    return urljoin(base, iri) if base and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri) else iri


def _outbound(tokens: list[tuple[str, str]], at: int, base: str | None, prefixes: dict[str, str],
              allowed: tuple[str, ...], keyword: str) -> str | None:
    """Why the endpoint named after ``SERVICE``/``LOAD`` at *at* may not be called, or None when it may."""
    at += 1
    if _kind(tokens, at) == "word" and tokens[at][1].upper() == "SILENT":
        at += 1
    kind, value = tokens[at] if at < len(tokens) else ("", "")
    if kind == "iri":
        target = _resolve(value[1:-1], base)
    elif kind == "pname" and value.split(":", 1)[0] in prefixes:
        prefix, local = value.split(":", 1)
        target = prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    elif kind == "var" and keyword == "SERVICE":
        return "SERVICE with a variable endpoint is refused: this server makes no calls to endpoints it is not told of"
    else:
        return f"{keyword} must name its source by an IRI; '{value or 'nothing'}' is none"
    what = "federated queries (SERVICE)" if keyword == "SERVICE" else "LOAD"
    if keyword == "LOAD" and target.lower().startswith("file:"):
        return f"LOAD <{target}> is refused: this server never reads its own files for a client"
    if target in allowed:
        return None
    if not allowed:
        return (f"{keyword} <{target}> is refused: this server makes no outbound calls; {what} "
                "work only with endpoints the operator lists in BEPGRAPH_SERVICE_ALLOW")
    return f"{keyword} <{target}> is refused: it is not among the endpoints listed in BEPGRAPH_SERVICE_ALLOW"
