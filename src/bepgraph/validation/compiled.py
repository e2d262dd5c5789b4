"""A constraint compiled: one SELECT over all its focus nodes, with slots run time fills.

Run time writes a focus ``VALUES`` block at ``"\\x00?var\\x00"`` and a target
class's instances at ``"\\x01?var|classes\\x01"`` (:meth:`Compiled.query`);
control characters never reach a query from a shapes file (prebind refuses
them in SPARQL text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..namespaces import RDF, RDFS

__all__ = ["Compiled", "FOCUS_SLOT", "INSTANCE_OF", "RDF_TYPE", "SUBCLASS", "TARGET_CLASS_VAR", "instances", "probe"]

RDF_TYPE = RDF + "type"
SUBCLASS = RDFS + "subClassOf"
INSTANCE_OF = f"<{RDF_TYPE}>/<{SUBCLASS}>*"
TARGET_CLASS_VAR = "_class"  # the class variable of a checked target (never projected)
FOCUS_SLOT = re.compile("\x00(\\?[A-Za-z_0-9]+)\x00")
_CLASS_SLOT = re.compile("\x01(\\?[A-Za-z_0-9]+)\\|([^\x01]*)\x01")
_FOCUSED_CLASS = re.compile(FOCUS_SLOT.pattern + _CLASS_SLOT.pattern)  # the focus slot just before a class slot


@dataclass(frozen=True)
class Compiled:
    """One constraint as one SELECT over all its focus nodes (``text`` holds the run-time slots)."""

    shape: str  # sh:sourceShape, "_:id" when blank
    parent: str  # the shape whose targets give the focus nodes
    component: str
    severity: str  # "violation", "warning", "info", or a custom severity's IRI
    message: str | None
    path: str | None  # sh:resultPath: an IRI for a predicate path, else SPARQL property path text
    text: str
    sparql: bool = False  # SHACL-SPARQL: the query's own variables are the result's bindings
    params: tuple[tuple[str, str], ...] = ()  # component parameters, for {$name} in messages
    grouped: bool = False  # its SELECT groups: a target class's instances are bound once each (DISTINCT)

    @property
    def target_classes(self) -> frozenset[str]:
        """The IRI texts of the target classes (their subclasses are looked up in the data at run time)."""
        return frozenset(c for m in _CLASS_SLOT.finditer(self.text) for c in m.group(2).split())

    def query(self, focus: Sequence[str] | None = None, subclasses: Mapping[str, Sequence[str]] | None = None) -> str:
        """The SELECT, limited to the *focus* IRI texts when given; with *subclasses* (class IRI text
        -> the IRI texts of it and its subclasses) each target class becomes plain ``rdf:type``
        patterns the planner can order, else a path."""
        def values(var: str) -> str:
            return f"VALUES {var} {{ {' '.join(focus)} }} " if focus is not None else ""

        def target(m: re.Match[str]) -> str:  # the focus nodes first, inside a DISTINCT target if there is one
            return instances(m.group(3).split(), subclasses, checked=self.sparql, var=m.group(2),
                             distinct=self.grouped, head=values(m.group(1)))

        text = _FOCUSED_CLASS.sub(target, self.text)
        text = FOCUS_SLOT.sub(lambda m: values(m.group(1)), text)
        return _CLASS_SLOT.sub(lambda m: instances(m.group(2).split(), subclasses, checked=self.sparql,
                                                   var=m.group(1), distinct=self.grouped), text)


def instances(classes: Sequence[str], subclasses: Mapping[str, Sequence[str]] | None, checked: bool = False,
              var: str = "?this", distinct: bool = False, head: str = "") -> str:
    """A pattern binding *var* to each instance of *classes*: through their known *subclasses*
    (class IRI text -> its subclasses' IRI texts), or the subclass path when they are not known.

    *checked* writes the class test as a filter on ``?this rdf:type ?_class``:
    the same solutions, but Oxigraph's planner, which breaks ties between
    equally selective patterns by their order, then starts from the shape
    author's own first pattern (a small derived table, say) rather than
    from every instance of the target class.

    *distinct* (for a query that groups its solutions) binds each instance
    once where the pattern could bind a node of two of the classes twice.
    *head* (the focus nodes' VALUES) goes first, inside that DISTINCT group.
    """
    pattern = _instances(classes, subclasses, checked, var)
    known = subclasses or {}
    several = any(c not in known for c in classes) or len({m for c in classes for m in (c, *known[c])}) > 1
    if distinct and several:  # a node of two of the classes (or reached twice by the path), bound once
        return f"{{ SELECT DISTINCT {var} WHERE {{ {head}{pattern} }} }}"
    return head + pattern


def _instances(classes: Sequence[str], subclasses: Mapping[str, Sequence[str]] | None, checked: bool,
               var: str) -> str:
    known = subclasses or {}
    if any(c not in known for c in classes):
        paths = [f"{var} {INSTANCE_OF} {c} ." for c in classes]
        return paths[0] if len(paths) == 1 else " UNION ".join(f"{{ {p} }}" for p in paths)
    members = sorted({m for c in classes for m in (c, *known[c])})
    if checked:
        return f"{var} <{RDF_TYPE}> ?{TARGET_CLASS_VAR} . FILTER (?{TARGET_CLASS_VAR} IN ({', '.join(members)}))"
    if len(members) == 1:
        return f"{var} <{RDF_TYPE}> {members[0]} ."
    return " UNION ".join(f"{{ {var} <{RDF_TYPE}> {c} }}" for c in members)



def probe(text: str) -> str:
    """*text* with its slots filled by stand-ins, to parse it on an empty store when compiled."""
    return FOCUS_SLOT.sub("", _CLASS_SLOT.sub(lambda m: f"{m.group(1)} <{RDF_TYPE}> <urn:x> .", text))
