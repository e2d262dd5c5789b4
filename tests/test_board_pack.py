"""The board pack: built by the command, read back with poppler (pdftotext, pdftohtml, pdftoppm, pdfinfo).

The summary's numbers are checked against `bepgraph validate --format json`
run apart, the changes since the previous review against two such runs, the
font sizes against what the PDF holds, every page against a floor of text
or ink.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from PIL import Image

from bepgraph.cli import main
from bepgraph.resources import example_bundle
from bepgraph.viz.pack import SECTIONS

AS_OF, SINCE, START = "2004-12-31", "2004-06-30", "2004-01-01"


def build(tmp: Path, *args: str) -> tuple[Path, int]:
    out, said = tmp / "pack.pdf", io.StringIO()
    with redirect_stdout(said):
        assert main(["board-pack", *args, "-o", str(out)]) == 0
    pages = int(re.search(r": (\d+) pages", said.getvalue()).group(1))  # type: ignore[union-attr]
    return out, pages


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    return build(tmp_path_factory.mktemp("pack"), "--as-of", AS_OF, "--from", START, "--since", SINCE)


@pytest.fixture(scope="module")
def letter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    return build(tmp_path_factory.mktemp("letter"), "--as-of", AS_OF, "--paper", "letter")


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    return build(tmp_path_factory.mktemp("early"), "--as-of", "2002-03-31")


def pdf_text(path: Path) -> list[str]:
    """The text of each page (pdftotext, from poppler-utils)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def validate(day: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    main(["validate", "--as-of", day, "--format", "json"])
    return json.loads(capsys.readouterr().out)


def family(rule: str) -> str:
    return rule.split(".")[0]


def summary_rows(page: str) -> dict[str, list[int]]:
    """The rows of page 1's table: family -> its numbers (violations, warnings[, new, resolved, persisting])."""
    rows = {}
    for line in page.splitlines():
        m = re.match(r"\s*(BEP-\d+)\s+Plan ¶\d+\s+([\d\s]+)$", line)
        if m:
            rows[m.group(1)] = [int(n) for n in m.group(2).split()]
    return rows


def test_the_summary_counts_equal_validate_json(pack: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    page1 = pdf_text(pack[0])[0]
    report = validate(AS_OF, capsys)
    findings = report["findings"]  # type: ignore[index]
    counts = report["counts"]  # type: ignore[index]
    assert f"{counts['violation']} violations and {counts['warning']} warnings" in page1
    expected: dict[str, Counter[str]] = {}
    for f in findings:  # type: ignore[union-attr]
        expected.setdefault(family(f["rule"]), Counter())[f["severity"]] += 1
    rows = summary_rows(page1)
    assert {fam: nums[:2] for fam, nums in rows.items() if nums[0] or nums[1]} == {
        fam: [c["violation"], c["warning"]] for fam, c in expected.items()}


def test_the_changes_since_the_previous_review_are_the_difference_of_two_runs(
        pack: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    page1 = pdf_text(pack[0])[0]

    def keys(day: str) -> set[tuple[str, str, str]]:
        return {(f["rule"], f["focus"]["table"], f["focus"]["id"]) for f in validate(day, capsys)["findings"]}  # type: ignore[union-attr,index]

    now, before = keys(AS_OF), keys(SINCE)
    assert now != before  # the two reviews differ, so the comparison can fail
    new, resolved, persisting = now - before, before - now, now & before
    assert (f"Since the previous review ({SINCE}): {len(new)} new, {len(resolved)} resolved and "
            f"{len(persisting)} persisting findings") in page1
    rows = summary_rows(page1)
    for fam, nums in rows.items():
        assert nums[2:] == [sum(1 for k in group if family(k[0]) == fam) for group in (new, resolved, persisting)], fam


def test_page_one_says_whether_the_plan_is_in_effect_and_what_the_board_must_decide(pack: tuple[Path, int]) -> None:
    page1 = pdf_text(pack[0])[0]
    assert "Board pack as of 2004-12-31: executive summary" in page1
    assert "in effect for none of the 38 series" in page1  # every interval ended with the plan in December 2004
    decisions = page1[page1.index("Decisions before the board"):]
    assert "missing quarterly report for 2003Q3" in decisions
    # db-granite breaks BEP-7.3 but ended with the plan on 2004-12-01: nothing left to approve
    assert "agreement db-granite, no longer in force" in " ".join(decisions.split())
    assert re.search(r"\(page \d+", decisions) and "page ?" not in page1
    assert "conforms" not in page1


def test_the_contents_and_every_page_reference_point_at_the_right_page(pack: tuple[Path, int]) -> None:
    pages = pdf_text(pack[0])
    contents = pages[0][pages[0].index("Contents"):]
    listed = dict(re.findall(r"^\s*(\S.*?\S)\s{3,}(\d+)\s*$", contents, flags=re.M))
    assert set(listed) == {title for key, title in SECTIONS.items() if key not in ("summary", "contents")}
    for title, number in listed.items():
        assert re.search(rf"^\s*{re.escape(title)}\s*$", pages[int(number) - 1], flags=re.M), (title, number)


def test_page_count_and_no_blank_or_near_empty_page(pack: tuple[Path, int], tmp_path: Path) -> None:
    path, reported = pack
    assert shutil.which("pdftoppm"), "poppler-utils is needed (.ci/run installs it)"
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert count == reported == len(pdf_text(path))
    assert 6 <= count <= 12  # the summary, the sections and the findings table; read in ten minutes
    subprocess.run(["pdftoppm", "-r", "30", "-gray", "-png", str(path), str(tmp_path / "page")], check=True)
    shots = sorted(tmp_path.glob("page-*.png"))
    assert len(shots) == count
    for number, (shot, text) in enumerate(zip(shots, pdf_text(path)), start=1):
        with Image.open(shot) as image:
            pixels = image.convert("L").tobytes()
        ink = sum(1 for p in pixels if p < 200) / len(pixels)
        words = len(text.split())
        assert words >= 120 or ink >= 0.05, f"page {number}: {words} words, {ink:.1%} ink"


def test_no_text_in_the_pdf_is_smaller_than_8_pt(pack: tuple[Path, int], letter: tuple[Path, int]) -> None:
    for path, _ in (pack, letter):
        # pdftohtml reports each font size it meets after every scaling of the page, in points times the
        # zoom rounded to a whole number: at zoom 3, to a third of a point
        xml = subprocess.run(["pdftohtml", "-xml", "-i", "-zoom", "3", "-stdout", str(path)], check=True,
                             capture_output=True, text=True).stdout
        sizes = [int(s) / 3 for s in re.findall(r'<fontspec id="\d+" size="(-?\d+)"', xml)]
        assert sizes and min(sizes) >= 8.0, sorted(set(sizes))[:5]


def test_a4_and_us_letter(pack: tuple[Path, int], letter: tuple[Path, int]) -> None:
    def size(path: Path) -> str:
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        return re.search(r"Page size:\s+(.*)", info).group(1)  # type: ignore[union-attr]

    assert "595.276 x 841.89" in size(pack[0]) and "A4" in size(pack[0])
    assert "612 x 792" in size(letter[0]) and "letter" in size(letter[0])
    assert "Since the previous review" not in pdf_text(letter[0])[0]  # no --since: no changes claimed


def test_a_pack_before_the_plan_says_it_was_not_yet_adopted(early: tuple[Path, int]) -> None:
    pages = pdf_text(early[0])
    assert "the plan was not yet adopted (it was adopted on 2002-05-16)" in " ".join(pages[0].split())
    assert not any("conforms" in p for p in pages)


def test_the_sections_hold_the_heat_map_timeline_sankey_parties_and_matrix(pack: tuple[Path, int]) -> None:
    pages = pdf_text(pack[0])
    text = "\n".join(pages)
    status = next(p for p in pages if "Status of each series by rule family" in p and "One row per series" in p)
    with open(example_bundle() / "series.csv", newline="", encoding="utf-8") as f:
        names = [r["name"] for r in csv.DictReader(f)]
    assert len(names) == 38 and all(n[:24] in status for n in names)  # a long name may end in an ellipsis
    timeline = next(p for p in pages if "Violations and warnings standing at each quarter end" in p)
    assert all(q in timeline for q in ("2002Q2", "2003Q3", "2004Q4"))
    money = next(p for p in pages if "Money flow of directed brokerage" in p and "Herfindahl" in p)
    assert "plan ¶2 categories" in money and "Harbor Point" in money
    control = next(p for p in pages if "Control and affiliation: the parties that matter" in p and "Follow" in p)
    assert "National Planning" in control and "Dorothy R. Fenwick" in control
    governance = next(p for p in pages if "Governance: trustees and board meetings" in p and "Trustees (rows)" in p)
    assert "Helen K. Brandt" in governance and "interested" in governance
    calendar = next(p for p in pages if "Compliance calendar" in p and "Quarterly reports" in p)
    assert "2003Q3" in calendar and "MISSING" in calendar
    assert "db-granite" in text[text.rindex("Findings\n"):]


def test_the_figures_are_vector_drawings(pack: tuple[Path, int]) -> None:
    # pdfimages lists raster images: a vector pack has none
    listing = subprocess.run(["pdfimages", "-list", str(pack[0])], check=True, capture_output=True, text=True).stdout
    assert len(listing.strip().splitlines()) == 2  # the header lines only
    control = next(p for p in pdf_text(pack[0]) if "parties that matter" in p and "Follow" in p)
    assert "Jackson National Asset" in control  # node labels are text in the PDF, not pixels


def test_bad_dates_exit_2_with_a_located_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["board-pack", "--as-of", "2004-13-01", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "--as-of '2004-13-01' is not a date" in capsys.readouterr().err
    assert main(["board-pack", "--as-of", "2004-06-30", "--from", "2004-07-01", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "after it ends" in capsys.readouterr().err
    assert main(["board-pack", "--as-of", "2004-06-30", "--since", "2004-06-30", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "--since 2004-06-30 is not before --as-of 2004-06-30" in capsys.readouterr().err
    assert main(["board-pack", "--as-of", "2004-06-30", "--since", "06/30/2003", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "--since '06/30/2003' is not a date" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_a_pack_that_cannot_be_written_whole_leaves_the_previous_file_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A pack is moved into place whole: a failure while writing (a full disk, a process killed before the
    move) leaves no partial pack and no leftover beside it, and an earlier pack under the name untouched."""
    import os

    import bepgraph.viz.pack as pack_module

    out = tmp_path / "pack.pdf"
    out.write_bytes(b"the previous review's pack")

    def no_room(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pack_module.os, "replace", no_room)
    assert main(["board-pack", "--as-of", "2004-06-30", "-o", str(out)]) == 3
    assert "could not write the board pack" in capsys.readouterr().err
    assert out.read_bytes() == b"the previous review's pack"
    assert sorted(os.listdir(tmp_path)) == ["pack.pdf"]
