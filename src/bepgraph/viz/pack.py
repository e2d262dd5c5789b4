"""The board pack: one PDF a trustee reads in ten minutes, the answer first and the evidence after.

Page 1 is the executive summary: whether the plan is in effect and for how
many series, the findings by rule family with the change since the previous
review, the decisions before the board, each with the page that holds its
evidence. Then the contents, and the sections: the status of each series by
rule family (a heat map), the findings at each quarter end, the money flow
as a Sankey, the parties that make a broker affiliated or a trustee
interested, governance as a matrix, the structure in force, the compliance
calendar and the findings table.

Why reportlab: text, tables that break across pages and vector drawings in
one document model; Graphviz's SVG comes in through svglib as vector
drawings too. The document is built twice: the first pass finds the page of
every section, the second writes those pages into the summary and the
contents. Sections flow one after the other (a heading is kept with what
follows), so no page is left holding a heading or a few stray rows.
"""

from __future__ import annotations

import io
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import networkx as nx
import pyoxigraph as ox
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (CondPageBreak, Flowable, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate,
                                Spacer, Table, TableStyle)
from reportlab.pdfgen.canvas import Canvas
from svglib.svglib import svg2rlg

from ..errors import BepgraphError, ParameterError
from ..sparql import find_query
from ..store import Store
from ..validation.findings import Finding, Report
from ..validation.findings_source import VALIDATED
from ..validation.saved_findings import SavedFindings
from .analysis import Analysis, analyse, parties_that_matter
from .board_page import BUILT, sub_advisers_of_series
from .calendar import Calendar, compliance_calendar
from .dates import quarter_ends, quarter_label
from .figures import FONT_PT, render_svg
from .marks import mark_findings
from .matrix import GovernanceMatrix, governance_matrix
from .page_data import group_series
from .pack_figures import MIN_PT, heat_map_drawing, sankey_drawing, timeline_drawing
from .pack_saved import check_saved_dates, missing_quarters, required, saved_source
from .review import TRUST_WIDE, Changes, changes_since, family_rows, heat_map
from .sankey import sankey
from .views import Period, constructed

__all__ = ["PAPERS", "PackSummary", "build_pack"]

PAPERS = {"a4": A4, "letter": LETTER}
MARGIN = 15 * mm
_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontName="Helvetica", fontSize=9.5, leading=12.5)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=MIN_PT, leading=10)
_CAPTION = ParagraphStyle("caption", parent=_SMALL, textColor=colors.HexColor("#3d444d"), spaceBefore=3, spaceAfter=6)
_INTRO = ParagraphStyle("intro", parent=_BODY, keepWithNext=1)  # a section's first words stay with what follows
_H1 = ParagraphStyle("h1", parent=_STYLES["Heading1"], fontName="Helvetica-Bold", fontSize=15, leading=18,
                     spaceBefore=10, spaceAfter=5, keepWithNext=1)
_H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], fontName="Helvetica-Bold", fontSize=11.5, leading=14,
                     spaceBefore=8, spaceAfter=3, keepWithNext=1)
_TITLE = ParagraphStyle("title", parent=_H1, fontSize=17, leading=21, spaceBefore=0)
_GRID = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", MIN_PT),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", MIN_PT),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c0c6cc")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
])

SECTIONS = {
    "summary": "Executive summary",
    "contents": "Contents",
    "status": "Status of each series by rule family",
    "money": "Money flow of directed brokerage",
    "timeline": "Findings at each quarter end",
    "control": "Control and affiliation: the parties that matter",
    "governance": "Governance: trustees and board meetings",
    "structure": "Structure in force",
    "calendar": "Compliance calendar",
    "findings": "Findings",
    "about": "About this pack",
}


@dataclass(frozen=True)
class PackSummary:
    """What went into a pack: for the command's report and the tests."""

    path: Path
    pages: int
    findings: int
    views: dict[str, tuple[int, int]]  # view -> (nodes, edges)
    sections: dict[str, int] = field(default_factory=dict)  # section -> page
    timeline: list[tuple[str, int, int]] = field(default_factory=list)  # quarter, violations, warnings
    timeline_missing: list[str] = field(default_factory=list)  # quarters no findings file is as of (not drawn)


@dataclass
class _Frame:
    width: float
    height: float


