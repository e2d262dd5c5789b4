"""The ontology files: they parse, every term is labelled, defined and sourced,
they cover the bundle contract and the documented vocabulary, and every
citation of the rule catalogue has a source individual to point at."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from bepgraph.resources import data_root
from bepgraph.sources.tables import CATEGORY_CODES, TABLES

BEP = Namespace("https://w3id.org/bepgraph/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
ORG = Namespace("http://www.w3.org/ns/org#")
TIME = Namespace("http://www.w3.org/2006/time#")
FIBO_CONTRACTS = Namespace("https://spec.edmcouncil.org/fibo/ontology/FND/Agreements/Contracts/")
FIBO_FSE = Namespace(
    "https://spec.edmcouncil.org/fibo/ontology/FBC/FunctionalEntities/FinancialServicesEntities/"
)
FIBO_FPAS = Namespace(
    "https://spec.edmcouncil.org/fibo/ontology/FBC/ProductsAndServices/FinancialProductsAndServices/"
)
FIBO_EXEC = Namespace("https://spec.edmcouncil.org/fibo/ontology/BE/OwnershipAndControl/Executives/")
FIBO_FUNDS = Namespace("https://spec.edmcouncil.org/fibo/ontology/SEC/Funds/Funds/")

ONTOLOGY_IRI = URIRef("https://w3id.org/bepgraph/ontology")
SOURCES_IRI = URIRef("https://w3id.org/bepgraph/ontology/sources")
APACHE_2 = URIRef("https://www.apache.org/licenses/LICENSE-2.0")
PARAGRAPH_NODE = "https://w3id.org/bepgraph/id/plan/paragraph/{}"

ROOT = data_root()
CORE_FILE = ROOT / "ontology" / "bep.ttl"
SOURCES_FILE = ROOT / "ontology" / "bep-sources.ttl"
VOCABULARY_DOC = ROOT / "docs" / "vocabulary.md"
DERIVED_GRAPH_DOC = ROOT / "docs" / "derived-graph.md"
# the rule catalogue as published (the contract; docs/rules.md is generated from the shapes)
RULES_DOC_CANDIDATES = (ROOT / "docs" / "rule-catalogue.md",)

TERM_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
DATATYPE_OF_CELL = {"date": XSD.date, "decimal": XSD.decimal, "boolean": XSD.boolean,
                    "string": XSD.string, "enum": XSD.string}
ALLOWED_DATATYPES = {XSD.date, XSD.decimal, XSD.boolean, XSD.string, XSD.integer}
# source individuals that have no parent: the documents themselves
SOURCE_ROOTS = {BEP.PlanDocument, BEP.ICA, BEP["CFR-17-270"], BEP["ISO-17442"], BEP["FINRA-CRD"]}


@cache
def core() -> Graph:
    return Graph().parse(CORE_FILE, format="turtle")


@cache
def sources() -> Graph:
    return Graph().parse(SOURCES_FILE, format="turtle")


@cache
def both() -> Graph:
    graph = Graph()
    for triple in core():
        graph.add(triple)
    for triple in sources():
        graph.add(triple)
    return graph


def is_bep(node: object) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(str(BEP))


def local(node: URIRef) -> str:
    return str(node)[len(str(BEP)):]


def bep_subjects(kind: URIRef, graph: Graph | None = None) -> list[URIRef]:
    graph = graph or core()
    return sorted(s for s in graph.subjects(RDF.type, kind) if is_bep(s))


def bep_terms() -> list[URIRef]:
    return sorted({t for kind in TERM_KINDS for t in bep_subjects(kind)})


def category_individuals() -> list[URIRef]:
    return bep_subjects(BEP.ExpenditureCategory)


def superclasses(cls: URIRef) -> set[URIRef]:
    """cls and every class above it by rdfs:subClassOf (both files)."""
    seen: set[URIRef] = set()
    todo = [cls]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(o for o in both().objects(current, RDFS.subClassOf) if isinstance(o, URIRef))
    return seen


def source_classes() -> set[URIRef]:
    return {c for c in both().subjects(RDF.type, OWL.Class) if BEP.Source in superclasses(c)}


def source_individuals() -> list[URIRef]:
    graph = both()
    return sorted({s for cls in source_classes() for s in graph.subjects(RDF.type, cls) if is_bep(s)})


def members(node: URIRef | BNode) -> list:
    """The classes a domain or range names: itself, or the members of its owl:unionOf."""
    if isinstance(node, BNode):
        union = core().value(node, OWL.unionOf)
        assert union is not None, "an anonymous class expression here must be an owl:unionOf"
        return list(Collection(core(), union))
    return [node]


def one(graph: Graph, subject: URIRef, predicate: URIRef):
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, f"{subject} has {len(values)} values of {predicate}: {values}"
    return values[0]


def label_of(node: URIRef) -> str:
    return str(one(both(), node, RDFS.label))


def citation_iri(citation: str) -> URIRef:
    """The documented pattern: "ICA §2(a)(19)" -> bep:ICA-2-a-19, "Plan ¶1(a)" -> bep:Plan-1-a."""
    for prefix, replacement in (("Plan ¶", "Plan-"), ("ICA §", "ICA-"), ("Rule ", "Rule")):
        if citation.startswith(prefix):
            rest = replacement + citation[len(prefix):]
            return BEP[re.sub(r"\(([^)]+)\)", r"-\1", rest)]
    raise ValueError(f"not a plan, ICA or rule citation: {citation!r}")


# ---------------------------------------------------------------- parsing and headers


def test_core_ontology_parses_and_has_a_licensed_versioned_header() -> None:
    graph = core()
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph
    assert str(one(graph, ONTOLOGY_IRI, DCTERMS.title))
    assert str(one(graph, ONTOLOGY_IRI, DCTERMS.description))
    assert str(one(graph, ONTOLOGY_IRI, OWL.versionInfo))
    assert one(graph, ONTOLOGY_IRI, DCTERMS.license) == APACHE_2


def test_sources_file_parses_and_has_a_licensed_versioned_header() -> None:
    graph = sources()
    assert (SOURCES_IRI, RDF.type, OWL.Ontology) in graph
    assert str(one(graph, SOURCES_IRI, DCTERMS.title))
    assert str(one(graph, SOURCES_IRI, OWL.versionInfo))
    assert one(graph, SOURCES_IRI, DCTERMS.license) == APACHE_2


def test_neither_file_imports_anything_so_nothing_is_fetched_at_run_time() -> None:
    assert not list(both().objects(None, OWL.imports))


# ---------------------------------------------------------------- every term labelled, defined, sourced


@pytest.mark.parametrize("term", bep_terms() + category_individuals(), ids=local)
def test_term_has_one_lower_case_english_label(term: URIRef) -> None:
    label = one(core(), term, RDFS.label)
    assert isinstance(label, Literal) and label.language == "en"
    assert str(label) == str(label).lower() and str(label).strip(), f"{local(term)}: {label!r}"


@pytest.mark.parametrize("cls", bep_subjects(OWL.Class), ids=local)
def test_class_definition_reads_a_parent_that(cls: URIRef) -> None:
    definition = str(one(core(), cls, SKOS.definition))
    parents = [p for p in core().objects(cls, RDFS.subClassOf) if isinstance(p, URIRef)]
    assert parents, f"{local(cls)} has no named superclass"
    heads = {f"{article} {label_of(p)} that " for p in parents for article in ("a", "an")}
    assert any(definition.startswith(h) for h in heads), (
        f"{local(cls)}: {definition!r} should start with one of {sorted(heads)}")


@pytest.mark.parametrize("individual", category_individuals(), ids=local)
def test_category_definition_reads_expenditure_category_that(individual: URIRef) -> None:
    definition = str(one(core(), individual, SKOS.definition))
    assert definition.startswith("an expenditure category that ")


@pytest.mark.parametrize(
    "prop", bep_subjects(OWL.ObjectProperty) + bep_subjects(OWL.DatatypeProperty), ids=local)
def test_property_definition_is_one_sentence(prop: URIRef) -> None:
    definition = str(one(core(), prop, SKOS.definition))
    assert definition[0].isupper() and definition.endswith("."), definition


@pytest.mark.parametrize("term", bep_terms() + category_individuals(), ids=local)
def test_term_cites_a_source_individual(term: URIRef) -> None:
    cited = list(core().objects(term, DCTERMS.source))
    assert cited, f"{local(term)} has no dcterms:source"
    known = set(source_individuals())
    assert all(c in known for c in cited), f"{local(term)} cites {set(cited) - known}"


# ---------------------------------------------------------------- the contract: tables.py and vocabulary.md


def test_every_table_class_and_row_class_is_declared() -> None:
    declared = set(bep_subjects(OWL.Class))
    for table in TABLES.values():
        assert BEP[table.cls] in declared, table.name
        for column in table.columns:
            for cls in column.classes.values():
                assert BEP[cls] in declared, f"{table.name}.{column.name}: {cls}"


def _column_cases() -> list:
    return [pytest.param(t, c, id=f"{t.name}.{c.name}")
            for t in TABLES.values() for c in t.columns if c.prop]


def _table_class(table_name: str) -> URIRef:
    return BEP.Plan if table_name == "plan" else BEP[TABLES[table_name].cls]


@pytest.mark.parametrize(("table", "column"), _column_cases())
def test_column_property_is_declared_with_the_kind_and_range_its_cell_type_needs(table, column) -> None:
    if column.prop.startswith("<"):
        prop = URIRef(column.prop[1:-1])
        if not str(prop).startswith(str(RDFS)):
            assert (prop, RDF.type, OWL.AnnotationProperty) in core(), f"{prop} is not declared"
        return
    prop = BEP[column.prop]
    graph = core()
    ranges = list(graph.objects(prop, RDFS.range))
    assert len(ranges) == 1, f"bep:{column.prop} needs exactly one rdfs:range"
    if column.type == "ref" or column.name == "category":
        assert (prop, RDF.type, OWL.ObjectProperty) in graph, f"bep:{column.prop}"
        range_classes = members(ranges[0])
        targets = [_table_class(r) for r in column.refs] or [BEP.ExpenditureCategory]
        for target in targets:
            # the range may name the target table's class, a parent of it, or (like
            # bep:subAdviser) the narrower role every such reference plays
            assert any(r in superclasses(target) or target in superclasses(r) for r in range_classes), (
                f"bep:{column.prop} range {range_classes} does not admit {target}")
    else:
        assert (prop, RDF.type, OWL.DatatypeProperty) in graph, f"bep:{column.prop}"
        assert ranges[0] == DATATYPE_OF_CELL[column.type], f"bep:{column.prop}"
    domain = graph.value(prop, RDFS.domain)
    if domain is not None:
        assert set(members(domain)) & superclasses(BEP[table.cls]), (
            f"bep:{column.prop} domain does not admit {table.cls}")


@pytest.mark.parametrize(("code", "name"), sorted(CATEGORY_CODES.items()))
def test_expenditure_category_individual_carries_its_csv_code(code: str, name: str) -> None:
    individual = BEP[name]
    assert (individual, RDF.type, BEP.ExpenditureCategory) in core()
    assert (individual, RDF.type, OWL.NamedIndividual) in core()
    assert Literal(code) in set(core().objects(individual, SKOS.notation))


def test_the_nine_distribution_categories_carry_the_roman_numerals_of_plan_paragraph_2() -> None:
    romans = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
    names = [n for n in CATEGORY_CODES.values() if n != "NotDistribution"]
    assert len(names) == len(romans)
    for name, roman in zip(names, romans):
        individual = BEP[name]
        assert Literal(roman) in set(core().objects(individual, SKOS.notation)), name
        assert one(core(), individual, DCTERMS.source) == BEP[f"Plan-2-{roman}"], name
        assert one(core(), individual, BEP.isDistributionActivity).toPython() is True


def test_not_distribution_has_no_roman_numeral_and_is_not_a_distribution_activity() -> None:
    notations = {str(n) for n in core().objects(BEP.NotDistribution, SKOS.notation)}
    assert notations == {"not_distribution"}
    assert one(core(), BEP.NotDistribution, BEP.isDistributionActivity).toPython() is False


def _docs() -> list:
    docs = sorted((ROOT / "docs").glob("*.md"))
    assert VOCABULARY_DOC in docs and DERIVED_GRAPH_DOC in docs
    return [pytest.param(d, id=d.name) for d in docs]


@pytest.mark.parametrize("doc", _docs())
def test_every_term_a_project_doc_names_is_declared(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    prefixes = {"bep": str(BEP), "prov": str(PROV), "dcterms": str(DCTERMS),
                "org": str(ORG), "time": str(TIME), "skos": str(SKOS)}
    named = {URIRef(prefixes[p] + name)
             for p, name in re.findall(r"\b(bep|prov|dcterms|org|time|skos):([A-Za-z][\w-]*)", text)}
    if doc == VOCABULARY_DOC:  # the pattern does find the terms
        assert BEP.Plan in named and BEP.NotDistribution in named
    declared = set(core().subjects(RDF.type, None))
    assert not named - declared, sorted(named - declared)


def _derived_node_cases() -> list:
    """(node class, property) for each row of docs/derived-graph.md's node table."""
    cases = []
    for line in DERIVED_GRAPH_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`bep:"):
            continue
        cls = BEP[re.match(r"`bep:(\w+)`", cells[1]).group(1)]
        for name in sorted(set(re.findall(r"bep:(\w+)", cells[2]))):
            cases.append(pytest.param(cls, BEP[name], id=f"{local(cls)}.{name}"))
    assert len(cases) > 30
    return cases


@pytest.mark.parametrize(("cls", "prop"), _derived_node_cases())
def test_property_of_a_derived_node_admits_that_node_in_its_domain(cls: URIRef, prop: URIRef) -> None:
    assert (cls, RDF.type, OWL.Class) in core()
    assert (prop, RDF.type, None) in core(), f"bep:{local(prop)} is not declared"
    domain = core().value(prop, RDFS.domain)
    if domain is not None:
        assert set(members(domain)) & superclasses(cls), (
            f"bep:{local(prop)} domain {members(domain)} does not admit {local(cls)}")


@pytest.mark.parametrize(("term", "kind"), [
    (BEP.PlanInEffectInterval, OWL.Class), (BEP.Approval, OWL.Class), (BEP.Finding, OWL.Class),
    (BEP.Board, OWL.Class),
    (BEP.inEffectFrom, OWL.DatatypeProperty), (BEP.inEffectUntil, OWL.DatatypeProperty),
    (BEP.forSeries, OWL.ObjectProperty), (BEP.isInterestedPerson, OWL.DatatypeProperty),
    (BEP.isRule12b1Trustee, OWL.DatatypeProperty), (BEP.isAffiliatedPersonOf, OWL.ObjectProperty),
    (BEP.asOf, OWL.DatatypeProperty), (BEP.restsOn, OWL.ObjectProperty),
    (BEP.ruleId, OWL.DatatypeProperty), (BEP.citation, OWL.ObjectProperty),
    (BEP.deadline, OWL.DatatypeProperty), (BEP.sha256, OWL.DatatypeProperty),
    # docs/derived-graph.md
    (BEP.ValidationContext, OWL.Class), (BEP.TrusteeStatus, OWL.Class), (BEP.Affiliation, OWL.Class),
    (BEP.ActionApproval, OWL.Class), (BEP.AgreementInForce, OWL.Class), (BEP.ReportDuty, OWL.Class),
    (BEP.RetentionDuty, OWL.Class), (BEP.IndependenceShortfall, OWL.Class),
    (BEP.fulfilledBy, OWL.ObjectProperty), (BEP.reason, OWL.DatatypeProperty),
], ids=lambda v: local(v) if is_bep(v) else str(v).rsplit("#", 1)[-1])
def test_terms_for_derived_facts_and_provenance_are_declared(term: URIRef, kind: URIRef) -> None:
    assert (term, RDF.type, kind) in core()


# ---------------------------------------------------------------- citations and source individuals

# every citation of rules.md as of this writing, with lists expanded
KNOWN_CITATIONS = (
    "Plan ¶1", "Plan ¶2", "Plan ¶3", "Plan ¶4", "Plan ¶5", "Plan ¶6", "Plan ¶7", "Plan ¶8",
    "Plan ¶9", "Plan ¶10", "Plan ¶11", "Plan ¶1(a)", "Plan ¶1(b)",
    *(f"Plan ¶2({r})" for r in ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix")),
    "ICA §2(a)(3)", "ICA §2(a)(4)", "ICA §2(a)(19)", "ICA §2(a)(19)(B)(iii)", "ICA §2(a)(42)",
    "ICA §15(b)(2)", "ICA §17(e)",
    "Rule 12b-1", "Rule 12b-1(b)", "Rule 12b-1(b)(1)", "Rule 12b-1(b)(2)", "Rule 12b-1(b)(3)(i)",
    "Rule 12b-1(b)(3)(ii)", "Rule 12b-1(b)(3)(iii)", "Rule 12b-1(b)(3)(iv)(A)",
    "Rule 12b-1(b)(3)(iv)(B)", "Rule 12b-1(b)(4)", "Rule 12b-1(c)", "Rule 12b-1(f)",
    "Rule 12b-1(h)", "Rule 12b-1(h)(1)", "Rule 17e-1", "Rule 0-1(a)(7)",
)

_FULL = re.compile(
    r"[Pp]lan ¶\d+|ICA §\d+(?:\([0-9A-Za-z]+\))*|Rule \d+[a-z]?-\d+(?:\([0-9A-Za-z]+\))*")
_LONE_SECTION = re.compile(r"(?<!ICA )§(\d+(?:\([0-9A-Za-z]+\))*)")
_LONE_PARAGRAPH = re.compile(r"(?<![Pp]lan )¶(\d+)")


def rule_catalogue_citations(text: str) -> set[str]:
    """Every citation rules.md makes, with lists such as "Plan ¶4, ¶5" or
    "Rule 12b-1(b)(1), (b)(2)" expanded to full citation strings."""
    found = {m.group(0).replace("plan ¶", "Plan ¶") for m in _FULL.finditer(text)}
    found |= {f"ICA §{m.group(1)}" for m in _LONE_SECTION.finditer(text)}
    found |= {f"Plan ¶{m.group(1)}" for m in _LONE_PARAGRAPH.finditer(text)}
    for line in text.splitlines():
        if not line.startswith("| BEP-"):
            continue
        cell = line.strip().strip("|").split("|")[-1]
        base = ""
        for piece in (p.strip() for p in re.split(r"[;,]", cell)):
            if piece.startswith(("Plan ¶", "ICA §", "Rule ")):
                citation = piece
                rule = re.match(r"Rule \d+[a-z]?-\d+", piece)
                base = rule.group(0) if rule else piece.split(" ")[0] + " "
            elif piece.startswith("¶"):
                citation = "Plan " + piece
            elif piece.startswith("§"):
                citation = "ICA " + piece
            elif piece.startswith("(") and base.startswith("Rule"):
                citation = base + piece
            else:
                raise AssertionError(f"unreadable citation {piece!r} in: {line}")
            found.add(citation)
    return found


def notations() -> dict[str, URIRef]:
    result: dict[str, URIRef] = {}
    for individual in source_individuals():
        for notation in sources().objects(individual, SKOS.notation):
            assert str(notation) not in result, f"notation {notation} is used twice"
            result[str(notation)] = individual
    return result


@pytest.mark.parametrize("citation", KNOWN_CITATIONS)
def test_citation_of_the_rule_catalogue_has_a_source_individual_at_its_pattern_iri(citation: str) -> None:
    individual = notations().get(citation)
    assert individual is not None, f"no source individual with skos:notation {citation!r}"
    assert individual == citation_iri(citation)


def test_every_citation_in_the_rule_catalogue_has_a_source_individual() -> None:
    path = RULES_DOC_CANDIDATES[0]
    cited = rule_catalogue_citations(path.read_text(encoding="utf-8"))
    assert {"Plan ¶5", "Rule 12b-1(b)(2)", "ICA §15(b)(2)", "ICA §2(a)(19)(B)(iii)"} <= cited
    missing = sorted(cited - set(notations()))
    assert not missing, f"citations without a source individual: {missing}"


def test_rule_catalogue_reader_expands_lists_of_citations() -> None:
    row = "| BEP-4.1 | violation | x | y | Plan ¶4, ¶5; Rule 12b-1(b)(1), (b)(2); ICA §2(a)(4), §15(b)(2) |"
    assert rule_catalogue_citations(row) == {
        "Plan ¶4", "Plan ¶5", "Rule 12b-1(b)(1)", "Rule 12b-1(b)(2)", "ICA §2(a)(4)", "ICA §15(b)(2)"}


@pytest.mark.parametrize("individual", source_individuals(), ids=local)
def test_source_individual_has_label_notation_and_a_parent_chain_to_a_root(individual: URIRef) -> None:
    graph = both()
    assert str(one(graph, individual, RDFS.label)).strip()
    notation = str(one(graph, individual, SKOS.notation))
    assert (individual, RDF.type, OWL.NamedIndividual) in graph
    if notation.startswith(("Plan ¶", "ICA §", "Rule ")):
        assert individual == citation_iri(notation), "IRI does not follow the documented pattern"
    seen = [individual]
    while seen[-1] not in SOURCE_ROOTS:
        parent = one(graph, seen[-1], DCTERMS.isPartOf)
        assert parent in set(source_individuals()), f"{local(seen[-1])} is part of {parent}"
        assert parent not in seen, f"isPartOf cycle: {seen}"
        seen.append(parent)
    if individual in SOURCE_ROOTS:
        assert graph.value(individual, DCTERMS.isPartOf) is None


@pytest.mark.parametrize("number", range(1, 12))
def test_plan_paragraph_source_points_to_the_filing_paragraph_node(number: int) -> None:
    individual = BEP[f"Plan-{number}"]
    assert (individual, RDF.type, BEP.PlanProvision) in sources()
    assert str(one(sources(), individual, SKOS.notation)) == f"Plan ¶{number}"
    assert (individual, RDFS.seeAlso, URIRef(PARAGRAPH_NODE.format(number))) in sources()
    assert one(sources(), individual, DCTERMS.isPartOf) == BEP.PlanDocument


def test_plan_and_legal_provisions_are_the_kinds_of_source() -> None:
    for cls in (BEP.PlanProvision, BEP.LegalProvision):
        assert (cls, RDFS.subClassOf, BEP.Source) in core()
    assert (BEP["ICA-2-a-19"], RDF.type, BEP.LegalProvision) in sources()
    assert (BEP["Plan-1-b"], RDF.type, BEP.PlanProvision) in sources()


@pytest.mark.parametrize(("term", "source"), [
    (BEP.BrokerageCredit, BEP["Plan-1-b"]),
    (BEP.BrokeragePayment, BEP["Plan-1-a"]),
    (BEP.isRule12b1Trustee, BEP["Plan-4"]),
    (BEP.isAffiliatedPersonOf, BEP["ICA-2-a-3"]),
    (BEP.isInterestedPerson, BEP["ICA-2-a-19"]),
    (BEP.ShareholderVote, BEP["ICA-2-a-42"]),
    (BEP.Assignment, BEP["ICA-2-a-4"]),
    (BEP.Record, BEP["Rule12b-1-f"]),
    (BEP.Report, BEP["Rule12b-1-b-3-ii"]),
], ids=lambda v: local(v))
def test_term_cites_the_provision_that_defines_it(term: URIRef, source: URIRef) -> None:
    assert (term, DCTERMS.source, source) in core()


# ---------------------------------------------------------------- alignment

ALIGNMENT = [
    (BEP.Agreement, RDFS.subClassOf, FIBO_CONTRACTS.WrittenContract),
    (BEP.Distributor, RDFS.subClassOf, FIBO_FSE.PrincipalUnderwriter),
    (BEP.BrokerDealer, RDFS.subClassOf, FIBO_FPAS.BrokerDealer),
    (BEP.Trust, RDFS.subClassOf, FIBO_FSE.ManagementCompany),
    (BEP.Board, RDFS.subClassOf, FIBO_EXEC.BoardOfDirectors),
    (BEP.Trustee, RDFS.subClassOf, FIBO_EXEC.BoardMember),
    (BEP.Series, RDFS.subClassOf, FIBO_FUNDS.MutualFund),
    (BEP.Organization, RDFS.subClassOf, ORG.FormalOrganization),
    (BEP.Board, RDFS.subClassOf, ORG.OrganizationalUnit),
    (BEP.trusteeOf, RDFS.subPropertyOf, ORG.memberOf),
    (BEP.hasBoard, RDFS.subPropertyOf, ORG.hasUnit),
    (BEP.Person, RDFS.subClassOf, PROV.Agent),
    (BEP.Report, RDFS.subClassOf, PROV.Entity),
    (BEP.Record, RDFS.subClassOf, PROV.Entity),
    (BEP.Plan, RDFS.subClassOf, PROV.Entity),
    (BEP.Transaction, RDFS.subClassOf, PROV.Activity),
    (BEP.Meeting, RDFS.subClassOf, PROV.Activity),
    (BEP.Expenditure, RDFS.subClassOf, PROV.Activity),
    (BEP.document, RDFS.subPropertyOf, PROV.wasDerivedFrom),
    (BEP.restsOn, RDFS.subPropertyOf, PROV.wasInfluencedBy),
    (BEP.fundedBy, RDFS.subPropertyOf, PROV.used),
    (BEP.transaction, RDFS.subPropertyOf, PROV.wasGeneratedBy),
    (BEP.reportedBy, RDFS.subPropertyOf, PROV.wasAttributedTo),
    (BEP.placedBy, RDFS.subPropertyOf, PROV.wasAssociatedWith),
    (BEP.PlanInEffectInterval, RDFS.subClassOf, TIME.ProperInterval),
    (BEP.AgreementInForce, RDFS.subClassOf, TIME.ProperInterval),
    (BEP.ExpenditureCategory, RDFS.subClassOf, SKOS.Concept),
]


@pytest.mark.parametrize("axiom", ALIGNMENT, ids=lambda a: f"{local(a[0])}-{str(a[2]).rsplit('/', 1)[-1]}")
def test_alignment_axiom_is_present(axiom) -> None:
    assert axiom in core()


def test_every_external_term_used_in_an_axiom_is_declared_with_a_label() -> None:
    graph = core()
    external = set()
    for predicate in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, RDFS.domain, RDFS.range):
        for subject, obj in graph.subject_objects(predicate):
            for node in members(obj) if isinstance(obj, BNode) else [obj]:
                if isinstance(node, URIRef) and not is_bep(node) and not str(node).startswith(str(XSD)):
                    external.add(node)
    assert FIBO_FSE.PrincipalUnderwriter in external
    for node in external:
        assert (node, RDF.type, None) in graph, f"{node} is not declared"
        assert graph.value(node, RDFS.label) is not None, f"{node} has no label"


def test_dublin_core_terms_are_reused_as_annotation_properties() -> None:
    for term in (DCTERMS.identifier, DCTERMS.isPartOf, DCTERMS.source, DCTERMS.description):
        assert (term, RDF.type, OWL.AnnotationProperty) in core()


# ---------------------------------------------------------------- consistency


def test_no_term_is_declared_as_two_kinds_of_property() -> None:
    graph = core()
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    for term in set(graph.subjects(RDF.type, None)):
        declared = [k for k in kinds if (term, RDF.type, k) in graph]
        assert len(declared) <= 1, f"{term} is {declared}"
        if declared:
            assert (term, RDF.type, OWL.Class) not in graph, f"{term} is a class and a property"


@pytest.mark.parametrize("prop", bep_subjects(OWL.ObjectProperty), ids=local)
def test_object_property_range_is_a_declared_class(prop: URIRef) -> None:
    graph = core()
    ranges = list(graph.objects(prop, RDFS.range))
    assert len(ranges) == 1, f"{local(prop)} needs exactly one rdfs:range"
    if isinstance(ranges[0], BNode):
        assert (ranges[0], RDF.type, OWL.Class) in graph
    for cls in members(ranges[0]):
        assert (cls, RDF.type, OWL.Class) in graph, f"{local(prop)} range {cls} is not a class"


@pytest.mark.parametrize("prop", bep_subjects(OWL.DatatypeProperty), ids=local)
def test_datatype_property_range_is_one_of_the_graph_datatypes(prop: URIRef) -> None:
    assert one(core(), prop, RDFS.range) in ALLOWED_DATATYPES


def test_every_bep_iri_mentioned_in_either_file_is_declared() -> None:
    graph = both()
    mentioned = {node for triple in graph for node in triple if is_bep(node)}
    declared = set(graph.subjects(RDF.type, None))
    assert not mentioned - declared, sorted(local(n) for n in mentioned - declared)


def test_every_superclass_and_superproperty_of_a_bep_term_is_declared_with_the_same_kind() -> None:
    graph = core()
    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        assert (sup, RDF.type, OWL.Class) in graph, f"{sub} < {sup}"
    for sub, sup in graph.subject_objects(RDFS.subPropertyOf):
        kind = next(k for k in (OWL.ObjectProperty, OWL.DatatypeProperty) if (sub, RDF.type, k) in graph)
        assert (sup, RDF.type, kind) in graph, f"{sub} < {sup}"


def test_class_hierarchy_has_no_cycles() -> None:
    for cls in bep_subjects(OWL.Class):
        for parent in core().objects(cls, RDFS.subClassOf):
            assert cls not in superclasses(parent), f"{local(cls)} is its own superclass"
