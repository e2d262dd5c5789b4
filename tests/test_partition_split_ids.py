"""The split keeps the blotter ids' hashes in arrays, and builds the exact map only to word a conflict.

Why it matters: the map of each id's hash to its partition cost about 90
bytes a row, the split's largest map (about 6.5 GB at 50M trades); the
arrays cost 8. The exact check (``split._check_id``) must now run only when
the arrays show a hash in two partitions, and then refuse exactly as
before; a repeat within one partition (one fact given by two bundles) is
still the partition's to judge and costs no second pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bepgraph.errors import BundleError
from bepgraph.partition import split as splitting
from bepgraph.partition.split import split_bundles
from bepgraph.resources import example_bundle
from tests.bundles import write_bundle
from tests.test_partitioned import BLOTTER, GOVERNANCE, S1, S2, _tx


def _refuse(folder: Path) -> None:
    raise AssertionError(f"the split asked the reader about {folder}: it should have split it")


@pytest.fixture
def exact(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the exact check was asked about (none unless the arrays showed a conflict)."""
    asked: list[str] = []
    real = splitting._check_id

    def counted(seen: dict[int, int], router: object, b: int, bundles: object, table: str, ident: str,
                part: str) -> None:
        asked.append(f"{table}/{ident}")
        real(seen, router, b, bundles, table, ident, part)  # type: ignore[arg-type]

    monkeypatch.setattr(splitting, "_check_id", counted)
    return asked


def test_a_clean_split_notes_every_id_in_arrays_and_never_builds_the_exact_map(
        exact: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "example"
    shutil.copytree(example_bundle(), folder)
    noted: list[int] = []
    real = splitting._Ids.conflict

    def counting(self: splitting._Ids) -> bool:
        noted.append(sum(len(a) for buckets in self.parts for a in buckets))
        return real(self)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(splitting._Ids, "conflict", counting)
        done = split_bundles([folder], "series", tmp_path / "out", _refuse, at_least=4, trades_each=300_000)
    owned = sum(p.rows.get(t, 0) for p in done.partitions for t in ("transactions", "benefits", "expenditures"))
    carried = sum(p.carried for p in done.partitions)
    assert noted == [owned - carried] and noted[0] > 1000  # one hash per owned row, in the arrays
    assert exact == []


def test_a_repeat_in_one_partition_across_bundles_costs_no_exact_pass(exact: list[str], tmp_path: Path) -> None:
    first = write_bundle(tmp_path / "a" / "first", GOVERNANCE | BLOTTER)
    second = write_bundle(tmp_path / "b" / "second", {
        "organizations": GOVERNANCE["organizations"], "agreements": GOVERNANCE["agreements"],
        "transactions": [BLOTTER["transactions"][1], _tx("T-5", "2004-03-01", S2, "t-rowe-price")],
    })
    split_bundles([first, second], "series", tmp_path / "out", _refuse)
    assert exact == []


def test_a_conflict_across_bundles_is_worded_by_the_exact_pass(exact: list[str], tmp_path: Path) -> None:
    first = write_bundle(tmp_path / "a" / "first", GOVERNANCE | BLOTTER)
    second = write_bundle(tmp_path / "b" / "corrected", {
        "transactions": [_tx("T-2", "2003-12-31", S1, "ppm-america", broker="distributor")],
    })
    with pytest.raises(BundleError) as refused:
        split_bundles([first, second], "series", tmp_path / "out", _refuse)
    said = str(refused.value)
    assert f"transactions 'T-2' is given by {first} and by {second} with values that put it in different " \
           f"partitions ({S2}, {S1}): the rows conflict" in said
    assert "transactions/T-2" in exact
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith("exact-")] == []


def test_a_duplicate_id_in_two_partitions_of_one_bundle_is_worded_by_the_reader(
        exact: list[str], tmp_path: Path) -> None:
    blotter = dict(BLOTTER, transactions=[*BLOTTER["transactions"], _tx("T-1", "2004-03-03", S2, "t-rowe-price")])
    bundle = write_bundle(tmp_path / "dup" / "b", GOVERNANCE | blotter)
    asked: list[Path] = []

    def reader(folder: Path) -> None:
        asked.append(folder)
        raise BundleError([])  # the reader's own refusal, handed on

    with pytest.raises(BundleError):
        split_bundles([bundle], "series", tmp_path / "out", reader)
    assert asked == [bundle] and "transactions/T-1" in exact
