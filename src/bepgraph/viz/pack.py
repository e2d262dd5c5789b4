"""The board pack: one PDF a trustee reads on paper.

Cover; the findings summarised by rule with their citations; the four views
as vector figures (Graphviz SVG drawn into the PDF by svglib, so lines and
text stay sharp at any zoom); a money-flow chart; the analysis; the
compliance calendar; the findings table.

Why reportlab: it lays out text, tables that break across pages and charts
(``reportlab.graphics``) in one document model, and with svglib it places
Graphviz's SVG as vector drawings in the same flow, so no second PDF tool is
needed to stitch pages together.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                TableStyle)
from svglib.svglib import svg2rlg
from xml.sax.saxutils import escape

import networkx as nx

from ..errors import BepgraphError
from ..store import Store
from ..validation.findings import Finding, Report
from .analysis import Analysis, analyse
from .calendar import Calendar, compliance_calendar
from .figures import render_svg
from .marks import findings_as_of, mark_findings
from .views import VIEWS, Period, build_view

__all__ = ["PackSummary", "build_pack"]

PAGE = A4
MARGIN = 15 * mm
FRAME_W = PAGE[0] - 2 * MARGIN
FRAME_H = PAGE[1] - 2 * MARGIN - 30 * mm  # room for the heading above a figure
_STYLES = getSampleStyleSheet()
_SMALL = ParagraphStyle("small", parent=_STYLES["BodyText"], fontSize=7.5, leading=9)
_GRID = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c0c6cc")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


@dataclass(frozen=True)
class PackSummary:
    """What went into a pack: for the command's report and the tests."""

    path: Path
    pages: int
    findings: int
    views: dict[str, tuple[int, int]]  # view -> (nodes, edges)


def _p(text: str, style: ParagraphStyle = _SMALL) -> Paragraph:
    return Paragraph(escape(text), style)


def _fit(drawing: Drawing, width: float = FRAME_W, height: float = FRAME_H) -> Drawing:
    scale = min(width / drawing.width, height / drawing.height, 1.0)
    drawing.scale(scale, scale)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    return drawing


def _cover(as_of: date, period: Period, report: Report) -> list[object]:
    c = report.counts
    return [
        Spacer(1, 50 * mm),
        _p("JNL Series Trust", _STYLES["Title"]),
        _p("Brokerage Enhancement Plan (Rule 12b-1) — board pack", _STYLES["Heading2"]),
        Spacer(1, 10 * mm),
        _p(f"As of {as_of.isoformat()}; money flow and votes from {period.start} to {period.end}.", _STYLES["BodyText"]),
        _p(f"Findings: {c['violation']} violations, {c['warning']} warnings, {c['info']} for information. "
           f"The plan {'conforms' if report.conforms else 'does not conform'} as of this date.", _STYLES["BodyText"]),
        Spacer(1, 10 * mm),
        _p(f"Prepared by bepgraph on {date.today().isoformat()} from the plan filing and the facts bundle loaded.",
           _SMALL),
        PageBreak(),
    ]


def _by_rule(report: Report) -> list[object]:
    rows: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        rows[f.rule].append(f)
    data = [["rule", "severity", "findings", "citation", "for example"]]
    for rule in sorted(rows):
        first = sorted(rows[rule], key=Finding.sort_key)[0]
        data.append([rule, first.severity, str(len(rows[rule])), _p("; ".join(first.citation)), _p(first.message)])
    if len(data) == 1:
        data.append(["—", "", "0", "", _p("No rule is broken as of this date.")])
    return [_p("Findings by rule", _STYLES["Heading1"]),
            Table(data, colWidths=[18 * mm, 17 * mm, 14 * mm, 40 * mm, FRAME_W - 89 * mm], style=_GRID, repeatRows=1),
            PageBreak()]


def _view_page(graph: nx.MultiDiGraph) -> list[object]:
    drawing = svg2rlg(io.BytesIO(render_svg(graph)))
    if drawing is None:
        raise BepgraphError(f"the {graph.graph['view']} figure could not be read back from Graphviz's SVG")
    marked = sum(1 for _, a in graph.nodes(data=True) if a.get("findings"))
    return [_p(str(graph.graph["title"]), _STYLES["Heading1"]),
            _p(f"As of {graph.graph['as_of']} (period {graph.graph['start']} to {graph.graph['end']}): "
               f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges; {marked} nodes carry findings "
               f"(ringed red for a violation, amber for a warning; diamonds are interested trustees)."),
            Spacer(1, 3 * mm), _fit(drawing), PageBreak()]


def _bar_chart(title: str, rows: list[tuple[str, float]]) -> Drawing:
    rows = rows[:15] or [("none in the period", 0.0)]
    height = 40 + 16 * len(rows)
    d = Drawing(FRAME_W, height)
    d.add(String(0, height - 12, title, fontName="Helvetica-Bold", fontSize=9))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 150, 10, FRAME_W - 170, height - 35
    chart.data = [[v for _, v in reversed(rows)]]
    chart.categoryAxis.categoryNames = [label[:38] for label, _ in reversed(rows)]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#54aeff")
    d.add(chart)
    return d


