"""The SPARQL lexer: how comments, strings and IRIs are read, declared once for every scan of query text.

Why one: the store binds values at the head of a WHERE group, the endpoint
caps a SELECT and places an update's USING clauses, the guard looks for
SERVICE and LOAD, and the shape compiler pre-binds a focus node; each must
skip the same things (a keyword inside a string, comment or IRI is no
keyword), and a second reading of a string would one day disagree with the
first. Each scan adds the tokens it needs to :data:`SKIP` with
:func:`tokens`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["IRI", "SKIP", "STRING_OR_COMMENT", "blank_strings_and_comments", "declares_dataset", "keywords", "scan",
           "tokens", "top_level_words"]

STRING_OR_COMMENT = (r"""\#[^\n]*|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
                     r"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
IRI = r"""<[^<>"{}|^`\\\s]*>"""
SKIP = STRING_OR_COMMENT + "|" + IRI  # what no scan looks inside


_SKIPPED = re.compile(SKIP)


def blank_strings_and_comments(text: str) -> str:
    """*text* with each string and comment replaced by a space and every IRI kept whole, for a scan that reads
    IRIs itself (a ``#`` inside an IRI starts no comment; a quote inside a long string ends nothing)."""
    return _SKIPPED.sub(lambda m: m.group() if m.group().startswith("<") else " ", text)


def tokens(*alternatives: str, skip: str = SKIP, flags: int = 0) -> re.Pattern[str]:
    """A pattern whose group ``skip`` reads *skip* (strings, comments, IRIs) and whose other groups are *alternatives*."""
    return re.compile(f"(?P<skip>{skip})|" + "|".join(alternatives), flags)


_WORD = r"(?P<word>(?<![\w:?$@-])[A-Za-z]+(?![\w:-]))"
_TOKENS = tokens(r"(?P<open>\{)|(?P<close>\})|(?P<semi>;)", _WORD)


def keywords(*words: str) -> re.Pattern[str]:
    """Braces, parentheses and only *words*: everything else is skipped at regex speed.

    The lookahead lets the engine pass over a position that cannot start a
    token without trying every branch.
    """
    starts = "".join(sorted({w[0].upper() + w[0].lower() for w in words}))
    pattern = tokens(r"(?P<open>\{)|(?P<close>\})|(?P<paren>[()])",
                     f"(?P<word>(?<![\\w:?$@-])(?i:{'|'.join(words)})(?![\\w:-]))").pattern
    return re.compile("(?=[#\"'<{}()" + starts + "])(?:" + pattern + ")")


_FROM_WORD = keywords("FROM")


def top_level_words(text: str) -> Iterable[tuple[str, int, int, int]]:
    """(upper-cased word or ';', start, end, brace depth) for every keyword outside strings and IRIs."""
    depth = 0
    for m in _TOKENS.finditer(text):
        if m.group("skip"):
            continue
        if m.group("open"):
            depth += 1
        elif m.group("close"):
            depth -= 1
        elif m.group("semi"):
            yield ";", m.start(), m.end(), depth
        else:
            yield m.group("word").upper(), m.start(), m.end(), depth


def scan(text: str, pattern: re.Pattern[str]) -> Iterable[tuple[str, int, int, int, int]]:
    """(upper-cased keyword or '{' or '}', start, end, brace depth before it, paren depth) outside strings and IRIs,
    for a *pattern* made by :func:`keywords`."""
    depth = parens = 0
    for m in pattern.finditer(text):
        if m.group("skip"):
            continue
        if m.group("paren"):
            parens += 1 if m.group("paren") == "(" else -1
        elif m.group("open"):
            yield "{", m.start(), m.end(), depth, parens
            depth += 1
        elif m.group("close"):
            depth -= 1
            yield "}", m.start(), m.end(), depth, parens
        elif m.group("word"):
            yield m.group("word").upper(), m.start(), m.end(), depth, parens


def declares_dataset(query: str) -> bool:
    """Whether the query names its own dataset (``FROM``/``FROM NAMED``), which the union default must not override."""
    return any(word == "FROM" and depth == 0 for word, _, _, depth, _ in scan(query, _FROM_WORD))
