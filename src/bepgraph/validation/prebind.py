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
``GROUP BY``), so each focus node's groups stay its own; one that projects
``$this`` without reading it has it taken out of its projection (the same
solutions: an unbound column joins with anything).

SHACL forbids ``MINUS``, ``VALUES``, ``SERVICE``, a sub-``SELECT`` that does
not project ``$this`` and ``AS`` to a pre-bound variable (SHACL 5.3.1);
``LIMIT``/``OFFSET`` and an aggregate without ``GROUP BY`` would mean one
thing per focus node and another over all of them. Each is refused with
:class:`Refused` before any data is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
    this_at: list[tuple[int, int]] = field(default_factory=list)  # where $this stands in the projection
    uses_this: bool = False  # its WHERE group reads $this


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
    if re.search("[\x00-\x03\x05-\x08]", text):
        raise Refused("the query text holds control characters")
    scan = _Scan(text, prebound, path, ask)
    scan.run()
    edits = scan.edits + _select_edits(text, scan.selects, ask)
    return _splice(text, edits, scan.nested, scan.where_at)


class _Scan:
    """One pass over the query's tokens: refuses what SHACL forbids as soon as it is read, writes out
    ``$PATH``, and records each SELECT level, where each group opens, and which groups read a pre-bound
    variable in an expression (they get the pre-binding at their head).

    A state machine, one method per kind of token; the state is what the
    tokens before have opened and not yet closed.
    """

    def __init__(self, text: str, prebound: frozenset[str], path: str | None, ask: bool) -> None:
        self.text, self.prebound, self.path, self.ask = text, prebound, path, ask
        self.edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the original text
        self.stack: list[_Frame] = []
        self.selects: list[_Select] = []
        self.current: list[_Select] = []  # the SELECT levels we are inside
        self.pending_select: _Select | None = None
        self.closed: _Select | None = None  # the SELECT whose WHERE group has just closed
        self.expr_depth = 0  # > 0 inside FILTER(...)/BIND(...) parentheses
        self.expr_kind = ""
        self.expr_wait = False  # FILTER/BIND seen, its parentheses not yet opened
        self.paren = 0
        self.last_word = ""
        self.prev_kind = ""
        self.nested: list[int] = []
        self.where_at = -1
        self.in_group_by = False

    def run(self) -> None:
        """Read every token; refuse unbalanced braces and a query without a (top) WHERE group."""
        handlers: dict[str, Callable[[re.Match[str]], None]] = {
            "word": self._word, "var": self._var, "star": self._star, "lp": self._lp, "rp": self._rp,
            "open": self._open, "close": self._close}
        for m in _TOKEN.finditer(self.text):
            handler = handlers.get(m.lastgroup or "")
            if handler is not None:
                handler(m)
        if self.stack:
            raise Refused("unbalanced braces")
        if not self.selects or self.where_at < 0:
            raise Refused("not a SELECT query with a WHERE group" if not self.ask else "not an ASK query")

    def _word(self, m: re.Match[str]) -> None:
        word = m.group().upper()
        if word == "VALUES" and self.text[m.start() - 1:m.start()] == "\x04":
            pass  # the engine's own table for GRAPH $shapesGraph
        elif word in ("MINUS", "SERVICE", "VALUES"):
            raise Refused(f"{word} is not allowed in a SHACL-SPARQL query")
        if word in ("LIMIT", "OFFSET"):
            raise Refused(f"{word} would limit the query over all focus nodes, not per focus node")
        if word in ("CONSTRUCT", "DESCRIBE"):
            raise Refused(f"{word} is not a SELECT or ASK query")
        if word in ("SELECT", "ASK"):
            if word == "ASK" and not self.ask:
                raise Refused("an ASK query where a SELECT is expected")
            self.pending_select = _Select(start=m.start(), top=not self.selects)
            self.selects.append(self.pending_select)
            self.current.append(self.pending_select)
            if word == "ASK":
                self.pending_select.projection.append("this")  # an ASK validator's body sees $this by substitution
        elif word in ("FILTER", "BIND"):
            self.expr_wait, self.expr_kind = True, word
        elif word == "EXISTS" and (self.expr_wait or self.expr_depth):
            pass
        elif word in _AGGREGATES and (self.pending_select or self.closed):
            (self.pending_select or self.closed).aggregates = True  # type: ignore[union-attr]
        elif word == "BY" and self.last_word == "GROUP" and self.closed is not None:
            self.closed.group_by = m.end()
            self.in_group_by = True
        elif word in ("HAVING", "ORDER"):
            self.in_group_by = False
        elif word == "AS" and (self.expr_depth or self.pending_select is not None or self.expr_kind == "BIND"):
            pass
        self.last_word = word
        self.prev_kind = "word"

    def _var(self, m: re.Match[str]) -> None:
        name = m.group()[1:]
        if name == "PATH":
            if self.path is None:
                raise Refused("$PATH is only meaningful in a property shape")
            self.edits.append((m.start(), m.end(), self.path))
        elif self.last_word == "AS" and self.prev_kind == "word" and name in self.prebound:
            raise Refused(f"AS ?{name} would bind the pre-bound variable ${name}")
        else:
            if self.pending_select is not None and name == "this":
                self.pending_select.projection.append(name)
                self.pending_select.this_at.append((m.start(), m.end()))
            elif name == "this":
                for sel in self.current:
                    sel.uses_this = True
            if self.in_group_by and name == "this" and self.closed is not None:
                self.closed.groups_this = True
            if name in self.prebound and self.pending_select is None and self.stack:
                _use(self.stack, name, self.expr_kind if self.expr_depth else "")
        self.last_word = ""
        self.prev_kind = "var"

    def _star(self, m: re.Match[str]) -> None:
        if self.pending_select is not None and self.expr_depth == 0 and self.paren == 0:
            self.pending_select.star = True
        self.prev_kind = "star"

    def _lp(self, m: re.Match[str]) -> None:
        self.paren += 1
        if self.expr_wait or self.expr_depth:
            self.expr_depth += 1
            self.expr_wait = False
        self.prev_kind = "lp"

    def _rp(self, m: re.Match[str]) -> None:
        self.paren -= 1
        if self.expr_depth:
            self.expr_depth -= 1
            if not self.expr_depth:
                self.expr_kind = ""
        self.prev_kind = "rp"

    def _open(self, m: re.Match[str]) -> None:
        self.in_group_by, self.closed = False, None
        if self.pending_select is not None:
            sel = self.pending_select
            sel.where = m.end()
            self.pending_select = None
            self.stack.append(_Frame("where", m.end(), sel))
            if sel.top:
                self.where_at = m.end()
        elif self.last_word == "EXISTS" or self.expr_depth:
            self.stack.append(_Frame("exists", m.end(), via=self.expr_kind or "FILTER"))
            self.expr_wait = False
        else:
            self.stack.append(_Frame("group", m.end()))
        self.last_word = ""
        self.prev_kind = "open"

    def _close(self, m: re.Match[str]) -> None:
        if not self.stack:
            raise Refused("unbalanced braces")
        f = self.stack.pop()
        self.in_group_by, self.closed = False, None
        if f.kind == "where" and f.select is not None:
            self.current.remove(f.select)
            self.closed = f.select  # its solution modifiers (GROUP BY, HAVING) follow
        if f.needs and (f.kind == "group" or (f.kind == "where" and f.select is not None and not f.select.top)):
            self.nested.append(f.inside)
        self.last_word = ""
        self.prev_kind = "close"


