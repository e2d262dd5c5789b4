"""``/viz``: the board's interactive graph page, its JSON and its browser files.

The page (``web/viz/``) draws with Cytoscape.js and the dagre layered
layout, installed from npm and served from this process: no CDN is reached.
``/viz/data`` is what the page draws; its parameters are validated here and
bound into the view queries, never written into them. Its findings, and
``/viz/quarters``'s, come from the process's one source (``app.state.findings``,
validation/findings_source.py): with ``serve --findings-file`` they are the
files' findings, a date no file covers is refused, and nothing is validated.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from ..errors import ParameterError
from ..resources import web_dir
from ..store import Store
from ..validation.cache import answers
from ..validation.findings_source import FindingsSource
from ..viz.board_page import BUILT, board_data
from ..viz.dates import LatestFact, quarter_label
from ..viz.pack_saved import missing_quarters
from ..viz.timeline import QuarterCounts, plan_date
from ..viz.views import VIEWS, Period

__all__ = ["router"]

router = APIRouter()
_LATEST = LatestFact()
_QUARTERS = QuarterCounts()

# the only files served: the page's own, and the npm builds the Makefile copies to web/viz/vendor/
FILES = {
    "viz.js": "text/javascript",
    "viz.css": "text/css",
    "cytoscape.min.js": "text/javascript",
    "cytoscape-dagre.js": "text/javascript",
    "cytoscape-svg.js": "text/javascript",
    "d3-array.min.js": "text/javascript",
    "d3-path.min.js": "text/javascript",
    "d3-shape.min.js": "text/javascript",
    "d3-sankey.min.js": "text/javascript",
}


def _page_dir() -> Path:
    return web_dir() / "viz"


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _findings(request: Request) -> FindingsSource:
    source: FindingsSource = request.app.state.findings
    return source


def _day(name: str, raw: str | None) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ParameterError(f"parameter {name}: '{raw}' is not a date (YYYY-MM-DD)") from None


@router.get("/viz", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    return HTMLResponse((_page_dir() / "index.html").read_text(encoding="utf-8"))


@router.get("/viz/static/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    path = _page_dir() / name if name in ("viz.js", "viz.css") else _page_dir() / "vendor" / name
    if name not in FILES or not path.is_file():
        raise HTTPException(404, f"no /viz file '{name}' (run `make install` to fetch Cytoscape.js from npm)")
    return FileResponse(path, media_type=FILES[name])


_DATA_PARAMETERS = {"view", "asOf", "from", "to", "expand", "findings", "analysis"}


@router.get("/viz/data")
def data(
    request: Request,
    store: Annotated[Store, Depends(_store)],
    source: Annotated[FindingsSource, Depends(_findings)],
    view: Annotated[str, Query(description=f"one of {', '.join(VIEWS)}")] = "structure",
    as_of: Annotated[str | None, Query(alias="asOf",
                                       description="YYYY-MM-DD; default the latest day the loaded facts are dated")] = None,
    start: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD; default a year before `to`")] = None,
    end: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD; default the as-of date")] = None,
    expand: Annotated[str, Query(description="sub-advisers whose series are drawn one by one, comma-separated, "
                                             "or `all`")] = "",
    findings: bool = True,
    analysis: bool = True,
) -> dict[str, object]:
    """A board view as Cytoscape.js elements (with its matrix or Sankey), the findings as of the date and the analysis."""
    unknown = sorted(set(request.query_params) - _DATA_PARAMETERS)
    if unknown:  # a filter the door does not take (series=…) would otherwise be ignored silently
        raise ParameterError(f"parameter {unknown[0]}: /viz/data takes no such parameter "
                             f"(it takes: {', '.join(sorted(_DATA_PARAMETERS))})")
    if view not in VIEWS:
        raise ParameterError(f"parameter view: '{view}' is not a view (views: {', '.join(VIEWS)})")
    latest = _LATEST.get(store)
    day = _day("asOf", as_of) or latest or date.today()
    period = Period.ending(day, _day("from", start), _day("to", end))
    wanted = frozenset(e for e in (part.strip() for part in expand.split(",")) if e)

    def build() -> dict[str, object]:
        report = source.report(store, day) if findings else None  # with findings files: refused if none covers day
        body = board_data(store, view, day, period, report, sorted(wanted), with_analysis=analysis, views=BUILT)
        body["latestFact"] = latest.isoformat() if latest else None
        return body

    if findings:
        source.vouch(store)  # an answer kept from before is handed out only while the source speaks for the store
    # the whole answer in the process's one cache, per loaded facts and question: a date already
    # validated is then a lookup, whatever the size of the blotter (the dict is shared: never changed);
    # the key names the findings' source, so an answer another source made is never handed out
    return answers().get(store, ("viz-data", source.key if findings else None, view, day, period.start,
                                 period.end, wanted, findings, analysis), build)


@router.get("/viz/quarters")
def quarters(
    store: Annotated[Store, Depends(_store)],
    source: Annotated[FindingsSource, Depends(_findings)],
    until: Annotated[str | None, Query(description="YYYY-MM-DD; default the latest dated fact")] = None,
) -> dict[str, object]:
    """The findings standing at each quarter end of the plan's life: the page's date slider. With findings
    files, only the quarter ends a file covers, and the others named (``missing``) with the command that
    makes their files, as the board pack does."""
    day = _day("until", until) or _LATEST.get(store) or date.today()
    adopted = plan_date(store)
    source.vouch(store)
    counted, missing = _QUARTERS.get(store, day, source)
    body: dict[str, object] = {"planDate": adopted.isoformat() if adopted else None, "until": day.isoformat(),
                               "quarters": counted}
    if missing:
        body["missing"] = [d.isoformat() for d in missing]
        body["note"] = missing_quarters(tuple(quarter_label(d) for d in missing), "this service")
    return body
