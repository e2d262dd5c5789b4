"""The board pack and GraphQL answer findings from a partitioned run's findings file, and refuse what it cannot answer.

At ten million trades no door can validate again; `validate --partition
--findings-file` keeps the merged findings with their provenance. The doors
given such files must say exactly what a normal run says (the pack's
summary counts, its changes since the previous review, its quarter-end
timeline; GraphQL's findings), and refuse, clearly and before any work, a
date no file holds, a file computed from other bundles or another filing
than the store holds, a run narrowed by --rule/--series, two files for one
date, and a file of the earlier format that did not record the scope.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

import httpx
import pytest

from bepgraph.cli import main
from bepgraph.errors import ParameterError
from bepgraph.loading import load_all
from bepgraph.partition.runner import validate_partitioned
from bepgraph.partition.saved import write_findings_file
from bepgraph.resources import example_bundle
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore
from bepgraph.viz.pack import build_pack
from bepgraph.viz.dates import quarter_ends as pack_quarters
from bepgraph.viz.calendar import compliance_calendar

from .graphql_server import serve
from .in_process import InProcess
from .servers import OxigraphServer, free_port, oxigraph_server, oxigraph_servers  # noqa: F401  (pytest fixtures)

AS_OF, SINCE = date(2004, 12, 31), date(2004, 6, 30)
FINDINGS = """query ($day: Date) { findings(asOf: $day, first: 100) {
  asOf conforms counts { violation warning info }
  findings { totalCount edges { node { rule severity focus { table id iri } series message citation evidence } } }
} }"""




def _saved(folder: Path, day: date, path: Path, **scope: list[str]) -> Path:
    run = validate_partitioned([folder], day, "year", InProcess(), rules=scope.get("rules"),
                               series=scope.get("series"))
    write_findings_file(path, run)
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example bundle under a folder of its own (its graph's name is the folder's)."""
    folder = tmp_path_factory.mktemp("b") / "example"
    shutil.copytree(example_bundle(), folder)
    return folder


@pytest.fixture(scope="module")
def store(bundle: Path) -> EmbeddedStore:
    s = EmbeddedStore()
    load_all(s, [bundle])
    return s


@pytest.fixture(scope="module")
def quarters(store: EmbeddedStore) -> list[date]:
    cal = compliance_calendar(store, AS_OF)
    assert cal.plan_date is not None
    days = pack_quarters(cal.plan_date, AS_OF)
    assert SINCE in days and AS_OF in days and len(days) >= 4
    return days


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, bundle: Path, quarters: list[date]) -> dict[date, Path]:
    """One findings file per quarter end of the plan's life (as-of and since among them)."""
    where = tmp_path_factory.mktemp("files")
    return {day: _saved(bundle, day, where / f"findings-{day}.json") for day in quarters}


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory, bundle: Path) -> Path:
    """A findings file as of AS_OF computed from a bundle one trade longer than the one loaded."""
    folder = tmp_path_factory.mktemp("other") / "example"
    shutil.copytree(bundle, folder)
    with (folder / "transactions.csv").open("rb") as fh:
        first, second = fh.readline(), fh.readline()
    cells = second.decode().rstrip("\r\n").split(",")
    cells[0] = "T-EXTRA-1"
    with (folder / "transactions.csv").open("ab") as fh:
        fh.write((",".join(cells) + "\n").encode())
    return _saved(folder, AS_OF, tmp_path_factory.mktemp("otherfile") / "findings.json")


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _page_one_numbers(path: Path) -> list[str]:
    """Page 1's findings sentence and family table without page numbers (sections may move by a page)."""
    first = _pdf_text(path).split("\f")[0]
    return [re.sub(r"page \d+", "page N", line.strip()) for line in first.splitlines()
            if re.match(r"\s*(Findings as of|Since the previous review|BEP-\d+\s)", line)]


# ---- the board pack ----------------------------------------------------------------------------------------------

