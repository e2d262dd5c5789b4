"""The pack's own figures, drawn with reportlab's graphics: the Sankey, the heat map, the findings timeline.

Why drawn here and not with matplotlib: the pack is one reportlab document;
reportlab's drawings stay vector, their text stays text (searchable, and its
size readable from the PDF, which the tests check), and no second plotting
stack is installed for three figures. Every figure comes with its legend
drawn in, and no text in it is smaller than :data:`MIN_PT`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Line, Path, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from .sankey import Sankey, SankeyNode

__all__ = ["MIN_PT", "heat_map_drawing", "sankey_drawing", "timeline_drawing"]

MIN_PT = 8.0
FONT = "Helvetica"
RED, AMBER, GREY = colors.HexColor("#cf222e"), colors.HexColor("#bf8700"), colors.HexColor("#8c959f")
_SHADE = {"series": "#2da44e", "broker": "#d1242f", "benefit-kind": "#bf8700", "recipient": "#8250df",
          "category": "#1a7f37"}


def _fit(text: str, width: float, size: float = MIN_PT) -> str:
    """*text* cut with an ellipsis to fit *width* points."""
    if stringWidth(text, FONT, size) <= width:
        return text
    while text and stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _lines(text: str, width: float, most: int = 3, size: float = MIN_PT) -> list[str]:
    """*text* in at most *most* lines of *width* points, the last cut with an ellipsis only if it must be."""
    words, lines, line = text.split(), [], ""
    for i, word in enumerate(words):
        trial = f"{line} {word}".strip()
        if line and stringWidth(trial, FONT, size) > width:
            lines.append(line)
            if len(lines) == most - 1:
                return lines + [_fit(" ".join(words[i:]), width, size)]
            line = word
        else:
            line = trial
    return lines + [line] if line else lines


def _legend(d: Drawing, x: float, y: float, items: Sequence[tuple[str, colors.Color]]) -> None:
    for label, colour in items:
        d.add(Rect(x, y - 1, 9, 8, fillColor=colour, strokeColor=colors.black, strokeWidth=0.3))
        d.add(String(x + 12, y, label, fontName=FONT, fontSize=MIN_PT))
        x += 24 + stringWidth(label, FONT, MIN_PT)


def sankey_drawing(data: Sankey, width: float, height: float) -> Drawing:
    """The money flow of :func:`bepgraph.viz.sankey.sankey` as bands between five columns, amounts on the nodes."""
    nodes, links, columns = data["nodes"], data["links"], data["columns"]
    d = Drawing(width, height)
    top, bottom, line = height - 34, 22, MIN_PT + 1.5
    node_w = 8.0
    label_room = (width - 5 * node_w) / 5 - 6
    names = {n["id"]: _lines(n["label"], label_room) for n in nodes}
    by_column: dict[int, list[SankeyNode]] = {i: [] for i in range(len(columns))}
    for n in nodes:
        by_column[n["column"]].append(n)
    for members in by_column.values():
        members.sort(key=lambda n: -n["value"])
    usable = top - bottom - 4
    # each column's nodes as far apart as its longest name (up to three lines) and an amount need
    pads = {col: (max((len(names[n["id"]]) for n in m), default=1) + 1) * line + 2
            for col, m in by_column.items()}
    ky = min(((usable - (len(m) - 1) * pads[col]) / sum(n["value"] for n in m)
              for col, m in by_column.items() if m), default=1.0)
    ky = max(ky, 0.0)
    pos: dict[str, tuple[float, float, float]] = {}  # id -> x, y top, height
    for col, members in by_column.items():
        x = col * (node_w + label_room + 6)
        d.add(String(x, height - 8, _fit(columns[col], label_room), fontName="Helvetica-Bold", fontSize=MIN_PT))
        y = top
        for n in members:
            h = max(n["value"] * ky, 0.8)
            pos[n["id"]] = (x, y, h)
            y -= h + pads[col]
    out_at = {k: v[1] for k, v in pos.items()}
    in_at = dict(out_at)
    for link in sorted(links, key=lambda l: (pos[l["source"]][1] * -1, pos[l["target"]][1] * -1)):
        s, t = link["source"], link["target"]
        thick = link["value"] * ky
        sx, tx = pos[s][0] + node_w, pos[t][0]
        sy, ty = out_at[s], in_at[t]
        out_at[s] -= thick
        in_at[t] -= thick
        kind = next((str(n["kind"]) for n in nodes if n["id"] == s), "other")
        base = colors.HexColor(_SHADE.get(kind, "#8c959f"))
        band = Path(fillColor=colors.Color(base.red, base.green, base.blue, alpha=0.35), strokeColor=None)
        mid = (sx + tx) / 2
        band.moveTo(sx, sy)
        band.curveTo(mid, sy, mid, ty, tx, ty)
        band.lineTo(tx, ty - thick)
        band.curveTo(mid, ty - thick, mid, sy - thick, sx, sy - thick)
        band.closePath()
        d.add(band)
    for n in nodes:
        x, y, h = pos[n["id"]]
        severity = n["severity"]
        d.add(Rect(x, y - h, node_w, h, fillColor=colors.HexColor(_SHADE.get(str(n["kind"]), "#8c959f")),
                   strokeColor=RED if severity == "violation" else AMBER if severity == "warning" else colors.black,
                   strokeWidth=1.5 if severity else 0.3))
        lines = names[n["id"]] + [f"{n['value']:,.0f}"]
        mid_y = y - h / 2 + (len(lines) * line) / 2 - MIN_PT
        for i, text in enumerate(lines):
            d.add(String(x + node_w + 3, mid_y - i * line, text, fontName=FONT, fontSize=MIN_PT,
                         fillColor=colors.black if i < len(lines) - 1 else colors.HexColor("#57606a")))
    _legend(d, 0, 4, [("series (by sub-adviser)", colors.HexColor(_SHADE["series"])),
                      ("broker", colors.HexColor(_SHADE["broker"])),
                      ("payments / credits", colors.HexColor(_SHADE["benefit-kind"])),
                      ("recipient", colors.HexColor(_SHADE["recipient"])),
                      ("plan ¶2 category", colors.HexColor(_SHADE["category"]))])
    return d


def _cell_colour(counts: Counter[str]) -> colors.Color:
    if counts.get("violation"):
        return colors.HexColor("#ffcecb") if counts["violation"] == 1 else colors.HexColor("#ff8182")
    if counts.get("warning"):
        return colors.HexColor("#fff1b8")
    return colors.white


def heat_map_drawing(rows: list[str], columns: list[str], cells: dict[tuple[str, str], Counter[str]],
                     width: float) -> Drawing:
    """Series × rule family: the count of findings in each cell, coloured by the worst severity."""
    row_h, head_h, label_w = MIN_PT + 3.5, 14.0, min(230.0, width * 0.42)
    cell_w = min(48.0, (width - label_w) / max(len(columns), 1))
    height = head_h + row_h * len(rows) + 20
    d = Drawing(width, height)
    y = height - head_h
    for j, col in enumerate(columns):
        d.add(String(label_w + j * cell_w + cell_w / 2, y + 4, col, fontName="Helvetica-Bold", fontSize=MIN_PT,
                     textAnchor="middle"))
    for i, row in enumerate(rows):
        top = y - (i + 1) * row_h
        d.add(String(0, top + 3, _fit(row, label_w - 4), fontName=FONT, fontSize=MIN_PT))
        for j, col in enumerate(columns):
            counts = cells.get((row, col), Counter())
            x = label_w + j * cell_w
            d.add(Rect(x, top, cell_w, row_h, fillColor=_cell_colour(counts), strokeColor=colors.HexColor("#d0d7de"),
                       strokeWidth=0.3))
            total = sum(counts.values())
            if total:
                d.add(String(x + cell_w / 2, top + 3, str(total), fontName=FONT, fontSize=MIN_PT, textAnchor="middle"))
    _legend(d, 0, 4, [("one violation", colors.HexColor("#ffcecb")), ("two or more violations", colors.HexColor("#ff8182")),
                      ("warnings only", colors.HexColor("#fff1b8")), ("no finding", colors.white)])
    return d


def timeline_drawing(points: list[tuple[str, int, int]], width: float, height: float = 190.0) -> Drawing:
    """Violations and warnings standing at each quarter end, as stacked bars."""
    d = Drawing(width, height)
    left, bottom, top = 30.0, 40.0, height - 10
    most = max((v + w for _, v, w in points), default=0) or 1
    step = (width - left) / max(len(points), 1)
    bar = min(28.0, step * 0.7)
    scale = (top - bottom) / most
    for k in range(0, most + 1, max(1, most // 5)):
        y = bottom + k * scale
        d.add(Line(left - 3, y, width, y, strokeColor=colors.HexColor("#eaeef2"), strokeWidth=0.4))
        d.add(String(left - 5, y - 3, str(k), fontName=FONT, fontSize=MIN_PT, textAnchor="end"))
    every = max(1, int(-(-34 // step)))  # label every n-th quarter so labels never touch
    for i, (label, violations, warnings) in enumerate(points):
        x = left + i * step + (step - bar) / 2
        d.add(Rect(x, bottom, bar, violations * scale, fillColor=RED, strokeColor=None))
        d.add(Rect(x, bottom + violations * scale, bar, warnings * scale, fillColor=AMBER, strokeColor=None))
        if violations + warnings:
            d.add(String(x + bar / 2, bottom + (violations + warnings) * scale + 2, str(violations + warnings),
                         fontName=FONT, fontSize=MIN_PT, textAnchor="middle"))
        if i % every == 0:
            d.add(String(x + bar / 2, bottom - 11, label, fontName=FONT, fontSize=MIN_PT, textAnchor="middle"))
    _legend(d, left, 6, [("violations", RED), ("warnings", AMBER)])
    return d
