"""The example bundle generator: deterministic, complete, and in step with the committed example."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bepgraph.examples.generate import generate
from bepgraph.examples.schedule import read_schedule_a
from bepgraph.resources import example_bundle, filing_path
from bepgraph.sources.tables import TABLE_ORDER, TABLES

SRC = Path(__file__).resolve().parents[1] / "src"
FOCUS_ROW = re.compile(r"^\| (BEP-[0-9A-Z.]+) \| ([a-z_]+)/([^ |]+) \|")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with open(folder / f"{table}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def committed() -> Path:
    return example_bundle()


@pytest.fixture(scope="module")
def schedule_ids() -> list[str]:
    return [s.id for s in read_schedule_a(filing_path())]


def test_the_same_seed_writes_byte_identical_bundles(tmp_path: Path) -> None:
    generate(tmp_path / "a", trades=3000, seed=11)
    generate(tmp_path / "b", trades=3000, seed=11)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_another_seed_changes_the_blotter_but_not_the_governance_facts(tmp_path: Path) -> None:
    generate(tmp_path / "a", trades=3000, seed=11)
    generate(tmp_path / "b", trades=3000, seed=12)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a["transactions.csv"] != b["transactions.csv"]
    assert a["matters.csv"] == b["matters.csv"] and a["ballots.csv"] == b["ballots.csv"]


def test_the_committed_example_equals_a_fresh_default_generation(tmp_path: Path, committed: Path) -> None:
    generate(tmp_path)
    assert _files(committed) == _files(tmp_path), "run `make example` and commit examples/jnl-2002-2005"


@pytest.mark.parametrize("table", TABLE_ORDER)
def test_every_csv_has_the_contract_header_and_no_empty_required_cell(committed: Path, table: str) -> None:
    with open(committed / f"{table}.csv", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    assert header == [c.name for c in TABLES[table].columns]
    assert rows, f"{table}.csv is empty"
    required = [i for i, c in enumerate(TABLES[table].columns) if c.required]
    for line, row in enumerate(rows, 2):
        assert len(row) == len(header), f"{table}.csv line {line}"
        assert all(row[i] for i in required), f"{table}.csv line {line} has an empty required cell"


def test_ids_are_unique_within_each_table(committed: Path) -> None:
    for table in TABLE_ORDER:
        t = TABLES[table]
        keys = [tuple(r[k] for k in t.key) for r in _rows(committed, table)]
        assert len(keys) == len(set(keys)), table


def test_series_and_sub_advisers_are_the_slugs_of_schedule_a(committed: Path, schedule_ids: list[str]) -> None:
    rows = _rows(committed, "series")
    assert len(schedule_ids) == 38
    assert [r["id"] for r in rows] == schedule_ids
    assert len({r["sub_adviser"] for r in rows}) == 14


def test_every_schedule_a_series_has_a_board_adoption_and_a_shareholder_vote(
        committed: Path, schedule_ids: list[str]) -> None:
    meetings = {m["id"]: m for m in _rows(committed, "meetings")}
    adopt = [m for m in _rows(committed, "matters") if m["action"] == "adopt"]
    by_board = {m["series"] for m in adopt if meetings[m["meeting"]]["body"] == "board"}
    adopt_ids = {m["id"] for m in adopt}
    voted = {v["series"] for v in _rows(committed, "shareholder_votes") if v["matter"] in adopt_ids}
    assert by_board == set(schedule_ids)
    assert voted == set(schedule_ids)


def test_money_has_two_decimal_places_and_directed_activity_stops_before_rule_12b1h(committed: Path) -> None:
    money = re.compile(r"^\d+\.\d\d$")
    for table, col in (("transactions", "commission"), ("benefits", "amount"), ("expenditures", "amount")):
        assert all(money.match(r[col]) for r in _rows(committed, table)), table
    directed = [t["date"] for t in _rows(committed, "transactions") if t["directed"] == "true"]
    assert directed and max(directed) < "2004-12-13"
    assert max(b["date"] for b in _rows(committed, "benefits")) < "2004-12-13"
    assert max(e["date"] for e in _rows(committed, "expenditures")) < "2004-12-13"


def test_the_command_writes_the_requested_number_of_transactions(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "bepgraph.examples.generate", "--out", str(tmp_path),
         "--trades", "5000"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(_rows(tmp_path, "transactions")) == 5000


def test_too_few_trades_for_the_fixed_scenarios_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path, trades=3)


def test_every_breach_and_warning_in_the_readme_names_an_entity_of_the_bundle(committed: Path) -> None:
    readme = (committed / "README.md").read_text(encoding="utf-8")
    found = [m.groups() for line in readme.splitlines() if (m := FOCUS_ROW.match(line))]
    breaches = readme.split("## Deliberate breaches", 1)[1].split("## Expected warnings", 1)[0]
    rules = {m.group(1) for line in breaches.splitlines() if (m := FOCUS_ROW.match(line))}
    assert 8 <= len(rules) <= 14
    ids = {t: {r["id"] for r in _rows(committed, t)} for t in TABLE_ORDER if "id" in TABLES[t].key}
    for rule, table, ident in found:
        if table == "plan":
            assert ident == "plan", rule
        else:
            assert ident in ids[table], f"{rule}: {table}/{ident} is not in {table}.csv"


def test_the_readme_row_counts_match_the_csvs(committed: Path) -> None:
    readme = (committed / "README.md").read_text(encoding="utf-8")
    for table in TABLE_ORDER:
        m = re.search(rf"^\| {table} \| (\d+) \|$", readme, re.M)
        assert m, table
        assert int(m.group(1)) == len(_rows(committed, table)), table