def _never_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, any validation run by the pack or GraphQL fails the test: the findings must come from files."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validated although the findings were to be read from files")

    monkeypatch.setattr("bepgraph.viz.pack.findings_on_days", refuse)
    monkeypatch.setattr("bepgraph.graphql.asof.cached_validation", refuse)


def test_the_pack_from_findings_files_says_what_the_validating_pack_says(
        store: EmbeddedStore, files: dict[date, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bepgraph.validation.saved_findings import SavedFindings

    plain = build_pack(store, AS_OF, tmp_path / "plain.pdf", since=SINCE)
    _never_validate(monkeypatch)
    saved = build_pack(store, AS_OF, tmp_path / "saved.pdf", since=SINCE,
                       saved=SavedFindings.read(list(files.values())))
    assert plain.findings > 0 and saved.findings == plain.findings
    assert saved.timeline == plain.timeline and len(plain.timeline) == len(files)
    assert saved.timeline_missing == []
    lines = _page_one_numbers(tmp_path / "saved.pdf")
    assert any(line.startswith("Since the previous review") for line in lines) and len(lines) >= 3
    assert lines == _page_one_numbers(tmp_path / "plain.pdf")
    assert "read from findings files of partitioned validation runs" in _pdf_text(tmp_path / "saved.pdf")
    assert "read from findings files" not in _pdf_text(tmp_path / "plain.pdf")


def test_quarter_ends_without_a_file_are_named_not_drawn(store: EmbeddedStore, files: dict[date, Path],
                                                         tmp_path: Path, quarters: list[date]) -> None:
    from bepgraph.validation.saved_findings import SavedFindings

    out = tmp_path / "pack.pdf"
    summary = build_pack(store, AS_OF, out, saved=SavedFindings.read([files[AS_OF], files[SINCE]]))
    plain = dict((q, (v, w)) for q, v, w in build_pack(store, AS_OF, tmp_path / "plain.pdf").timeline)
    assert [q for q, *_ in summary.timeline] == ["2004Q2", "2004Q4"]
    assert all(plain[q] == (v, w) for q, v, w in summary.timeline)
    assert len(summary.timeline_missing) == len(quarters) - 2 and "2004Q3" in summary.timeline_missing
    text = " ".join(_pdf_text(out).split())
    assert f"Not computed for {len(quarters) - 2} quarter ends" in text and "2004Q3" in text

    alone = build_pack(store, AS_OF, tmp_path / "alone.pdf", saved=SavedFindings.read([files[AS_OF]]))
    assert alone.timeline == [(q, *plain[q]) for q in ["2004Q4"]]
    # with every quarter end but the as-of date missing, the sentence says so and the figure draws one bar
    assert len(alone.timeline_missing) == len(quarters) - 1


def test_the_board_pack_command_reads_the_files(files: dict[date, Path], bundle: Path, tmp_path: Path) -> None:
    out, said = tmp_path / "pack.pdf", io.StringIO()
    with redirect_stdout(said):
        code = main(["board-pack", str(bundle), "--as-of", AS_OF.isoformat(), "--findings-file", str(files[AS_OF]),
                     "-o", str(out)])
    assert code == 0 and out.is_file()
    plain = json.loads(files[AS_OF].read_text())
    assert f"{len(plain['findings'])} findings as of {AS_OF}" in said.getvalue()
    assert "read from findings files; quarter ends not drawn:" in said.getvalue()


@pytest.mark.parametrize("case", ["as-of", "since"])
def test_a_pack_date_no_file_holds_is_refused_before_anything_is_written(
        case: str, files: dict[date, Path], bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pack.pdf"
    given = files[date(2004, 9, 30)] if case == "as-of" else files[AS_OF]
    argv = ["board-pack", str(bundle), "--as-of", AS_OF.isoformat(), "--findings-file", str(given), "-o", str(out)]
    if case == "since":
        argv += ["--since", SINCE.isoformat()]
    assert main(argv) == 2
    err = capsys.readouterr().err
    missing = AS_OF if case == "as-of" else SINCE
    assert f"bepgraph: error: no findings as of {missing}" in err
    assert "hold the findings as of" in err and f"--as-of {missing} --findings-file FILE" in err
    assert not out.exists()


def test_a_file_of_other_bundles_is_refused_by_the_pack(other: Path, bundle: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pack.pdf"
    assert main(["board-pack", str(bundle), "--as-of", AS_OF.isoformat(), "--findings-file", str(other),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "its findings were computed from other bundles than the store holds (their sha256 differ" in err
    assert not out.exists()


def test_a_file_of_another_filing_is_refused(files: dict[date, Path], store: EmbeddedStore, tmp_path: Path) -> None:
    from bepgraph.validation.saved_findings import SavedFindings

    data = json.loads(files[AS_OF].read_text())
    data["provenance"]["plan"]["sha256"] = "0" * 64
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="another plan filing than the store holds"):
        SavedFindings.read([path]).report(store, AS_OF)


def test_a_file_judged_by_other_rules_is_refused(files: dict[date, Path], tmp_path: Path) -> None:
    from bepgraph.validation.saved_findings import SavedFindings, rules_digest

    data = json.loads(files[AS_OF].read_text())
    assert data["provenance"]["rules_sha256"] == rules_digest()
    data["provenance"]["rules_sha256"] = "f" * 64
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="judged by other rules than this bepgraph's"):
        SavedFindings.read([path])


def test_narrowed_duplicate_and_earlier_files_are_refused(bundle: Path, files: dict[date, Path],
                                                          tmp_path: Path) -> None:
    from bepgraph.validation.saved_findings import SavedFindings

    narrowed = _saved(bundle, AS_OF, tmp_path / "narrow.json", rules=["BEP-7.3"])
    with pytest.raises(ParameterError, match=r"narrowed run \(--rule BEP-7.3\).*every rule's findings"):
        SavedFindings.read([narrowed])
    copy = tmp_path / "again.json"
    shutil.copy(files[AS_OF], copy)
    with pytest.raises(ParameterError, match=f"are both findings as of {AS_OF}"):
        SavedFindings.read([files[AS_OF], copy])
    data = json.loads(files[AS_OF].read_text())
    data["provenance"]["format"] = "bepgraph-findings/1"
    del data["provenance"]["scope"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="earlier bepgraph .* did not record the run's scope"):
        SavedFindings.read([old])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ParameterError, match="bad.json: not a bepgraph findings file"):
        SavedFindings.read([tmp_path / "bad.json"])


def test_a_findings_file_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no-such-folder" / "f.json"
    assert main(["validate", "--as-of", AS_OF.isoformat(), "--partition", "year", "--findings-file", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"--findings-file {target}: its folder does not exist" in err
    assert not target.parent.exists()


# ---- GraphQL ------------------------------------------------------------------------------------------------------

def _ask(url: str, day: str) -> dict[str, object]:
    answer = httpx.post(url + "/graphql", json={"query": FINDINGS, "variables": {"day": day}}, timeout=120)
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def test_graphql_findings_from_the_file_equal_a_validating_service_s(store: EmbeddedStore, files: dict[date, Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(store) as plain:
        expected = _ask(plain.url, AS_OF.isoformat())
    _never_validate(monkeypatch)
    settings = Settings(load_on_start=False, findings_files=(files[AS_OF], files[SINCE]))
    with serve(store, settings) as served:
        got = _ask(served.url, AS_OF.isoformat())
        before = _ask(served.url, SINCE.isoformat())
        refused = _ask(served.url, "2004-09-30")
        today = httpx.post(served.url + "/graphql", json={"query": "{ findings { conforms } }"}, timeout=60).json()
    assert "errors" not in expected and expected["data"]["findings"]["findings"]["totalCount"] > 0  # type: ignore[index]
    assert got == expected
    assert before["data"]["findings"]["asOf"] == SINCE.isoformat()  # type: ignore[index]
    assert before["data"]["findings"]["findings"]["totalCount"] == len(  # type: ignore[index]
        json.loads(files[SINCE].read_text())["findings"])
    assert refused["data"] is None
    message = refused["errors"][0]["message"]  # type: ignore[index]
    assert message.startswith("no findings as of 2004-09-30: the findings are read from findings files, "
                              f"which hold the findings as of {SINCE}, {AS_OF} only")
    assert today["data"] is None and "no findings as of" in today["errors"][0]["message"]


def _serve_cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """`bepgraph serve` as a user starts it; a refused start ends the process (bounded by a deadline)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **({"BEPGRAPH_TOKEN": token} if token else {}))
    return subprocess.run([sys.executable, "-m", "bepgraph.cli", "serve", "--port", str(free_port()), *args],
                          capture_output=True, text=True, timeout=180, env=env)


def test_serve_refuses_to_start_with_a_file_of_other_bundles(other: Path, bundle: Path) -> None:
    done = _serve_cli(str(bundle), "--findings-file", str(other))
    assert done.returncode == 2
    assert "computed from other bundles than the store holds (their sha256 differ" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_missing_file_and_updates_with_a_file(files: dict[date, Path], tmp_path: Path) -> None:
    done = _serve_cli("--findings-file", str(tmp_path / "nowhere.json"))
    assert done.returncode == 2 and "nowhere.json: cannot be read" in done.stderr
    done = _serve_cli("--findings-file", str(files[AS_OF]), "--allow-updates", token="a-token")
    assert done.returncode == 2 and "--allow-updates would let the facts change" in done.stderr


# ---- at scale: the facts on a SPARQL server, the findings from the file -------------------------------------------

@pytest.mark.server
def test_the_pack_and_graphql_over_a_sparql_server_read_the_files_and_refuse_after_a_reload(
        oxigraph_server: OxigraphServer, bundle: Path, store: EmbeddedStore, files: dict[date, Path],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bepgraph.store import RemoteStore
    from bepgraph.validation.saved_findings import SavedFindings

    assert main(["load", str(bundle), "--store", oxigraph_server.query_url]) == 0
    remote = RemoteStore(oxigraph_server.query_url)
    try:
        with serve(store) as plain:
            expected = _ask(plain.url, AS_OF.isoformat())
        plain_pack = build_pack(store, AS_OF, tmp_path / "plain.pdf", since=SINCE)
        _never_validate(monkeypatch)
        # the pack at scale: the facts on the server, the findings from the files, nothing validated
        pack = build_pack(remote, AS_OF, tmp_path / "remote.pdf", since=SINCE,
                          saved=SavedFindings.read([files[AS_OF], files[SINCE]]))
        assert (pack.findings, pack.views) == (plain_pack.findings, plain_pack.views)
        assert _page_one_numbers(tmp_path / "remote.pdf") == _page_one_numbers(tmp_path / "plain.pdf")
        with serve(remote, Settings(load_on_start=False, findings_files=(files[AS_OF],))) as served:
            assert _ask(served.url, AS_OF.isoformat()) == expected
            # the server's bundle replaced by one trade longer: the file no longer speaks for what it holds
            changed = tmp_path / "example"  # the same folder name: the same graph, replaced
            shutil.copytree(bundle, changed)
            with (changed / "transactions.csv").open("ab") as fh:
                fh.write(b"T-EXTRA-2,2004-03-01,janus-jnl-capital-growth-fund,janus,beacon-street-capital,,,,"
                         b"false,306.76,true\n")
            assert main(["load", str(changed), "--store", oxigraph_server.query_url]) == 0
            refused = _ask(served.url, AS_OF.isoformat())
        assert refused["data"] is None
        assert "computed from other bundles than the store holds" in refused["errors"][0]["message"]  # type: ignore[index]
    finally:
        remote.close()
