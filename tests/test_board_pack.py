"""The board pack: built by the command, rendered to PNG by poppler's ``pdftoppm``, its pages checked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bepgraph.cli import main

AS_OF = "2004-12-31"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "pack.pdf"
    assert main(["board-pack", "--as-of", AS_OF, "--from", "2004-01-01", "-o", str(out)]) == 0
    return out


def pdf_text(path: Path) -> list[str]:
    """The text of each page (pdftotext, from poppler-utils)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def test_the_pack_renders_to_png_page_by_page(pack: Path, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm"), "poppler-utils is needed (.ci/run installs it)"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pack), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(pdf_text(pack)) >= 9
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 3000 for p in pages)


def test_the_pack_has_cover_findings_by_rule_four_views_money_calendar_and_table(pack: Path) -> None:
    pages = pdf_text(pack)
    assert "board pack" in pages[0] and f"As of {AS_OF}" in pages[0]
    text = "\n".join(pages)
    first_view = next(i for i, p in enumerate(pages) if "Structure:" in p)
    summary = "\n".join(pages[1:first_view])
    assert "Findings by rule" in pages[1] and "BEP-7.3" in summary and "Plan ¶7" in summary
    for title in ("Structure:", "Control and affiliation", "Money flow of directed brokerage", "Governance:"):
        assert sum(title in p for p in pages) >= 1, title
    assert "Herfindahl-Hirschman" in text and "Directed commissions by broker" in text
    calendar = next(p for p in pages if "Compliance calendar" in p)
    assert "2003Q3" in calendar and "MISSING" in calendar
    table = next(i for i, p in enumerate(pages) if p.lstrip().startswith("Findings\n"))
    assert table > first_view and "db-granite" in "\n".join(pages[table:])


def test_the_figures_are_vector_drawings(pack: Path) -> None:
    # pdfimages lists raster images: a vector pack has none
    listing = subprocess.run(["pdfimages", "-list", str(pack)], check=True, capture_output=True, text=True).stdout
    assert len(listing.strip().splitlines()) == 2  # the header lines only
    structure = next(p for p in pdf_text(pack) if "Structure:" in p)
    assert "JNL Series Trust" in structure  # node labels are text in the PDF, not pixels


def test_bad_dates_exit_2_with_a_located_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["board-pack", "--as-of", "2004-13-01", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "--as-of '2004-13-01' is not a date" in capsys.readouterr().err
    assert main(["board-pack", "--as-of", "2004-06-30", "--from", "2004-07-01", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "after it ends" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
