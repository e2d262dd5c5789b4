"""The filing reader on the real EDGAR text, and on copies damaged the ways a filing can be."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bepgraph.cli import main
from bepgraph.errors import FilingError
from bepgraph.resources import filing_path
from bepgraph.sources.filing import Filing, read_filing, slug

SUB_ADVISERS = [
    "alger", "alliance-capital", "aim", "eagle", "j-p-morgan", "janus", "oppenheimer", "pimco",
    "putnam", "lazard", "mellon-capital-management", "ppm-america", "salomon-brothers", "t-rowe-price",
]


def test_schedule_a_lists_38_series_in_filing_order(filing: Filing) -> None:
    assert len(filing.series) == 38
    assert [s.position for s in filing.series] == list(range(1, 39))
    assert filing.series[0].name == "Alger/JNL Growth Fund"
    assert filing.series[-1].id == "t-rowe-price-jnl-value-fund"


def test_sub_adviser_ids_are_slugs_of_the_part_before_jnl(filing: Filing) -> None:
    assert [p.id for p in filing.sub_advisers] == SUB_ADVISERS
    by_id = {s.id: s for s in filing.series}
    assert by_id["ppm-america-jnl-value-fund"].sub_adviser.id == "ppm-america"
    assert by_id["mellon-capital-management-jnl-bond-index-fund"].sub_adviser.name == "Mellon Capital Management"
    assert sum(1 for s in filing.series if s.sub_adviser.id == "mellon-capital-management") == 5


def test_series_id_follows_the_bundle_contract_example(filing: Filing) -> None:
    # facts-bundle.md: J.P. Morgan/JNL Enhanced S&P 500 Stock Index Fund
    expected = "j-p-morgan-jnl-enhanced-s-p-500-stock-index-fund"
    assert slug("J.P. Morgan/JNL Enhanced S&P 500 Stock Index Fund") == expected
    series = next(s for s in filing.series if s.id == expected)
    assert series.name == "J.P. Morgan/JNL Enhanced S&P 500 Stock Index Fund"
    assert series.sub_adviser.id == "j-p-morgan"


def test_eleven_paragraphs_with_paragraph_one_joined_across_the_page_break(filing: Filing) -> None:
    assert sorted(filing.paragraphs) == list(range(1, 12))
    first = filing.paragraphs[1]
    assert "enter into agreements or arrangements pursuant to which the Trust may direct" in first
    assert "<PAGE>" not in first and "\n" not in first
    assert first.endswith("as amended from time to time.")
    assert filing.paragraphs[11].endswith("for each Series affected by the matter.")
    assert "Date:" not in filing.paragraphs[11]


def test_plan_date_and_parties_come_from_the_text(filing: Filing) -> None:
    assert filing.plan_date == date(2002, 5, 16)
    assert filing.title == "JNL Series Trust Brokerage Enhancement Plan"
    assert (filing.trust.id, filing.trust.name) == ("trust", "JNL Series Trust")
    assert (filing.adviser.id, filing.adviser.name) == ("jnam", "Jackson National Asset Management, LLC")
    assert (filing.distributor.id, filing.distributor.name) == (
        "distributor", "Jackson National Life Distributors, Inc.")


def _damaged(tmp_path: Path, old: str, new: str) -> Path:
    text = filing_path().read_text(encoding="utf-8")
    assert old in text, "the damage must apply to the real filing"
    path = tmp_path / "damaged.txt"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _without_schedule_a(text: str) -> str:
    return text[: text.index("SCHEDULE A")]


@pytest.fixture(params=["no-schedule-a", "no-date-line", "line-without-jnl"])
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the filing with one thing broken, and the words its error must contain."""
    text = filing_path().read_text(encoding="utf-8")
    path = tmp_path / "damaged.txt"
    if request.param == "no-schedule-a":
        path.write_text(_without_schedule_a(text), encoding="utf-8")
        return path, "SCHEDULE A"
    if request.param == "no-date-line":
        return _damaged(tmp_path, "Date: May 16, 2002", ""), "'Date:'"
    return _damaged(tmp_path, "PIMCO/JNL Total Return Bond Fund", "PIMCO Total Return Bond Fund"), \
        "'PIMCO Total Return Bond Fund'"


def test_damaged_filing_names_what_is_missing(damaged: tuple[Path, str]) -> None:
    path, missing = damaged
    with pytest.raises(FilingError) as caught:
        read_filing(path)
    assert missing in str(caught.value)
    assert str(path) in str(caught.value)


def test_cli_rejects_a_damaged_filing_with_exit_2_and_the_message(
    damaged: tuple[Path, str], mini_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", str(mini_bundle), "--plan", str(damaged[0])]) == 2
    err = capsys.readouterr().err
    assert damaged[1] in err
    assert "Traceback" not in err


def test_missing_filing_file_is_a_filing_error(tmp_path: Path) -> None:
    with pytest.raises(FilingError, match="cannot read the plan filing"):
        read_filing(tmp_path / "nowhere.txt")
