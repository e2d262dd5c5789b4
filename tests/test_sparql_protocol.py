"""Reading the Protocol's forms: the endpoint's own decoder against the standard library's."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, urlencode

import pytest

from bepgraph.endpoint.protocol import parse_form

# pieces that mean something to percent-decoding or to quoted-printable decoding (which the fast path uses)
PIECES = ["a", "=", "&", "+", "%", "%4", "%41", "%3d", "%3D", "%zz", "%%41", "%e2%82%ac", "%E2%82", "%ff",
          "%C3%A9", "%00", "%0A", "%0d", "%20", "%09", "\t", " ", "_", "é", "\n", "\r", "=\n", "\x00", ";", "?",
          "#", "<"]


def _read(read: object, text: str) -> object:
    try:
        return read(text)  # type: ignore[operator]
    except UnicodeDecodeError:
        return UnicodeDecodeError


def test_a_form_is_read_exactly_as_parse_qsl_reads_it() -> None:
    pick = random.Random(5)
    for _ in range(20_000):
        text = "".join(pick.choice(PIECES) for _ in range(pick.randint(0, 12)))
        expected = _read(lambda t: parse_qsl(t, keep_blank_values=True, errors="strict"), text)
        assert _read(lambda t: parse_form(t.encode()), text) == expected, repr(text)


def test_a_posted_query_comes_back_character_for_character() -> None:
    query = ('PREFIX ex: <http://example.org/ns#> # a comment with 100% & "quotes"\n'
             'SELECT ?s (CONCAT(?a, "+", ?b) AS ?c) WHERE { ?s ex:p "é €" ; ex:q ?a . FILTER(?a != "=") }')
    body = urlencode({"query": query, "default-graph-uri": "http://example.org/g?x=1&y=2"}).encode()
    assert parse_form(body) == [("query", query), ("default-graph-uri", "http://example.org/g?x=1&y=2")]


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        parse_form(b"query=%ff%fe")
    with pytest.raises(UnicodeDecodeError):
        parse_form(b"query=\xff")