def _money_page(money: nx.MultiDiGraph, analysis: Analysis) -> list[object]:
    spent: Counter[str] = Counter()
    for _, category, a in money.edges(data=True):
        if a.get("relation") == "spent":
            spent[str(money.nodes[category].get("label", category))] += float(a["amount"])
    c = analysis.concentration
    out: list[object] = [
        _p("Money flow", _STYLES["Heading1"]),
        _p(f"Directed commissions from {money.graph['start']} to {money.graph['end']}: {c.total:,.2f} "
           f"across {len(c.brokers)} brokers; Herfindahl-Hirschman index {c.hhi:,.0f} (of 10,000)."),
        _bar_chart("Directed commissions by broker", [(b.label, float(b.commission)) for b in c.brokers]),
        Spacer(1, 4 * mm),
        _bar_chart("Spent by plan ¶2 category", spent.most_common()),
        Spacer(1, 4 * mm),
        _p("Affiliation paths", _STYLES["Heading2"]),
    ]
    paths = [["broker", "affiliated with", "path", "rests on"]] + [
        [_p(p.label), _p(p.principal_label), _p(" → ".join(p.path) + f" ({', '.join(p.relations)})"),
         _p(", ".join(p.rests_on))] for p in analysis.paths]
    out.append(Table(paths, colWidths=[35 * mm, 35 * mm, FRAME_W - 100 * mm, 30 * mm], style=_GRID, repeatRows=1))
    out += [Spacer(1, 4 * mm), _p("Series most exposed to affiliated brokerage", _STYLES["Heading2"])]
    rows = [["series", "directed commissions", "to affiliated brokers", "share"]] + [
        [_p(e.label), f"{e.directed:,.2f}", f"{e.affiliated:,.2f}", f"{100 * e.share:.1f}%"]
        for e in analysis.exposure[:15]]
    out += [Table(rows, colWidths=[FRAME_W - 90 * mm, 32 * mm, 32 * mm, 26 * mm], style=_GRID, repeatRows=1),
            PageBreak()]
    return out


def _calendar_page(cal: Calendar) -> list[object]:
    cont = [["series", "in effect from", "status"]] + [
        [_p(c.label), c.in_effect_from.isoformat(), c.status] for c in cal.continuances]
    reps = [["quarter", "due by", "report", "delivered"]] + [
        [r.quarter, r.deadline.isoformat(), r.report or "MISSING", r.delivered.isoformat() if r.delivered else "—"]
        for r in cal.reports]
    missing = ", ".join(r.quarter for r in cal.missing) or "none"
    return [_p("Compliance calendar", _STYLES["Heading1"]),
            _p(f"Quarterly reports judged as of {cal.as_of} (a quarter is judged once its 90 days have passed); "
               f"missing: {missing}.", _STYLES["BodyText"]),
            Table(reps, colWidths=[25 * mm, 30 * mm, 50 * mm, 30 * mm], style=_GRID, repeatRows=1),
            Spacer(1, 5 * mm),
            _p("Continuances: the plan in effect for each series and the anniversary by which the next "
               "continuance is due", _STYLES["Heading2"]),
            Table(cont, colWidths=[FRAME_W - 75 * mm, 30 * mm, 45 * mm], style=_GRID, repeatRows=1),
            PageBreak()]


def _findings_table(report: Report) -> list[object]:
    rows = [["rule", "severity", "focus", "message", "citation"]] + [
        [f.rule, f.severity, _p(f"{f.focus.table}/{f.focus.id}"), _p(f.message), _p("; ".join(f.citation))]
        for f in sorted(report.findings, key=Finding.sort_key)]
    return [_p("Findings", _STYLES["Heading1"]),
            Table(rows, colWidths=[16 * mm, 15 * mm, 35 * mm, FRAME_W - 106 * mm, 40 * mm], style=_GRID,
                  repeatRows=1)]


def _footer(canvas, doc) -> None:  # type: ignore[no-untyped-def]
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawString(MARGIN, 8 * mm, "JNL Series Trust — Brokerage Enhancement Plan — board pack")
    canvas.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"page {doc.page}")
    canvas.restoreState()


def build_pack(store: Store, as_of: date, out: Path, start: date | None = None) -> PackSummary:
    """Write the board pack for *as_of* (money flow and votes from *start*, default a year before) to *out*."""
    period = Period.ending(as_of, start)
    report = findings_as_of(store, as_of)
    graphs = {name: build_view(store, name, as_of, period) for name in VIEWS}
    for graph in graphs.values():
        mark_findings(graph, report)
    analysis = analyse(graphs["money"], graphs["control"])
    story: list[object] = _cover(as_of, period, report) + _by_rule(report)
    for graph in graphs.values():
        story += _view_page(graph)
    story += _money_page(graphs["money"], analysis)
    story += _calendar_page(compliance_calendar(store, as_of))
    story += _findings_table(report)
    doc = SimpleDocTemplate(str(out), pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=f"BEP board pack as of {as_of}", author="bepgraph")
    try:
        doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    except OSError as exc:
        raise BepgraphError(f"could not write the board pack to {out}: {exc}") from exc
    return PackSummary(out, doc.page, len(report.findings),
                       {n: (g.number_of_nodes(), g.number_of_edges()) for n, g in graphs.items()})