class _Heading(Paragraph):
    """A section heading that tells the document which page it landed on."""

    def __init__(self, key: str, text: str, style: ParagraphStyle = _H1) -> None:
        super().__init__(escape(text), style)
        self.section = key


class _Doc(SimpleDocTemplate):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.pages: dict[str, int] = {}

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (reportlab's hook)
        key = getattr(flowable, "section", None)
        if key and key not in self.pages:
            self.pages[key] = self.page


def _p(text: str, style: ParagraphStyle = _SMALL) -> Paragraph:
    return Paragraph(escape(text), style)


def _page(pages: dict[str, int], key: str) -> str:
    return f"page {pages[key]}" if key in pages else "page ?"


def _figure(drawing: Drawing, caption: str, frame: _Frame, min_font: float) -> list[Flowable]:
    """A drawing scaled to the frame (never so far that its smallest text falls below 8 pt), then its caption."""
    scale = min(frame.width / drawing.width, frame.height * 0.8 / drawing.height, 1.0)
    if min_font * scale < MIN_PT:
        return [_p("This figure would not be legible at the size of the page; the table below holds "
                   "the same facts.", _CAPTION)]
    drawing.scale(scale, scale)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    return [drawing, _p(caption, _CAPTION)]


class _Elastic(Flowable):
    """A drawing as tall as the space left on the page allows, between *low* and *high* points.

    So a figure that fits its page a little smaller is drawn there, not
    pushed to the next page leaving this one near empty; *reserve* is kept
    for what is kept together with it (its heading and caption). Text sizes
    do not change with the height: only the spacing does.
    """

    def __init__(self, make: Callable[[float], Drawing], low: float, high: float, reserve: float) -> None:
        super().__init__()
        self.make, self.low, self.high, self.reserve = make, low, high, reserve
        self.drawing: Drawing | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        height = max(self.low, min(self.high, available_height - self.reserve))
        self.drawing = self.make(height)
        return self.drawing.width, self.drawing.height

    def draw(self) -> None:
        assert self.drawing is not None
        renderPDF.draw(self.drawing, self.canv, 0, 0)


def _legend(items: list[tuple[str, str]], frame: _Frame) -> Table:
    """A one-row legend of colour swatches and what they mean."""
    cells, style = [], [("FONT", (0, 0), (-1, -1), "Helvetica", MIN_PT), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                         ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    for i, (colour, label) in enumerate(items):
        cells += ["", _p(label)]
        style += [("BACKGROUND", (2 * i, 0), (2 * i, 0), colors.HexColor(colour)),
                  ("BOX", (2 * i, 0), (2 * i, 0), 0.4, colors.HexColor("#57606a"))]
    widths = []
    for _, label in items:
        widths += [9, min(frame.width / len(items) - 9, 6 + 4.6 * len(label))]
    return Table([cells], colWidths=widths, style=TableStyle(style), hAlign="LEFT")


# ---- page 1 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Facts:
    as_of: date
    period: Period
    report: Report
    changes: Changes | None
    calendar: Calendar
    series: int
    analysis: Analysis
    timeline: list[tuple[str, int, int]]
    agreements: list[Finding]
    in_force: frozenset[str] = frozenset()  # ids of the agreements in force on the as-of date
    timeline_missing: tuple[str, ...] = ()  # quarter ends whose findings no file holds (pack from findings files)
    saved: str | None = None  # where the findings came from, when read from findings files


def _plan_sentence(f: _Facts) -> str:
    cal = f.calendar
    if not cal.adopted:
        adopted = f" (it was adopted on {cal.plan_date})" if cal.plan_date else ""
        return (f"As of {f.as_of} the plan was not yet adopted{adopted}: no series had it in effect, and "
                f"the findings below judge only what was in place before it.")
    effect = len({c.series for c in cal.in_effect})
    ended = [c for c in cal.continuances if c.until is not None and c.until <= f.as_of]
    sentence = f"As of {f.as_of} the plan is in effect for {effect} of the {f.series} series."
    if not effect and ended:
        last = max(ended, key=lambda c: c.until or date.min)  # every one ended: until is set
        sentence = (f"As of {f.as_of} the plan is in effect for none of the {f.series} series: "
                    f"its last interval ended on {last.until} ({last.end_reason or 'ended'}).")
    return sentence


def _summary(f: _Facts, pages: dict[str, int], frame: _Frame) -> list[Flowable]:
    c = f.report.counts
    out: list[Flowable] = [
        _p("JNL Series Trust — Brokerage Enhancement Plan (Rule 12b-1)", _SMALL),
        _Heading("summary", f"Board pack as of {f.as_of}: executive summary", _TITLE),
        _p(_plan_sentence(f) + f" Money flow and votes are those from {f.period.start} to {f.period.end}.", _BODY),
        _p(f"Findings as of {f.as_of}: {c['violation']} violations and {c['warning']} warnings"
           + (f", {c['info']} for information" if c["info"] else "")
           + f" (every finding: {_page(pages, 'findings')}; by series: {_page(pages, 'status')}; "
             f"at each quarter end: {_page(pages, 'timeline')}).", _BODY),
    ]
    if f.changes:
        ch = f.changes
        out.append(_p(f"Since the previous review ({ch.since}): {len(ch.new)} new, {len(ch.resolved)} resolved and "
                      f"{len(ch.persisting)} persisting findings, matched by rule and the entity concerned.", _BODY))
    rows = family_rows(f.report, f.changes)
    head: list[object] = ["rule family", "plan", "violations", "warnings"]
    head += ["new", "resolved", "persisting"] if f.changes else []
    data: list[list[object]] = [head]
    for r in rows:
        line: list[object] = [r.family, r.citation, str(r.violations), str(r.warnings)]
        if f.changes:
            line += [str(r.new), str(r.resolved), str(r.persisting)]
        data.append(line)
    if len(data) == 1:
        data.append(["—", "no rule is broken as of this date", "0", "0", *(["0", "0", "0"] if f.changes else [])])
    widths = [24 * mm, 34 * mm, 20 * mm, 20 * mm] + ([18 * mm, 18 * mm, 20 * mm] if f.changes else [])
    out += [_Heading("summary-families", "Findings by rule family", _H2),
            Table(data, colWidths=widths, style=_GRID, repeatRows=1, hAlign="LEFT")]
    out += [_Heading("summary-decisions", "Decisions before the board", _H2)]
    out += [_p("• " + s, _BODY) for s in _decisions(f, pages)]
    return out + _contents(pages, frame) + [PageBreak()]


def _decisions(f: _Facts, pages: dict[str, int]) -> list[str]:
    cal, out = f.calendar, []
    due: Counter[date] = Counter(c.due for c in cal.in_effect if c.due)
    for day, n in sorted(due.items()):
        out.append(f"Continue the plan for {n} series by {day}: the annual continuance is due then "
                   f"(the calendar, {_page(pages, 'calendar')}).")
    if cal.adopted and not cal.in_effect:
        out.append(f"No continuance is due: the plan is not in effect for any series ({_page(pages, 'calendar')}).")
    for r in cal.missing:
        out.append(f"Ask the Distributor for the missing quarterly report for {r.quarter} (due by {r.deadline}; "
                   f"{_page(pages, 'calendar')}).")
    by_agreement: dict[str, list[Finding]] = defaultdict(list)
    for finding in f.agreements:
        by_agreement[finding.focus.id].append(finding)
    for agreement, found in sorted(by_agreement.items()):
        rules = ", ".join(sorted({x.rule for x in found}))
        if agreement in f.in_force:
            out.append(f"Approve an amended agreement {agreement} or end it: it breaks {rules} "
                       f"({_page(pages, 'findings')}; its parties, {_page(pages, 'structure')}).")
        else:
            out.append(f"Minute how agreement {agreement}, no longer in force, is dealt with: it broke {rules} "
                       f"while it was ({_page(pages, 'findings')}).")
    paths = f.analysis.paths
    if paths:
        brokers = sorted({p.label for p in paths})
        out.append(f"Review as affiliated brokerage the trades with {', '.join(brokers)}: "
                   f"affiliated with the Distributor, the adviser or a sub-adviser ({_page(pages, 'control')}).")
    if not out:
        out.append("No decision is due: no continuance, missing report or agreement needs the board's action.")
    return out


def _contents(pages: dict[str, int], frame: _Frame) -> list[Flowable]:
    rows = [[SECTIONS[k], str(pages.get(k, "?"))] for k in SECTIONS if k not in ("summary", "contents")]
    return [_Heading("contents", SECTIONS["contents"], _H2),
            Table(rows, colWidths=[frame.width - 30 * mm, 15 * mm], hAlign="LEFT", style=TableStyle([
                ("FONT", (0, 0), (-1, -1), "Helvetica", 9), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d7de"))])),
            _p("Every count in this pack is computed from the facts loaded and the plan filing, as of the date "
               "above; each figure says in its caption what to look at.", _CAPTION)]


# ---- sections --------------------------------------------------------------------------------

def _status(f: _Facts, series_labels: dict[str, str], frame: _Frame) -> list[Flowable]:
    rows, columns, cells = heat_map(f.report, series_labels)
    head: list[Flowable] = [_Heading("status", SECTIONS["status"]),
                            _p("One row per series, one column per rule family (BEP-n: the rules of plan ¶n); "
                               "the number is the count of findings, the colour the worst of them.", _BODY)]
    if not columns:
        return head + [_p("No finding as of this date.", _BODY)]
    worst = sorted(((sum(cells[(r, c)].get("violation", 0) for c in columns), r) for r in rows), reverse=True)
    top = [r for n, r in worst if n][:3]
    caption = ("Look first at the red rows: " + "; ".join(top) + "." if top else "No series has a violation.")
    caption += f" The last row ({TRUST_WIDE}) holds findings on the plan, its reports and meetings."
    return [KeepTogether(head + _figure(heat_map_drawing(rows, columns, cells, frame.width), caption, frame, MIN_PT))]


def _timeline(f: _Facts, frame: _Frame) -> list[Flowable]:
    out: list[Flowable] = [_Heading("timeline", SECTIONS["timeline"]),
                           _p("Violations and warnings standing at each quarter end of the plan's life, "
                              "each judged as of that day.", _BODY)]
    if f.timeline_missing:
        out.append(_p(missing_quarters(f.timeline_missing), _BODY))
    if not f.timeline:
        return out + ([] if f.timeline_missing else
                      [_p("No quarter end of the plan's life falls on or before this date.", _BODY)])
    peak = max(f.timeline, key=lambda p: p[1] + p[2])
    caption = (f"Read the trend: most findings stood at {peak[0]} ({peak[1]} violations, {peak[2]} warnings); "
               f"the last bar is {f.timeline[-1][0]}.")
    return [KeepTogether(out + _figure(timeline_drawing(f.timeline, frame.width), caption, frame, MIN_PT))]


def _money(f: _Facts, money: nx.MultiDiGraph, frame: _Frame) -> list[Flowable]:
    c = f.analysis.concentration
    out: list[Flowable] = [_Heading("money", SECTIONS["money"])]
    flows = sankey(money)
    if not flows["links"]:
        return out + [_p(f"No directed brokerage, payment, credit or spending from {f.period.start} to "
                         f"{f.period.end}.", _BODY)]
    out.append(_p(f"Directed commissions from {f.period.start} to {f.period.end}: {c.total:,.2f} across "
                  f"{len(c.brokers)} brokers; Herfindahl-Hirschman index {c.hhi:,.0f} of 10,000 "
                  f"(above 2,500 regulators call a market highly concentrated).", _BODY))
    tallest = min(frame.height * 0.7, 520.0)
    needed = 70.0 + max(Counter(n["column"] for n in flows["nodes"]).values()) * 33.0
    drawing = _Elastic(lambda h: sankey_drawing(flows, frame.width, h), low=min(needed, tallest), high=tallest,
                       reserve=150.0)
    spent = sum(float(a["amount"]) for *_, a in money.edges(data=True) if a.get("relation") == "spent")
    benefits = sum(float(a["amount"]) for *_, a in money.edges(data=True) if a.get("relation") == "benefit")
    caption = (f"Follow the bands left to right: commissions from the series (grouped by sub-adviser) to the "
               f"brokers, the payments and credits the brokers gave ({benefits:,.0f}), who received them, and the "
               f"plan ¶2 categories they were spent on ({spent:,.0f}). Band width is the amount; each node shows "
               f"its total.")
    out = [KeepTogether(out + [drawing, _p(caption, _CAPTION)])]
    rows: list[list[object]] = [["broker", "directed commissions", "share", "trades"]] + [
        [_p(b.label), f"{b.commission:,.2f}", f"{100 * b.share:.1f}%", str(b.trades)] for b in c.brokers]
    out.append(KeepTogether([_p("Directed commissions by broker", _H2),
                             Table(rows, colWidths=[frame.width - 85 * mm, 35 * mm, 25 * mm, 25 * mm], style=_GRID,
                                   repeatRows=1, hAlign="LEFT")]))
    exposed = [e for e in f.analysis.exposure if e.affiliated > 0]
    if exposed:
        rows = [["series", "directed commissions", "to affiliated brokers", "share"]] + [
            [_p(e.label), f"{e.directed:,.2f}", f"{e.affiliated:,.2f}", f"{100 * e.share:.1f}%"] for e in exposed]
        out.append(KeepTogether([_p("Series whose directed brokerage went to affiliated brokers", _H2),
                                 Table(rows, colWidths=[frame.width - 90 * mm, 32 * mm, 32 * mm, 26 * mm],
                                       style=_GRID, repeatRows=1, hAlign="LEFT")]))
    else:
        out.append(_p("No series sent directed brokerage to an affiliated broker in the period.", _BODY))
    return out


def _control(f: _Facts, control: nx.MultiDiGraph, frame: _Frame) -> list[Flowable]:
    out: list[Flowable] = [_Heading("control", SECTIONS["control"])]
    part = parties_that_matter(control)
    if part.number_of_edges() == 0:
        return out + [_p(f"As of {f.as_of} no broker is affiliated with the Distributor, the adviser or a "
                         f"sub-adviser, and no trustee is an interested person.", _BODY)]
    intro = _p("Only the chains of relationships that make a broker an affiliated person of the Distributor, "
               "the adviser or a sub-adviser, or a trustee an interested person, as of "
               f"{f.as_of}.", _BODY)
    drawing = svg2rlg(io.BytesIO(render_svg(part, "TB")))
    if drawing is None:
        raise BepgraphError("the control figure could not be read back from Graphviz's SVG")
    interested = sorted(str(a["label"]) for _, a in part.nodes(data=True) if a.get("interested") is True)
    caption = ("Follow each solid arrow (a relationship in force) from a trustee or a broker to the adviser, the "
               "Distributor or a sub-adviser; a dashed red arrow is the affiliation the rules derive from them. "
               + (f"Interested trustees (octagons): {', '.join(interested)}." if interested else ""))
    out = [KeepTogether([*out, intro, *_figure(drawing, caption, frame, FONT_PT),
                          _legend([("#f8d0d2", "broker-dealer"), ("#c8ddfb", "adviser"), ("#dcecfd", "sub-adviser"),
                                   ("#e2d4f7", "Distributor"), ("#e3e6e9", "trustee / other")], frame)])]
    rows: list[list[object]] = [["broker", "affiliated with", "through", "rests on"]] + [
        [_p(p.label), _p(p.principal_label), _p(" → ".join(p.path) + f" ({', '.join(p.relations)})"),
         _p(", ".join(p.rests_on))] for p in f.analysis.paths]
    if len(rows) > 1:
        out.append(Table(rows, colWidths=[35 * mm, 35 * mm, frame.width - 100 * mm, 30 * mm], style=_GRID,
                         repeatRows=1, hAlign="LEFT"))
    return out


def _governance(m: GovernanceMatrix, frame: _Frame) -> list[Flowable]:
    out: list[Flowable] = [_Heading("governance", SECTIONS["governance"]),
                           _p(f"Trustees (rows) × the board meetings of the period (columns): the status as of "
                              f"{m.as_of}, and at each meeting whether in office, the votes cast on the plan's "
                              f"matters and whether in person.", _INTRO)]
    if not m.trustees:
        return out + [_p("No trustee served in the period.", _BODY)]
    shown = list(m.meetings)
    chunks = [shown[i:i + 4] for i in range(0, len(shown), 4)] or [[]]
    fill = {"for": "#dafbe1", "remote": "#fff8c5", "dissent": "#ffebe9", "none": "#f6f8fa"}
    for chunk in chunks:
        start = shown.index(chunk[0]) if chunk else 0
        head: list[object] = ["trustee", f"status as of {m.as_of}", *(f"{c.day}\n{c.matters} plan matters" for c in chunk)]
        data: list[list[object]] = [head]
        style = list(_GRID.getCommands())
        for i, (t, row) in enumerate(zip(m.trustees, m.cells), start=1):
            data.append([_p(t.label), _p(t.status)] + [_p(c.text) for c in row[start:start + len(chunk)]])
            for j, c in enumerate(row[start:start + len(chunk)], start=2):
                style.append(("BACKGROUND", (j, i), (j, i), colors.HexColor(fill[c.mark])))
            style.append(("BACKGROUND", (1, i), (1, i), colors.HexColor(
                "#fff1e5" if t.interested else "#dafbe1" if t.interested is False else "#f6f8fa")))
        meeting_w = (frame.width - 95 * mm) / max(len(chunk), 1)
        out.append(Table(data, colWidths=[35 * mm, 60 * mm] + [meeting_w] * len(chunk), style=TableStyle(style),
                         repeatRows=1, hAlign="LEFT"))
        out.append(Spacer(1, 2 * mm))
    if not m.meetings:
        out.append(_p("No board meeting in the period.", _BODY))
    out += [_legend([("#dafbe1", "independent / voted for in person"), ("#fff1e5", "interested person"),
                     ("#fff8c5", "not in person"), ("#ffebe9", "against, abstained or absent"),
                     ("#f6f8fa", "not in office / no ballot")], frame),
            _p("Look for an interested trustee voting on the plan and for independent trustees not voting in "
               "person: Rule 12b-1 asks for votes cast in person at a meeting called for the purpose.", _CAPTION)]
    return out


def _structure(structure: nx.MultiDiGraph, frame: _Frame) -> list[Flowable]:
    out: list[Flowable] = [_Heading("structure", SECTIONS["structure"]),
                           _p("Each sub-adviser with the series it manages, and the agreements in force as of the "
                              "date with their parties.", _INTRO)]
    sub_of = sub_advisers_of_series(structure)
    series_of: dict[str, list[str]] = defaultdict(list)
    for s, (sub, _) in sub_of.items():
        series_of[sub].append(str(structure.nodes[s].get("label", s)))
    names = {sub: label for sub, label in sub_of.values()}
    rows: list[list[object]] = [["sub-adviser", "series", "its series"]] + [
        [_p(names[sub]), str(len(series_of[sub])), _p("; ".join(sorted(series_of[sub])))]
        for sub in sorted(series_of, key=lambda s: names[s])]
    out.append(Table(rows, colWidths=[40 * mm, 14 * mm, frame.width - 54 * mm], style=_GRID, repeatRows=1,
                     hAlign="LEFT"))
    agreements: list[list[object]] = [["agreement", "kind", "effective", "parties", "series covered"]]
    for n, a in sorted(structure.nodes(data=True), key=lambda x: str(x[1].get("id"))):
        if a.get("kind") != "agreement":
            continue
        parties = sorted(str(structure.nodes[u].get("label", u)) for u, _, e in structure.in_edges(n, data=True)
                         if e.get("relation") == "partyTo")
        covered = sum(1 for _, _, e in structure.in_edges(n, data=True) if e.get("relation") == "coveredBy")
        agreements.append([_p(str(a.get("id"))), _p(str(a.get("agreementKind", ""))), str(a.get("effective", "")),
                           _p("; ".join(parties)), str(covered) if covered else "all"])
    out += [_p("Agreements in force", _H2),
            Table(agreements, colWidths=[35 * mm, 38 * mm, 20 * mm, frame.width - 115 * mm, 22 * mm], style=_GRID,
                  repeatRows=1, hAlign="LEFT")]
    return out


def _calendar(cal: Calendar, frame: _Frame) -> list[Flowable]:
    reps: list[list[str]] = [["quarter", "due by", "report", "delivered"]] + [
        [r.quarter, r.deadline.isoformat(), r.report or "MISSING", r.delivered.isoformat() if r.delivered else "—"]
        for r in cal.reports]
    missing = ", ".join(r.quarter for r in cal.missing) or "none"
    out: list[Flowable] = [_Heading("calendar", SECTIONS["calendar"]),
                           _p(f"Quarterly reports judged as of {cal.as_of} (a quarter is judged once its 90 days "
                              f"have passed); missing: {missing}.", _INTRO)]
    if len(reps) > 1:
        out.append(Table(reps, colWidths=[25 * mm, 30 * mm, 50 * mm, 30 * mm], style=_GRID, repeatRows=1,
                         hAlign="LEFT"))
    # one row per status: 38 rows that say the same thing are one row that says how many
    groups: dict[tuple[date, str], list[str]] = defaultdict(list)
    for c in cal.continuances:
        groups[(c.in_effect_from, c.status)].append(c.label)
    cont: list[list[object]] = [["in effect from", "status", "series", "which"]] + [
        [day.isoformat(), status, str(len(labels)), _p("; ".join(sorted(labels)) if len(labels) <= 6
                                                        else f"{len(labels)} series (all but those listed apart)"
                                                        if len(groups) > 1 else "every series")]
        for (day, status), labels in sorted(groups.items())]
    out += [_p("Continuances: the plan in effect for each series and the anniversary by which the next continuance "
               "is due", _H2)]
    out.append(Table(cont, colWidths=[25 * mm, 45 * mm, 15 * mm, frame.width - 85 * mm], style=_GRID, repeatRows=1,
                     hAlign="LEFT") if len(cont) > 1 else _p("The plan has not been in effect for any series.", _BODY))
    return out


def _findings(report: Report, frame: _Frame) -> list[Flowable]:
    rows: list[list[object]] = [["rule", "severity", "focus", "message", "citation"]] + [
        [f.rule, f.severity, _p(f"{f.focus.table}/{f.focus.id}"), _p(f.message), _p("; ".join(f.citation))]
        for f in sorted(report.findings, key=Finding.sort_key)]
    out: list[Flowable] = [_Heading("findings", SECTIONS["findings"])]
    if len(rows) == 1:
        return out + [_p("No finding as of this date.", _BODY)]
    return out + [Table(rows, colWidths=[16 * mm, 16 * mm, 35 * mm, frame.width - 107 * mm, 40 * mm], style=_GRID,
                        repeatRows=1)]


def _sources(store: Store) -> list[tuple[str, str, str]]:
    """The graphs loaded, with their digests and load times (graph/meta): what the pack was made from."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for t in constructed(store.query(find_query("viz/generation-construct").text)):
        if isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.Literal):
            found[t.subject.value][t.predicate.value.rsplit("#", 1)[-1]] = t.object.value
    return sorted((g.rsplit("/graph/", 1)[-1], v.get("sha256", ""), v.get("generatedAtTime", "")[:19])
                  for g, v in found.items())


def _about(f: _Facts, generated: date, sources: list[tuple[str, str, str]], frame: _Frame) -> list[Flowable]:
    table: list[Flowable] = []
    if sources:
        rows: list[list[object]] = [["graph loaded", "SHA-256 of its source", "loaded at"]] + [
            [_p(g), _p(sha), at] for g, sha, at in sources]
        table = [Spacer(1, 2 * mm), Table(rows, colWidths=[45 * mm, frame.width - 85 * mm, 40 * mm], style=_GRID,
                                          repeatRows=1, hAlign="LEFT")]
    return [CondPageBreak(60 * mm), _Heading("about", SECTIONS["about"]),
            _p(f"Prepared by bepgraph on {generated} from the plan filing and the facts bundle loaded. Every rule is "
               f"judged as of {f.as_of} by the project's rules engine (the same findings as `bepgraph validate "
               f"--as-of {f.as_of} --format json`); the money flow sums the directed trades, payments, credits and "
               f"expenditures dated from {f.period.start} to {f.period.end}; trustee status and affiliations are "
               f"those derived for {f.as_of}. A finding is new, resolved or persisting by its rule and the entity "
               f"it concerns. The quarter-end figures are whole validation runs as of each quarter end.", _BODY),
            *([_p(saved_source(f.saved), _BODY)] if f.saved else []),
            _p("Rule families: BEP-n holds the rules of plan ¶n; the rule catalogue and the citations of each rule "
               "are in the project's docs/rules.md.", _BODY), *table]


def _footer(paper: tuple[float, float], as_of: date) -> Callable[[Canvas, _Doc], None]:
    def draw(canvas: Canvas, doc: _Doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", MIN_PT)
        canvas.drawString(MARGIN, 8 * mm, f"JNL Series Trust — Brokerage Enhancement Plan — board pack as of {as_of}")
        canvas.drawRightString(paper[0] - MARGIN, 8 * mm, f"page {doc.page}")
        canvas.restoreState()
    return draw


def _timeline_days(cal: Calendar, as_of: date) -> list[date]:
    """The quarter ends of the plan's life up to *as_of* (none before the plan was adopted)."""
    if not cal.adopted or cal.plan_date is None:
        return []
    return quarter_ends(cal.plan_date, as_of)


def _write_whole(out: Path, data: bytes) -> None:
    """*data* at *out*, whole or not at all: written beside it and moved into place, so a process killed
    while writing (or a pack refused after its second pass) never leaves a partial pack under the name."""
    part = out.with_name(out.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise BepgraphError(f"could not write the board pack to {out}: {exc.strerror or exc}") from exc


def build_pack(store: Store, as_of: date, out: Path, start: date | None = None, since: date | None = None,
               paper: str = "a4", saved: SavedFindings | None = None) -> PackSummary:
    """Write the board pack for *as_of* to *out*: money flow and votes from *start* (default a year before),
    changes since the review of *since*, on A4 or US Letter; with *saved*, the findings are read from its
    files, never validated here (pack_saved.py says what the pack then shows)."""
    if paper not in PAPERS:
        raise ParameterError(f"--paper '{paper}' is not a paper size (one of: {', '.join(PAPERS)})")
    if since is not None and since >= as_of:
        raise ParameterError(f"--since {since} is not before --as-of {as_of}: the previous review comes first")
    if saved is not None:  # refused before any work: the dates whose findings no file holds
        check_saved_dates(store, saved, as_of, since)
    size = PAPERS[paper]
    frame = _Frame(size[0] - 2 * MARGIN, size[1] - 2 * MARGIN - 12 * mm)
    period = Period.ending(as_of, start)
    cal = compliance_calendar(store, as_of)
    quarters = _timeline_days(cal, as_of)
    # every run the pack reads, made at once in private copies: the date, the previous review, each quarter
    # end; meanwhile this process builds the views (those /viz built for the same dates are not built again,
    # and each caller gets its own copy to mark)
    days = [as_of, *([since] if since else []), *quarters]
    with ThreadPoolExecutor(1, thread_name_prefix="pack-findings") as pool:
        judged = pool.submit((saved if saved is not None else VALIDATED).on_days, store, days)
        graphs = {name: BUILT.get(store, name, as_of, period)
                  for name in ("structure", "control", "money", "governance")}
        runs = judged.result()
    report = required(runs, as_of)
    changes = changes_since(report, required(runs, since)) if since else None
    for graph in graphs.values():
        mark_findings(graph, report)
    analysis = analyse(graphs["money"], graphs["control"])
    structure = graphs["structure"]
    series_labels = {str(a["id"]): str(a.get("label", a["id"]))
                     for _, a in structure.nodes(data=True) if a.get("kind") == "series"}
    money, _ = group_series(graphs["money"], sub_advisers_of_series(structure), named=True)
    facts = _Facts(as_of, period, report, changes, cal, len(series_labels), analysis,
                   [(quarter_label(d), r.counts["violation"], r.counts["warning"]) for d in quarters
                    if (r := runs[d]) is not None],
                   [f for f in report.findings if f.focus.table == "agreements"],
                   frozenset(str(a["id"]) for _, a in structure.nodes(data=True) if a.get("kind") == "agreement"),
                   tuple(quarter_label(d) for d in quarters if runs[d] is None),
                   saved.describe() if saved is not None else None)
    matrix = governance_matrix(graphs["governance"])
    generated = date.today()
    sources = _sources(store)

    def story(pages: dict[str, int]) -> list[Flowable]:
        return (_summary(facts, pages, frame) + _status(facts, series_labels, frame)
                + _money(facts, money, frame) + _timeline(facts, frame) + _control(facts, graphs["control"], frame)
                + _governance(matrix, frame) + _structure(structure, frame) + _calendar(cal, frame)
                + _findings(report, frame) + _about(facts, generated, sources, frame))

    def document(target: object) -> _Doc:
        return _Doc(target, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                    bottomMargin=MARGIN + 4 * mm, title=f"BEP board pack as of {as_of}", author="bepgraph")

    footer = _footer(size, as_of)
    first = document(io.BytesIO())
    first.build(story({}), onFirstPage=footer, onLaterPages=footer)
    pdf = io.BytesIO()
    doc = document(pdf)
    doc.build(story(first.pages), onFirstPage=footer, onLaterPages=footer)
    if doc.pages != first.pages:
        raise BepgraphError("the board pack's sections moved between its two passes; its page references "
                            "would be wrong")
    _write_whole(out, pdf.getvalue())
    return PackSummary(out, doc.page, len(report.findings),
                       {n: (g.number_of_nodes(), g.number_of_edges()) for n, g in graphs.items()}, dict(doc.pages),
                       list(facts.timeline), list(facts.timeline_missing))