def _select_edits(text: str, selects: list[_Select], ask: bool) -> list[tuple[int, int, str]]:
    """What each SELECT level needs once the whole query is read: ``$this`` added to a ``GROUP BY``, taken
    out of a sub-SELECT that projects it without reading it, projected by the top SELECT; or the refusal
    of an aggregate or a sub-SELECT that cannot keep each focus node's solutions apart."""
    edits: list[tuple[int, int, str]] = []
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
        if not sel.uses_this and re.search(r"[?$](?!this\b)[A-Za-z_]", text[sel.start:sel.where]):
            # projected but never bound inside: it joins with anything, so it is left out, as Virtuoso 7.2
            # would join the unbound column as a value and lose every solution
            edits += [(start, end, "") for start, end in sel.this_at]
    top = selects[0]
    if not ask and "this" not in top.projection and not top.star:
        if top.aggregates:
            raise Refused("an aggregate query must project $this")
        mod = re.match(r"SELECT\s+(DISTINCT|REDUCED)?", text[top.start:], re.IGNORECASE)
        at = top.start + (mod.end() if mod else len("SELECT"))
        edits.append((at, at, " ?this "))
    return edits


def _splice(text: str, edits: list[tuple[int, int, str]], nested: list[int], where_at: int) -> str:
    """*text* with the *edits* made and the :data:`NESTED` and :data:`WHERE` marks put in. Edits at the same
    place keep their order: the scan's, then the SELECT levels', then the marks."""
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
