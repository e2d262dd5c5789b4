"""`validate --partition`: the merged findings are byte-identical to the unpartitioned run's, and bad input is refused alike.

The cross-partition bundle holds every case where a rule reads rows of
another partition: an expenditure funded by benefits of two series (and so
of two years), a credit that inures only to another series, a trade on a
year boundary whose benefit and expenditures fall in the next year, and a
series-level aggregate (BEP-4.2 names the series' first directed activity,
which other partitions see only later rows of).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from bepgraph.cli import main
from bepgraph.errors import ParameterError
from bepgraph.partition.runner import validate_partitioned
from bepgraph.partition.saved import read_findings_file, write_findings_file
from bepgraph.partition.work import run_tasks
from bepgraph.resources import example_bundle
from tests.bundles import write_bundle
from tests.in_process import InProcess

S1 = "ppm-america-jnl-value-fund"  # adopted without its shareholders' vote: BEP-4.2
S2 = "t-rowe-price-jnl-established-growth-fund"
AS_OF = "2005-06-30"


def _tx(ident: str, day: str, series: str, placed_by: str, best: str = "true", broker: str = "bd-1") -> dict[str, str]:
    return {"id": ident, "date": day, "series": series, "placed_by": placed_by, "executing_broker": broker,
            "agreement": "DB-1" if broker == "bd-1" else "", "directed": "true", "commission": "100.00",
            "best_execution": best}


def _benefit(ident: str, day: str, tx: str, amount: str, generating: str, benefiting: str) -> dict[str, str]:
    return {"id": ident, "date": day, "kind": "credit", "transaction": tx, "broker": "bd-1",
            "recipient": "distributor", "amount": amount, "generating_series": generating,
            "benefiting_series": benefiting}


def _expenditure(ident: str, day: str, funded_by: str, amount: str) -> dict[str, str]:
    return {"id": ident, "date": day, "funded_by": funded_by, "category": "advertising", "amount": amount,
            "payee": "distributor", "description": "Mailing, with a comma\nand a second line"}


GOVERNANCE: dict[str, list[dict[str, str]]] = {
    "organizations": [{"id": "bd-1", "name": "Example Securities LLC", "roles": "broker_dealer"}],
    "trustees": [{"id": f"t-{n}", "name": f"Trustee {n}", "from": "2000-01-01"} for n in (1, 2, 3)],
    "agreements": [{"id": "DB-1", "kind": "directed_brokerage", "parties": "trust;bd-1", "effective": "2002-06-01",
                    "terminates_on_assignment": "true", "related_to_plan": "true"}],
    "meetings": [{"id": "M-1", "date": "2002-05-16", "body": "board", "in_person": "true", "called_for_plan": "true"}],
    "matters": [{"id": "A-1", "meeting": "M-1", "action": "adopt", "series": S1, "subject": "plan"},
                {"id": "A-2", "meeting": "M-1", "action": "adopt", "series": S2, "subject": "plan"},
                {"id": "AG-1", "meeting": "M-1", "action": "approve_agreement", "subject": "DB-1"}],
    "ballots": [{"matter": m, "trustee": f"t-{n}", "vote": "for", "in_person": "true"}
                for m in ("A-1", "A-2", "AG-1") for n in (1, 2, 3)],
    "shareholder_votes": [{"matter": "A-2", "series": S2, "shares_outstanding": "1500", "shares_present": "1000",
                           "shares_for": "670"}],
}

BLOTTER: dict[str, list[dict[str, str]]] = {
    "transactions": [
        _tx("T-1", "2002-07-01", S1, "ppm-america"),  # S1's first activity (BEP-4.2's evidence)
        _tx("T-2", "2003-12-31", S2, "t-rowe-price", best="false"),  # on the year boundary, BEP-1.1
        _tx("T-3", "2002-09-01", S2, "ppm-america"),  # placed by another series' sub-adviser: BEP-1.2
        _tx("T-4", "2005-01-03", S1, "ppm-america", broker="distributor"),  # after 12b-1(h): BEP-H.1
    ],
    "benefits": [
        _benefit("B-1", "2004-01-05", "T-2", "100.00", S2, S2),  # the next year's benefit of T-2
        _benefit("B-2", "2003-02-01", "", "100.00", S1, S2),  # inures only to another series: BEP-3.1
    ],
    "expenditures": [
        _expenditure("E-1", "2004-01-10", "B-1;B-2", "120.00"),  # two series, two years; over both (BEP-2.2)
        _expenditure("E-2", "2004-02-01", "B-1", "50.00"),  # B-1's total is 170, B-2's 120
    ],
}


@pytest.fixture(scope="module")
def cross(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(tmp_path_factory.mktemp("cross") / "cross-partition", GOVERNANCE | BLOTTER)


def _plain(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err




def test_the_cross_partition_bundle_has_the_findings_it_is_built_for(capsys: pytest.CaptureFixture[str],
                                                                      cross: Path) -> None:
    code, out, _ = _plain(capsys, str(cross), "--as-of", AS_OF, "--format", "json")
    found = {(f["rule"], f["focus"]["id"]): f for f in json.loads(out)["findings"]}
    assert code == 1
    assert {("BEP-2.2", "B-1"), ("BEP-2.2", "B-2"), ("BEP-3.1", "B-2"), ("BEP-1.1", "T-2"), ("BEP-1.2", "T-3"),
            ("BEP-4.2", "A-1"), ("BEP-H.1", "T-4")} <= set(found)
    assert "170" in found[("BEP-2.2", "B-1")]["message"]  # E-1 and E-2, though E-1 also funds B-2 of S1
    assert "2002-07-01" in found[("BEP-4.2", "A-1")]["message"]
    assert found[("BEP-4.2", "A-1")]["evidence"] == ["transactions/T-1"]


@pytest.mark.parametrize("mode", ["series", "year"])
def test_partitioned_json_is_byte_identical_on_the_cross_partition_bundle(
        capsys: pytest.CaptureFixture[str], cross: Path, mode: str) -> None:
    plain = _plain(capsys, str(cross), "--as-of", AS_OF, "--format", "json")
    split = _plain(capsys, str(cross), "--as-of", AS_OF, "--format", "json", "--partition", mode, "--workers", "2")
    assert split[:2] == plain[:2]


def test_a_partition_alone_would_word_the_aggregates_differently(cross: Path) -> None:
    """Why the merge ranks BEP-4.2: the S2 partition carries B-2 of S1 (through E-1) but not T-1."""
    from bepgraph.partition.split import split_bundles

    def never(folder: Path) -> None:
        raise AssertionError(f"{folder} is well formed")

    tmp = cross.parent / "split-by-series"
    parts = {p.key: p for p in split_bundles([cross], "series", tmp, never).partitions}
    assert set(parts) == {S1, S2}
    carried = (parts[S2].folder / "carried.txt").read_text().split()
    assert carried == ["benefits/B-2", "expenditures/E-1"]  # E-1 is owned by S1, the first of its benefits' series
    outcomes = run_tasks([_task(parts[S2])])
    first = [f for _, f, _ in outcomes[0].pairs if f.rule == "BEP-4.2"]
    assert first and "2003-02-01" in first[0].message  # the carried benefit is the S2 partition's first
    assert all(f.focus.id != "B-2" for _, f, _ in outcomes[0].pairs)  # a carried row's findings stay home
    shutil.rmtree(tmp)


def _task(part):  # type: ignore[no-untyped-def]
    from bepgraph.partition.work import PartitionTask

    return PartitionTask(part.key, str(part.folder), tuple(str(b) for b in part.bundles), None, date(2005, 6, 30))


def test_partitioned_json_is_byte_identical_on_the_example_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _plain(capsys, "--as-of", AS_OF, "--format", "json")
    split = _plain(capsys, "--as-of", AS_OF, "--format", "json", "--partition", "year")
    assert split[:2] == plain[:2]
    assert json.loads(split[1])["counts"]["violation"] > 10


def test_the_example_bundle_by_series_gives_the_same_report(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _plain(capsys, "--as-of", AS_OF, "--format", "json")
    run = validate_partitioned([example_bundle()], date(2005, 6, 30), "series", InProcess())
    assert json.dumps(run.validation.report.as_dict(), indent=2, ensure_ascii=False) + "\n" == plain[1]
    assert len(run.partitions) == 4  # twice the slots: the 38 series dealt into four groups
    members = [m for p in run.partitions for m in p["members"]]
    assert len(members) == len(set(members)) == 38
    sizes = [p["rows"]["transactions"] for p in run.partitions]
    assert max(sizes) < 1.5 * min(sizes)  # dealt by their share of the blotter, largest first


def test_one_and_two_workers_validate_the_same_partitions_on_workers_started_before_the_split(
        capsys: pytest.CaptureFixture[str]) -> None:
    from bepgraph.partition.engines import LocalPool

    plain = _plain(capsys, "--as-of", AS_OF, "--format", "json")[1]
    runs = {w: validate_partitioned([example_bundle()], date(2005, 6, 30), "series", LocalPool(w)) for w in (1, 2)}
    for w, run in runs.items():
        assert json.dumps(run.validation.report.as_dict(), indent=2, ensure_ascii=False) + "\n" == plain
        assert all(p["seconds"] > 0 for p in run.partitions)  # each worker's own time, for the bench
        assert len({p["worker"] for p in run.partitions}) <= w and os.getpid() not in {p["worker"] for p in run.partitions}
    # the same work whatever the workers (so the bench's 2-over-1 compares the pool, not two partitionings)
    assert [p["members"] for p in runs[1].partitions] == [p["members"] for p in runs[2].partitions]
    assert len(runs[1].partitions) == 4


def test_each_series_or_year_is_a_partition_when_no_grouping_is_asked(cross: Path, tmp_path: Path) -> None:
    from bepgraph.partition.split import split_bundles

    def never(folder: Path) -> None:
        raise AssertionError(f"{folder} is well formed")

    by_series = split_bundles([example_bundle()], "series", tmp_path / "s", never)
    assert len(by_series.partitions) == 38 and all(p.members == [p.key] for p in by_series.partitions)
    grouped = split_bundles([example_bundle()], "series", tmp_path / "g", never, trades_each=600)
    assert len(grouped.partitions) == 4  # 2,000 trades, 600 each
    by_year = split_bundles([example_bundle()], "year", tmp_path / "y", never, at_least=8)
    assert [p.key for p in by_year.partitions] == ["2002", "2003", "2004", "2005"]  # a year is never split


def test_several_bundles_repeating_rows_count_them_once(capsys: pytest.CaptureFixture[str], cross: Path,
                                                        tmp_path: Path) -> None:
    second = write_bundle(tmp_path / "next-month", {
        "organizations": GOVERNANCE["organizations"], "agreements": GOVERNANCE["agreements"],
        "transactions": [BLOTTER["transactions"][1], _tx("T-5", "2004-03-01", S2, "t-rowe-price", best="false")],
    })
    plain = _plain(capsys, str(cross), str(second), "--as-of", AS_OF, "--format", "json")
    split = _plain(capsys, str(cross), str(second), "--as-of", AS_OF, "--format", "json", "--partition", "series")
    assert split[:2] == plain[:2]
    assert "T-5" in plain[1]


def _with_rows(src: Path, dst: Path, table: str, rows: list[dict[str, str]]) -> Path:
    shutil.copytree(src, dst)
    with (dst / f"{table}.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with (dst / f"{table}.csv").open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for row in rows:
            writer.writerow([row.get(c, "") for c in header])
    return dst


@pytest.mark.parametrize(("table", "row", "mode", "says"), [
    # a duplicate id whose copies fall in two partitions: no partition's reader sees it
    ("transactions", _tx("T-1", "2004-07-01", S2, "t-rowe-price"), "series", "duplicate id 'T-1'"),
    # a bad cell: the partition's reader sees it, at another line than the bundle's
    ("benefits", _benefit("B-9", "2004-13-01", "T-2", "1.00", S2, S2), "year", "benefits.csv:4: column date"),
])
def test_a_bad_bundle_is_refused_as_the_reader_refuses_it(capsys: pytest.CaptureFixture[str], cross: Path,
                                                          tmp_path: Path, table: str, row: dict[str, str],
                                                          mode: str, says: str) -> None:
    bad = _with_rows(cross, tmp_path / "bad", table, [row])
    plain = _plain(capsys, str(bad), "--as-of", AS_OF)
    split = _plain(capsys, str(bad), "--as-of", AS_OF, "--partition", mode)
    assert plain[0] == split[0] == 2
    assert says in plain[2]
    assert split[2] == plain[2]


@pytest.mark.parametrize("content", ["", 'id,date,series\nT-7,"2004-01-01,S\n'])  # empty; a quote never closed
def test_a_blotter_file_the_split_cannot_read_is_refused_as_the_reader_refuses_it(
        capsys: pytest.CaptureFixture[str], cross: Path, tmp_path: Path, content: str) -> None:
    bad = tmp_path / "cross-partition"
    shutil.copytree(cross, bad)
    (bad / "transactions.csv").write_text(content, encoding="utf-8")
    plain = _plain(capsys, str(bad), "--as-of", AS_OF)
    split = _plain(capsys, str(bad), "--as-of", AS_OF, "--partition", "series")
    assert plain[0] == split[0] == 2
    assert "transactions.csv" in plain[2]
    assert split[2] == plain[2]


def test_bundles_that_conflict_across_partitions_are_refused(capsys: pytest.CaptureFixture[str], cross: Path,
                                                             tmp_path: Path) -> None:
    other = write_bundle(tmp_path / "corrected", {
        "transactions": [_tx("T-2", "2003-12-31", S1, "ppm-america", broker="distributor")],
    })
    plain = _plain(capsys, str(cross), str(other), "--as-of", AS_OF)
    split = _plain(capsys, str(cross), str(other), "--as-of", AS_OF, "--partition", "series")
    assert plain[0] == split[0] == 2
    assert "T-2" in split[2] and "conflict" in split[2] and "Traceback" not in split[2]
    assert str(other) in split[2]


def test_bundles_that_conflict_within_a_partition_are_refused_as_the_load_refuses_them(
        capsys: pytest.CaptureFixture[str], cross: Path, tmp_path: Path) -> None:
    other = write_bundle(tmp_path / "restated", {
        "organizations": GOVERNANCE["organizations"], "agreements": GOVERNANCE["agreements"],
        "transactions": [_tx("T-6", "2004-05-05", S2, "t-rowe-price"),
                         dict(BLOTTER["transactions"][1], commission="999.00")],  # T-2 again, another commission
    })
    plain = _plain(capsys, str(cross), str(other), "--as-of", AS_OF)
    split = _plain(capsys, str(cross), str(other), "--as-of", AS_OF, "--partition", "year")
    assert plain[0] == split[0] == 2
    assert "transactions.csv:3: column commission" in plain[2]
    assert split[2] == plain[2]  # the partition's line and folder put back to the bundle's


@pytest.mark.parametrize(("extra", "says"), [
    (["--store", "memory-x"], "takes no --store"),
    (["--save"], "--findings-file"),
    (["--format", "turtle"], "--format turtle"),
    (["--series", "no-such-series"], "unknown series 'no-such-series'"),
    (["--rule", "BEP-99"], "unknown rule 'BEP-99'"),
    (["--workers", "0"], "at least one worker"),
])
def test_options_a_partitioned_run_cannot_honour_are_refused(capsys: pytest.CaptureFixture[str], cross: Path,
                                                             extra: list[str], says: str) -> None:
    code, out, err = _plain(capsys, str(cross), "--as-of", AS_OF, "--partition", "series", *extra)
    assert code == 2 and out == ""
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("extra", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:9"],
                                   ["--findings-file", "findings.json"]])
def test_partition_options_without_partition_are_refused_not_ignored(capsys: pytest.CaptureFixture[str], cross: Path,
                                                                     extra: list[str]) -> None:
    code, out, err = _plain(capsys, str(cross), "--as-of", AS_OF, *extra)
    assert code == 2 and out == ""
    assert f"{extra[0]} only applies with --partition" in err


def test_series_and_rule_filters_match_the_unpartitioned_run(capsys: pytest.CaptureFixture[str], cross: Path) -> None:
    argv = [str(cross), "--as-of", AS_OF, "--format", "json", "--series", S2, "--rule", "BEP-2.2", "--rule", "BEP-3.1"]
    plain = _plain(capsys, *argv)
    split = _plain(capsys, *argv, "--partition", "year")
    assert split[:2] == plain[:2]
    assert json.loads(plain[1])["findings"]


def test_the_findings_file_keeps_the_run_with_its_provenance(cross: Path, tmp_path: Path) -> None:
    run = validate_partitioned([cross], date(2005, 6, 30), "year", InProcess())
    path = tmp_path / "findings.json"
    write_findings_file(path, run)
    saved = read_findings_file(path, [cross])
    assert saved.report.as_dict() == run.validation.report.as_dict()
    prov = saved.provenance
    assert prov["as_of"] == AS_OF and prov["partition"] == "year"
    assert [p["key"] for p in prov["partitions"]] == ["2002", "2003", "2004", "2005"]
    assert len(prov["bundles"]) == 1 and len(prov["bundles"][0]["sha256"]) == 64
    changed = _with_rows(cross, tmp_path / "cross-partition", "transactions",
                         [_tx("T-9", "2004-07-01", S2, "t-rowe-price")])
    with pytest.raises(ParameterError, match="other bundles"):
        read_findings_file(path, [changed])


def test_the_findings_file_sha256_is_the_one_the_loader_records(cross: Path) -> None:
    from bepgraph.partition.runner import bundle_digest
    from bepgraph.sources.bundle import read_bundle
    from bepgraph.sources.filing import read_filing
    from bepgraph.resources import filing_path

    source = read_bundle(cross, read_filing(filing_path()).ids)
    source.close()
    assert bundle_digest(cross) == source.digest


def test_a_local_dask_cluster_of_two_worker_processes_gives_the_same_findings(
        capsys: pytest.CaptureFixture[str], cross: Path) -> None:
    from distributed import LocalCluster

    from bepgraph.partition.engines import DaskCluster

    plain = _plain(capsys, str(cross), "--as-of", AS_OF, "--format", "json")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        engine = DaskCluster(cluster.scheduler_address)
        run = validate_partitioned([cross], date(2005, 6, 30), "year", engine)
        split = _plain(capsys, str(cross), "--as-of", AS_OF, "--format", "json", "--partition", "series",
                       "--scheduler", cluster.scheduler_address)
    assert json.dumps(run.validation.report.as_dict(), indent=2, ensure_ascii=False) + "\n" == plain[1]
    assert split[:2] == plain[:2]
    pids = {p["worker"] for p in run.partitions}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, neither of them this one


def test_no_scheduler_at_the_address_is_a_clear_error(capsys: pytest.CaptureFixture[str], cross: Path) -> None:
    code, _, err = _plain(capsys, str(cross), "--as-of", AS_OF, "--partition", "series",
                          "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "no Dask scheduler answers" in err and "Traceback" not in err


def test_a_row_judged_by_two_partitions_is_a_fault_not_a_finding() -> None:
    from bepgraph.errors import StoreError
    from bepgraph.partition.merge import merge_outcomes
    from bepgraph.partition.work import PartitionOutcome
    from bepgraph.validation.engine import ShapeResult
    from bepgraph.validation.findings import Finding, Focus

    def judged(key: str, message: str) -> PartitionOutcome:
        finding = Finding("BEP-2.2", "violation", Focus("benefits", "B-1"), message)
        result = ShapeResult(finding.focus.iri, "urn:shape", "violation", message, "urn:component", None, None)
        return PartitionOutcome(key, pairs=[(result, finding, None)])

    assert merge_outcomes(date(2005, 6, 30), [judged("a", "m"), judged("b", "n")][:1]).report.findings
    with pytest.raises(StoreError, match="judged in two partitions"):
        merge_outcomes(date(2005, 6, 30), [judged("a", "funds 170"), judged("b", "funds 120")])
