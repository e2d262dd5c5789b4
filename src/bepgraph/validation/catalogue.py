"""The rule catalogue as the shapes state it: id, shape, severity, message template, citation strings.

Why read from the shapes: a rule's id, words and citation are written once,
on its shape; the findings, the text summary and docs/rules.md all read
them here. Citations point at the source individuals of
``ontology/bep-sources.ttl`` and are shown by their ``skos:notation``, the
exact strings of rules.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import rdflib

from ..namespaces import BEP, SH, SKOS
from ..resources import ontology_files, shape_files
from .findings import Severity

__all__ = ["Rule", "rule_catalogue", "rule_order"]

_SKOS_NOTATION = rdflib.URIRef(SKOS + "notation")


@dataclass(frozen=True)
class Rule:
    """A rule of rules.md as its shape states it."""

    id: str
    shape: str
    severity: Severity
    message: str
    description: str
    citation: tuple[str, ...]
    source: str  # the shapes file
    lists: tuple[tuple[str, str], ...] = ()  # (variable, separator) of the lists its queries concatenate

    def words(self, name: str, text: str) -> str:
        """A bound value as the message shows it: a concatenated list in sorted order.

        SPARQL leaves GROUP_CONCAT's order undefined (stores on disk, in
        memory and on a server give the same items in different orders), so
        the items are sorted here and a message reads the same on every store.
        """
        for variable, separator in self.lists:
            if variable == name and separator:
                return separator.join(sorted(text.split(separator)))
        return text


# the end of a GROUP_CONCAT projected as a variable: `…; separator=", ") AS ?name`
_LIST = re.compile(r'separator\s*=\s*"([^"]*)"\s*\)\s+AS\s+\?(\w+)', re.IGNORECASE)


@lru_cache(maxsize=1)
def rule_catalogue() -> dict[str, Rule]:
    """Every rule id in ``shapes/`` with its shape, severity, message template and citation strings."""
    notations = rdflib.Graph()
    for path in ontology_files():
        notations.parse(path, format="turtle")
    bep, sh = rdflib.Namespace(BEP), rdflib.Namespace(SH)
    rules: dict[str, Rule] = {}
    for path in shape_files():
        g = rdflib.Graph().parse(path, format="turtle")
        for shape, rule_id in g.subject_objects(bep.ruleId):
            citation = []
            for cited in g.objects(shape, bep.citation):
                text = cited if isinstance(cited, rdflib.Literal) else notations.value(cited, _SKOS_NOTATION)
                citation.append(str(text if text is not None else cited))
            severity = str(g.value(shape, sh.severity) or sh.Violation).removeprefix(SH).lower()
            lists = sorted({(m.group(2), m.group(1)) for constraint in g.objects(shape, sh.sparql)
                            for m in _LIST.finditer(str(g.value(constraint, sh.select) or ""))})
            rules[str(rule_id)] = Rule(
                id=str(rule_id), shape=str(shape), severity=severity,  # type: ignore[arg-type]
                message=str(g.value(shape, sh.message) or ""),
                description=str(g.value(shape, sh.description) or ""),
                citation=tuple(sorted(citation, key=_citation_order)), source=path.name,
                lists=tuple(lists),
            )
    return dict(sorted(rules.items(), key=lambda kv: rule_order(kv[0])))


def _citation_order(text: str) -> tuple[int, list[object]]:
    """Plan, then the Act, then Rule 12b-1, then other rules: the order rules.md cites them in."""
    family = next((i for i, head in enumerate(("Plan", "ICA", "Rule 12b-1")) if text.startswith(head)), 3)
    return family, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def rule_order(rule_id: str) -> list[object]:
    """BEP-1.1 < BEP-1.2 < … < BEP-10.1 < BEP-11.1 < BEP-H.1 (numbers compared as numbers)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", rule_id.replace("H", "~"))]
