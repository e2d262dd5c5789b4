"""Reader of the plan filing: the EDGAR text of the Brokerage Enhancement Plan.

It reads the document as filed — the exhibit header, ``<PAGE>`` markers,
lines wrapped mid-sentence, paragraphs split across pages — and finds the
parties, the numbered paragraphs, the date and Schedule A by what the text
says, not by a list typed into the code. Anything it cannot find is a
:class:`~bepgraph.errors.FilingError` naming what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..errors import FilingError
from ..namespaces import DATA, DCTERMS, RDF, RDFS, entity_iri
from .files import irregular_file
from .ntriples import bep, iri, literal, triple, typed

__all__ = ["Filing", "Party", "ScheduleSeries", "read_filing", "slug", "filing_triples"]

RDF_TYPE = f"<{RDF}type>"
LABEL = f"<{RDFS}label>"
IDENTIFIER = f"<{DCTERMS}identifier>"
IS_PART_OF = f"<{DCTERMS}isPartOf>"

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_PAGE = re.compile(r"^\s*<PAGE>\s*$", re.MULTILINE)
_PARAGRAPH = re.compile(r"^ {1,8}(\d{1,2})\.\s+", re.MULTILINE)
_DATE_LINE = re.compile(r"^\s*Date:\s*(.+?)\s*$", re.MULTILINE)
_LONG_DATE = re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4}$")


def slug(text: str) -> str:
    """The bundle's id for a name: lower-case, runs of other characters as one '-'."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class Party:
    id: str
    name: str


@dataclass(frozen=True)
class ScheduleSeries:
    id: str
    name: str
    position: int
    sub_adviser: Party


@dataclass(frozen=True)
class Filing:
    """What the plan filing says, as plain values."""

    source: Path
    title: str
    plan_date: date
    trust: Party
    adviser: Party
    distributor: Party
    paragraphs: dict[int, str]
    series: tuple[ScheduleSeries, ...]
    sub_advisers: tuple[Party, ...] = field(default=())

    @property
    def ids(self) -> dict[str, set[str]]:
        """The ids a bundle may refer to without defining them, by bundle table."""
        orgs = {self.trust.id, self.adviser.id, self.distributor.id}
        orgs |= {p.id for p in self.sub_advisers}
        return {"organizations": orgs, "series": {s.id for s in self.series}, "plan": {"plan"}}


def _fold(text: str) -> str:
    return " ".join(text.split())


def _parse_long_date(text: str, what: str) -> date:
    try:
        return datetime.strptime(_fold(text), "%B %d, %Y").date()
    except ValueError as exc:
        raise FilingError(f"the plan's {what} '{text}' is not a date like 'May 16, 2002'") from exc


_CLAUSE_WORDS = {"WHEREAS", "NOW", "THEREFORE"}


def _defined_term(body: str, term: str, source: Path) -> str:
    """The name a clause defines as ("term"): the run of capitalised words just before it."""
    found = re.search(r"\((?:the\s+)?\"" + re.escape(term) + r"\"\)", body)
    if not found:
        raise FilingError(f"{source}: the filing never defines the {term} (no '(\"{term}\")' clause)")
    words: list[str] = []
    for word in reversed(body[: found.start()].split()):
        if not word[0].isupper() or word.strip(",") in _CLAUSE_WORDS:
            break
        words.insert(0, word)
    if not words:
        raise FilingError(f"{source}: the clause defining the {term} names no one before it")
    return " ".join(words).rstrip(",")


def read_filing(path: Path) -> Filing:
    """Read the plan filing at *path*; raises FilingError naming whatever is missing.

    The checks run in the order the parts are read (the text, Schedule A's heading, the title, the
    defined terms, the paragraphs, the plan's date, Schedule A's lines), so a filing missing several
    parts is always refused for the same one."""
    text = _filing_text(path)
    schedule_at = re.search(r"^\s*SCHEDULE A\s*$", text, re.MULTILINE)
    if not schedule_at:
        raise FilingError(f"{path}: no 'SCHEDULE A' heading: the series under the plan cannot be read")
    body, schedule = text[: schedule_at.start()], text[schedule_at.end():]

    title_at = re.search(r"^\s*([A-Z][A-Z .&/-]+ TRUST)\s*\n\s*\n?\s*([A-Z][A-Z ]+PLAN)\s*$", body, re.MULTILINE)
    if not title_at:
        raise FilingError(f"{path}: no title naming the trust and the plan")
    folded = _fold(body)
    trust_name = _defined_term(folded, "Trust", path)
    title = f"{trust_name} {_fold(title_at.group(2)).title()}"
    adviser_name = _defined_term(folded, "JNAM", path)
    distributor_name = _defined_term(folded, "Distributor", path)

    paragraphs = _paragraphs(body, path)
    dated = _DATE_LINE.search(body)
    if not dated:
        raise FilingError(f"{path}: no 'Date:' line giving the plan's date")
    plan_date = _parse_long_date(dated.group(1), "date")
    series, advisers = _schedule_a(schedule, path)

    return Filing(
        source=path,
        title=title,
        plan_date=plan_date,
        trust=Party("trust", trust_name),
        adviser=Party("jnam", adviser_name),
        distributor=Party("distributor", distributor_name),
        paragraphs=paragraphs,
        series=tuple(series),
        sub_advisers=tuple(advisers),
    )


