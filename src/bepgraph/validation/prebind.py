"""SHACL-SPARQL pre-binding as plain SPARQL 1.1 over all focus nodes at once, and the queries SHACL forbids.

SHACL pre-binds ``$this`` (and ``$currentShape``, ``$shapesGraph``, a
component's parameters, an ASK validator's ``$value``) as if each focus
node were substituted into the query. The engine runs one query for all
focus nodes instead, with the target pattern at the head of the WHERE
group. Bottom-up SPARQL evaluation gives the same solutions wherever a
pre-bound variable occurs only in triple patterns: a nested group, a
``UNION`` branch, ``OPTIONAL`` or ``GRAPH`` joins with the target on it. It
differs where an *expression* reads the variable inside a nested group (a
``FILTER``, a ``BIND``, an ``EXISTS``), since there the variable is still
unbound; such a group gets the pre-binding pattern at its own head too, so
it is bound exactly where SHACL says it is. Inside ``EXISTS`` SPARQL
substitutes the outer solution itself. A sub-``SELECT`` must project
``$this`` and group by it when it aggregates (it is added to its
``GROUP BY``), so each focus node's groups stay its own.

SHACL forbids ``MINUS``, ``VALUES``, ``SERVICE``, a sub-``SELECT`` that does
not project ``$this`` and ``AS`` to a pre-bound variable (SHACL 5.3.1);
``LIMIT``/``OFFSET`` and an aggregate without ``GROUP BY`` would mean one
thing per focus node and another over all of them. Each is refused with
:class:`Refused` before any data is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..sparql_lexer import tokens

__all__ = ["NESTED", "WHERE", "Refused", "rewrite"]

WHERE = "\x03"  # never in a shapes file's query text (control characters are refused first)
NESTED = "\x02"

_TOKEN = tokens(
    r"""(?P<var>[?$][A-Za-z_][A-Za-z0-9_]*)|(?P<open>\{)|(?P<close>\})|(?P<lp>\()|(?P<rp>\))|(?P<star>\*)""",
    r"""(?P<word>(?<![\w:?$.@-])[A-Za-z_]+(?![\w:]))""",
)
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}


class Refused(ValueError):
    """The query uses something SHACL forbids or the engine cannot pre-bind; the message says which."""


@dataclass
class _Select:
    """One SELECT (or ASK) level: where its WHERE group opens, what it projects, how it groups."""

    start: int  # the SELECT keyword's position
    top: bool
    projection: list[str] = field(default_factory=list)  # variables named between SELECT and WHERE
    star: bool = False
    aggregates: bool = False
    where: int = -1  # the position just inside its WHERE group
    group_by: int = -1  # just after GROUP BY
    groups_this: bool = False


@dataclass
class _Frame:
    kind: str  # "where", "group", "exists", "wrap" (the braces around a sub-SELECT)
    inside: int  # position just inside the brace
    select: _Select | None = None
    via: str = ""  # an EXISTS group: the FILTER or BIND it is part of
    binds: set[str] = field(default_factory=set)  # pre-bound variables a triple pattern of its own binds
    filter_uses: set[str] = field(default_factory=set)  # ... a FILTER of its own reads (EXISTS included)
    bind_uses: set[str] = field(default_factory=set)  # ... a BIND of its own reads

    @property
    def needs(self) -> bool:
        """A FILTER applies to the whole group, so a triple pattern binding the variable there is
        enough; a BIND is evaluated where it stands, so it always needs the pre-binding."""
        return bool(self.bind_uses or self.filter_uses - self.binds)


def _use(stack: list[_Frame], name: str, expression: str) -> None:
    """Record where pre-bound *name* occurs: inside an EXISTS, SPARQL substitutes the solution of the
    group holding the outermost EXISTS, so that group reads it; else the innermost group, in the
    *expression* ("FILTER", "BIND") it stands in, or in a triple pattern ("")."""
    for i, f in enumerate(stack):
        if f.kind == "exists":
            if i:
                (stack[i - 1].bind_uses if f.via == "BIND" else stack[i - 1].filter_uses).add(name)
            return
    top = stack[-1]
    {"BIND": top.bind_uses, "FILTER": top.filter_uses}.get(expression, top.binds).add(name)


def rewrite(text: str, *, prebound: frozenset[str], path: str | None, ask: bool = False) -> str:
    """*text* with ``$PATH`` written out, ``$this`` projected and grouped by where it must be.

    :data:`WHERE` marks the place just inside the top WHERE group (the
    target goes there), :data:`NESTED` the head of each nested group that
    needs the pre-binding pattern too.
    """
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the original text
    stack: list[_Frame] = []
    selects: list[_Select] = []
    current: list[_Select] = []  # the SELECT levels we are inside
    pending_select: _Select | None = None
    closed: _Select | None = None  # the SELECT whose WHERE group has just closed
    expr_depth = 0  # > 0 inside FILTER(...)/BIND(...) parentheses
    expr_kind = ""
    expr_wait = False  # FILTER/BIND seen, its parentheses not yet opened
    paren = 0
    last_word = ""
    prev_kind = ""
    nested: list[int] = []
    where_at = -1
    if re.search("[\x00-\x03\x05-\x08]", text):
        raise Refused("the query text holds control characters")
    in_group_by = False

    for m in _TOKEN.finditer(text):
        kind, tok = m.lastgroup, m.group()
        if kind == "skip":
            continue
        if kind == "word":
            word = tok.upper()
            if word == "VALUES" and text[m.start() - 1:m.start()] == "\x04":
                pass  # the engine's own table for GRAPH $shapesGraph
            elif word in ("MINUS", "SERVICE", "VALUES"):
                raise Refused(f"{word} is not allowed in a SHACL-SPARQL query")
            if word in ("LIMIT", "OFFSET"):
                raise Refused(f"{word} would limit the query over all focus nodes, not per focus node")
            if word in ("CONSTRUCT", "DESCRIBE"):
                raise Refused(f"{word} is not a SELECT or ASK query")
            if word in ("SELECT", "ASK"):
                if word == "ASK" and not ask:
                    raise Refused("an ASK query where a SELECT is expected")
                pending_select = _Select(start=m.start(), top=not selects)
                selects.append(pending_select)
                current.append(pending_select)
                if word == "ASK":
                    pending_select.projection.append("this")  # an ASK validator's body sees $this by substitution
            elif word in ("FILTER", "BIND"):
                expr_wait, expr_kind = True, word
            elif word == "EXISTS" and (expr_wait or expr_depth):
                pass
            elif word in _AGGREGATES and (pending_select or closed):
                (pending_select or closed).aggregates = True  # type: ignore[union-attr]
            elif word == "BY" and last_word == "GROUP" and closed is not None:
                closed.group_by = m.end()
                in_group_by = True
            elif word in ("HAVING", "ORDER"):
                in_group_by = False
            elif word == "AS" and (expr_depth or pending_select is not None or expr_kind == "BIND"):
                pass
            last_word = word
            prev_kind = "word"
            continue
        if kind == "var":
            name = tok[1:]
            if name == "PATH":
                if path is None:
                    raise Refused("$PATH is only meaningful in a property shape")
                edits.append((m.start(), m.end(), path))
            elif last_word == "AS" and prev_kind == "word" and name in prebound:
                raise Refused(f"AS ?{name} would bind the pre-bound variable ${name}")
            else:
                if pending_select is not None and name == "this":
                    pending_select.projection.append(name)
                if in_group_by and name == "this" and closed is not None:
                    closed.groups_this = True
                if name in prebound and pending_select is None and stack:
                    _use(stack, name, expr_kind if expr_depth else "")
            last_word = ""
            prev_kind = "var"
            continue
        if kind == "star":
            if pending_select is not None and expr_depth == 0 and paren == 0:
                pending_select.star = True
            prev_kind = "star"
            continue
        if kind == "lp":
            paren += 1
            if expr_wait or expr_depth:
                expr_depth += 1
                expr_wait = False
            prev_kind = "lp"
            continue
        if kind == "rp":
            paren -= 1
            if expr_depth:
                expr_depth -= 1
                if not expr_depth:
                    expr_kind = ""
            prev_kind = "rp"
            continue
        if kind == "open":
            in_group_by, closed = False, None
            if pending_select is not None:
                sel = pending_select
                sel.where = m.end()
                pending_select = None
                stack.append(_Frame("where", m.end(), sel))
                if sel.top:
                    where_at = m.end()
            elif last_word == "EXISTS" or expr_depth:
                stack.append(_Frame("exists", m.end(), via=expr_kind or "FILTER"))
                expr_wait = False
            else:
                stack.append(_Frame("group", m.end()))
            last_word = ""
            prev_kind = "open"
            continue
        if kind == "close":
            if not stack:
                raise Refused("unbalanced braces")
            f = stack.pop()
            in_group_by, closed = False, None
            if f.kind == "where" and f.select is not None:
                current.remove(f.select)
                closed = f.select  # its solution modifiers (GROUP BY, HAVING) follow
            if f.needs and (f.kind == "group" or (f.kind == "where" and f.select is not None and not f.select.top)):
                nested.append(f.inside)
            last_word = ""
            prev_kind = "close"
            continue
    if stack:
        raise Refused("unbalanced braces")
    if not selects or where_at < 0:
        raise Refused("not a SELECT query with a WHERE group" if not ask else "not an ASK query")
    for sel in selects:
        if sel.top:
            if sel.aggregates and sel.group_by < 0:
                raise Refused("an aggregate query must GROUP BY $this")
            if sel.group_by >= 0 and not sel.groups_this:
                edits.append((sel.group_by, sel.group_by, " ?this"))
            continue
        if sel.star or "this" not in sel.projection:
            raise Refused("a sub-SELECT must project $this by name")
        if sel.aggregates and sel.group_by < 0:
            raise Refused("a sub-SELECT with an aggregate must GROUP BY $this")
        if sel.group_by >= 0 and not sel.groups_this:
            edits.append((sel.group_by, sel.group_by, " ?this"))
    top = selects[0]
    if not ask and "this" not in top.projection and not top.star:
        if top.aggregates:
            raise Refused("an aggregate query must project $this")
        mod = re.match(r"SELECT\s+(DISTINCT|REDUCED)?", text[top.start:], re.IGNORECASE)
        at = top.start + (mod.end() if mod else len("SELECT"))
        edits.append((at, at, " ?this "))

    marks = [(p, p, NESTED) for p in sorted(set(nested))]
    out, last = [], 0
    for start, end, repl in sorted(edits + marks + [(where_at, where_at, WHERE)], key=lambda e: e[0]):
        out.append(text[last:start])
        out.append(repl)
        last = end
    out.append(text[last:])
    return "".join(out)


def graph_groups(text: str, name: str) -> list[tuple[int, int, int, int]]:
    """Where ``GRAPH $name { ... }`` stands in *text*: (start, body start, body end, end) of each,
    outermost first, comments and strings skipped."""
    found: list[tuple[int, int, int, int]] = []
    tokens = [m for m in _TOKEN.finditer(text) if m.lastgroup != "skip"]
    for i, m in enumerate(tokens[:-2]):
        if (m.lastgroup == "word" and m.group().upper() == "GRAPH" and tokens[i + 1].lastgroup == "var"
                and tokens[i + 1].group()[1:] == name and tokens[i + 2].lastgroup == "open"):
            if found and m.start() < found[-1][3]:
                continue  # inside the previous one
            depth = 0
            for t in tokens[i + 2:]:
                depth += {"open": 1, "close": -1}.get(t.lastgroup or "", 0)
                if depth == 0:
                    found.append((m.start(), tokens[i + 2].end(), t.start(), t.end()))
                    break
            else:
                raise Refused("unbalanced braces")
    return found