def _filing_text(path: Path) -> str:
    """The filing's text with its page breaks taken out; refuses what cannot be read as a file."""
    if (irregular := irregular_file(path)) is not None:  # a FIFO would block the read for good
        raise FilingError(f"cannot read the plan filing: {irregular}")
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FilingError(f"{path}: cannot read the plan filing ({exc.strerror})") from exc
    return _PAGE.sub("", raw.replace("\r\n", "\n"))


def _paragraphs(body: str, path: Path) -> dict[int, str]:
    """The plan's numbered paragraphs, folded, each ending before a 'Date:' line. Numbers are taken in
    sequence (1, 2, …), so a number quoted inside a paragraph does not start a new one."""
    marks = list(_PARAGRAPH.finditer(body))
    paragraphs: dict[int, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        number = int(mark.group(1))
        chunk = body[mark.end(): end]
        date_line = _DATE_LINE.search(chunk)
        if date_line:
            chunk = chunk[: date_line.start()]
        if number == len(paragraphs) + 1:
            paragraphs[number] = _fold(chunk)
    if not paragraphs:
        raise FilingError(f"{path}: no numbered paragraphs ('1.', '2.', …) in the plan")
    return paragraphs


def _schedule_a(schedule: str, path: Path) -> tuple[list[ScheduleSeries], list[Party]]:
    """Schedule A's series in order, and their sub-advisers in order of first mention; every line must
    name a '<Sub-Advisor>/JNL …' series, and no series twice."""
    series: list[ScheduleSeries] = []
    advisers: dict[str, Party] = {}
    for line in schedule.splitlines():
        name = _fold(line)
        if not name or _LONG_DATE.match(name):
            continue
        if "/JNL" not in name:
            raise FilingError(f"{path}: Schedule A line '{name}' does not name a '<Sub-Advisor>/JNL …' series")
        adviser_label = name.split("/JNL", 1)[0].strip()
        adviser = advisers.setdefault(slug(adviser_label), Party(slug(adviser_label), adviser_label))
        series.append(ScheduleSeries(slug(name), name, len(series) + 1, adviser))
    if not series:
        raise FilingError(f"{path}: Schedule A lists no series")
    duplicates = {s.id for s in series if sum(1 for t in series if t.id == s.id) > 1}
    if duplicates:
        raise FilingError(f"{path}: Schedule A names a series twice: {', '.join(sorted(duplicates))}")
    return series, list(advisers.values())


def filing_triples(filing: Filing) -> list[str]:
    """The filing as N-Triples lines, in the vocabulary of docs/vocabulary.md."""
    out: list[str] = []
    add = out.append
    plan = iri(entity_iri("plan", "plan"))
    trust = iri(entity_iri("organizations", filing.trust.id))
    adviser = iri(entity_iri("organizations", filing.adviser.id))
    distributor = iri(entity_iri("organizations", filing.distributor.id))

    add(triple(plan, RDF_TYPE, bep("Plan")))
    add(triple(plan, LABEL, literal(filing.title)))
    add(triple(plan, IDENTIFIER, literal("plan")))
    add(triple(plan, bep("planDate"), typed(filing.plan_date.isoformat(), "date")))
    add(triple(plan, bep("ofTrust"), trust))
    for number, text in filing.paragraphs.items():
        node = iri(f"{DATA}plan/paragraph/{number}")
        add(triple(plan, bep("hasParagraph"), node))
        add(triple(node, RDF_TYPE, bep("PlanParagraph")))
        add(triple(node, bep("paragraphNumber"), typed(str(number), "integer")))
        add(triple(node, LABEL, literal(f"Plan ¶{number}")))
        add(triple(node, bep("text"), literal(text)))
        add(triple(node, IS_PART_OF, plan))

    for party, node, classes in (
        (filing.trust, trust, ("Trust",)),
        (filing.adviser, adviser, ("InvestmentAdviser",)),
        (filing.distributor, distributor, ("Distributor", "BrokerDealer")),
    ):
        add(triple(node, RDF_TYPE, bep("Organization")))
        for cls in classes:
            add(triple(node, RDF_TYPE, bep(cls)))
        add(triple(node, LABEL, literal(party.name)))
        add(triple(node, IDENTIFIER, literal(party.id)))
    add(triple(trust, bep("adviser"), adviser))
    add(triple(trust, bep("distributor"), distributor))

    for party in filing.sub_advisers:
        node = iri(entity_iri("organizations", party.id))
        add(triple(node, RDF_TYPE, bep("Organization")))
        add(triple(node, RDF_TYPE, bep("SubAdviser")))
        add(triple(node, LABEL, literal(party.name)))
        add(triple(node, IDENTIFIER, literal(party.id)))
        add(triple(node, bep("retainedBy"), adviser))

    for s in filing.series:
        node = iri(entity_iri("series", s.id))
        add(triple(plan, bep("scheduleASeries"), node))
        add(triple(node, RDF_TYPE, bep("Series")))
        add(triple(node, LABEL, literal(s.name)))
        add(triple(node, IDENTIFIER, literal(s.id)))
        add(triple(node, bep("ofTrust"), trust))
        add(triple(node, bep("subAdviser"), iri(entity_iri("organizations", s.sub_adviser.id))))
        add(triple(node, bep("scheduleAPosition"), typed(str(s.position), "integer")))
    return out
