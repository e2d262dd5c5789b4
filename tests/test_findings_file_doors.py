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
    """From here on, any validation (or a run kept from before) fails the test: the findings must come from files.

    Both ends are closed: the validating source's cache lookups, through which every door reaches a run,
    and the runs themselves, for a door that would go round the source."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validated although the findings were to be read from files")

    for name in ("bepgraph.validation.findings_source.cached_validation",
                 "bepgraph.validation.findings_source.cached_validations",
                 "bepgraph.viz.marks.findings_as_of",
                 "bepgraph.validation.run.cached_validation",
                 "bepgraph.validation.run.run_validation",
                 "bepgraph.validation.many_dates.run_validation",
                 "bepgraph.validation.many_dates.cached_validations",
                 "bepgraph.validation.many_dates.run_validations"):
        monkeypatch.setattr(name, refuse)


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


# ---- /viz/data and /viz/quarters --------------------------------------------------------------------------------

def _viz(url: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(url + path, params=params, timeout=120)


def test_viz_doors_under_findings_files_answer_as_a_validating_service_and_refuse_uncovered_dates(
        bundle: Path, store: EmbeddedStore, files: dict[date, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    views = ("structure", "control", "money", "governance")
    with serve(store) as plain:
        expected = {v: _viz(plain.url, "/viz/data", view=v, asOf=AS_OF.isoformat()).json() for v in views}
        bare = _viz(plain.url, "/viz/data", view="money", asOf="2004-09-30", findings="false").json()
        quarters = _viz(plain.url, "/viz/quarters", until=AS_OF.isoformat()).json()
    # a store of its own, loaded with the same bundle: no run the plain service kept can answer for the files
    fresh = EmbeddedStore()
    load_all(fresh, [bundle])
    _never_validate(monkeypatch)
    settings = Settings(load_on_start=False, findings_files=(files[AS_OF], files[SINCE]))
    with serve(fresh, settings) as served:
        got = {v: _viz(served.url, "/viz/data", view=v, asOf=AS_OF.isoformat()) for v in views}
        refused = _viz(served.url, "/viz/data", view="money", asOf="2004-09-30")
        latest = _viz(served.url, "/viz/data", view="money")  # the default date: the latest fact's
        without = _viz(served.url, "/viz/data", view="money", asOf="2004-09-30", findings="false")
        timeline = _viz(served.url, "/viz/quarters", until=AS_OF.isoformat())
    for v in views:
        assert got[v].status_code == 200, got[v].text
        assert got[v].json() == expected[v]
    assert expected["money"]["findings"]["total"] > 0

    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert detail == (f"no findings as of 2004-09-30: the findings are read from findings files, which hold the "
                      f"findings as of {SINCE}, {AS_OF} only (make one for 2004-09-30 with `bepgraph validate "
                      "--partition … --as-of 2004-09-30 --findings-file FILE`)")
    assert expected["money"]["latestFact"] not in (SINCE.isoformat(), AS_OF.isoformat())
    assert latest.status_code == 400
    assert latest.json()["detail"].startswith(f"no findings as of {expected['money']['latestFact']}: ")
    # a view asked without findings shows none, so it needs no file
    assert without.status_code == 200 and without.json() == bare

    # the slider: the quarter ends a file covers, counted as the validating service counts them; the others named
    assert timeline.status_code == 200
    body = timeline.json()
    assert body["quarters"] == [q for q in quarters["quarters"] if q["end"] in (SINCE.isoformat(), AS_OF.isoformat())]
    assert len(body["quarters"]) == 2
    assert body["missing"] == [q["end"] for q in quarters["quarters"]
                               if q["end"] not in (SINCE.isoformat(), AS_OF.isoformat())]
    assert "missing" not in quarters and "note" not in quarters
    assert body["note"].startswith(f"Not computed for {len(body['missing'])} quarter ends (")
    assert "): this service reads its findings from findings files" in body["note"]
    assert "--as-of DAY --findings-file FILE" in body["note"]


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


# ---- provenance: the bepgraph that made the file, and facts written raw after the run -------------------------

RAW_GRAPH = "http://example.org/raw-notes"
RAW_NAMED = f'INSERT DATA {{ GRAPH <{RAW_GRAPH}> {{ <http://example.org/n1> <http://example.org/says> "a note" }} }}'
RAW_DEFAULT = 'INSERT DATA { <http://example.org/n2> <http://example.org/says> "another note" }'


def _edited(source: Path, target: Path, edit: "object") -> Path:
    data = json.loads(source.read_text())
    edit(data["provenance"])  # type: ignore[operator]
    target.write_text(json.dumps(data))
    return target


def test_a_file_records_the_bepgraph_that_made_it_and_another_build_or_version_is_refused(
        files: dict[date, Path], tmp_path: Path) -> None:
    from bepgraph.validation.saved_findings import SavedFindings, this_bepgraph
    from bepgraph.version import __version__

    made_by = json.loads(files[AS_OF].read_text())["provenance"]["bepgraph"]
    assert made_by == this_bepgraph() and made_by["version"] == __version__ and len(made_by["code_sha256"]) == 64
    SavedFindings.read([files[AS_OF]])  # the honest file is read

    older = _edited(files[AS_OF], tmp_path / "v.json", lambda p: p["bepgraph"].update(version="0.0.9"))
    with pytest.raises(ParameterError, match=rf"v.json: written by bepgraph 0\.0\.9, and this is bepgraph "
                                             rf"{re.escape(__version__)}: .*validate again with --findings-file"):
        SavedFindings.read([older])
    build = _edited(files[AS_OF], tmp_path / "b.json", lambda p: p["bepgraph"].update(code_sha256="0" * 64))
    with pytest.raises(ParameterError, match=r"b.json: written by another build of bepgraph .* \(the sha256 of its "
                                             r"code, ontology, shapes and queries differ\)"):
        SavedFindings.read([build])
    unrecorded = _edited(files[AS_OF], tmp_path / "u.json", lambda p: p.pop("bepgraph"))
    with pytest.raises(ParameterError, match=r"u.json: written by an earlier bepgraph that did not record its "
                                             r"version and code.*validate again with --findings-file"):
        SavedFindings.read([unrecorded])


def test_the_code_digest_changes_with_the_derivation_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bepgraph.validation import saved_findings

    saved_findings.code_digest.cache_clear()
    before = saved_findings.code_digest()
    package = tmp_path / "bepgraph"
    shutil.copytree(saved_findings._PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    monkeypatch.setattr(saved_findings, "_PACKAGE", package)
    saved_findings.code_digest.cache_clear()
    try:
        assert saved_findings.code_digest() == before  # the same code, elsewhere: the same digest
        derive = package / "validation" / "derive.py"  # the derivation of statuses, which no shape holds
        derive.write_text(derive.read_text() + "\n# one line more\n")
        saved_findings.code_digest.cache_clear()
        assert saved_findings.code_digest() != before
    finally:
        saved_findings.code_digest.cache_clear()


def _raw_write(store: object, update: str) -> None:
    """A raw write as the SPARQL Update and Graph Store doors make it (raw_writes.apply settles it)."""
    from bepgraph.raw_writes import apply

    apply(store, update, store.update)  # type: ignore[arg-type,attr-defined]


def _refusals_of_raw_writes(target: object, files: dict[date, Path]) -> None:
    """The honest file passes on *target*; a raw-written named graph, then facts in the real default graph,
    are each refused by name; once they are dropped the file passes again."""
    from bepgraph.validation.saved_findings import SavedFindings

    SavedFindings.read([files[AS_OF]]).check(target)  # type: ignore[arg-type]
    _raw_write(target, RAW_NAMED)
    with pytest.raises(ParameterError) as named:
        SavedFindings.read([files[AS_OF]]).check(target)  # type: ignore[arg-type]
    assert str(named.value) == (f"the store holds facts written raw (SPARQL Update or the Graph Store Protocol) in "
                                f"<{RAW_GRAPH}>: the rules would judge them, and the findings files were computed "
                                "from the loaded bundles and filing only; drop those graphs, or serve a store that "
                                "holds only the loaded sources")
    _raw_write(target, f"DROP GRAPH <{RAW_GRAPH}>")
    SavedFindings.read([files[AS_OF]]).check(target)  # type: ignore[arg-type]
    _raw_write(target, f"CREATE GRAPH <{RAW_GRAPH}>")  # a graph that holds no fact changes no finding
    SavedFindings.read([files[AS_OF]]).check(target)  # type: ignore[arg-type]
    _raw_write(target, f"DROP GRAPH <{RAW_GRAPH}>")
    _raw_write(target, RAW_DEFAULT)
    with pytest.raises(ParameterError, match=r"facts written raw .* in the default graph: the rules would judge"):
        SavedFindings.read([files[AS_OF]]).check(target)  # type: ignore[arg-type]
    _raw_write(target, "DROP DEFAULT")
    SavedFindings.read([files[AS_OF]]).check(target)  # type: ignore[arg-type]


def test_raw_written_facts_refuse_the_files_in_memory(bundle: Path, files: dict[date, Path]) -> None:
    target = EmbeddedStore()
    load_all(target, [bundle])
    _refusals_of_raw_writes(target, files)


@pytest.mark.server
def test_raw_written_facts_refuse_the_files_over_a_sparql_server(oxigraph_server: OxigraphServer, bundle: Path,
                                                                files: dict[date, Path]) -> None:
    from bepgraph.store import RemoteStore

    assert main(["load", str(bundle), "--store", oxigraph_server.query_url]) == 0
    remote = RemoteStore(oxigraph_server.query_url)
    try:
        _refusals_of_raw_writes(remote, files)
    finally:
        remote.close()


@pytest.mark.server
def test_a_running_service_refuses_once_a_graph_is_written_raw_on_its_server(
        oxigraph_server: OxigraphServer, bundle: Path, files: dict[date, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from bepgraph.store import RemoteStore

    assert main(["load", str(bundle), "--store", oxigraph_server.query_url]) == 0
    remote, writer = RemoteStore(oxigraph_server.query_url), RemoteStore(oxigraph_server.query_url)
    _never_validate(monkeypatch)
    try:
        with serve(remote, Settings(load_on_start=False, findings_files=(files[AS_OF],))) as served:
            before = _ask(served.url, AS_OF.isoformat())
            _raw_write(writer, RAW_NAMED)  # another process's write: the server's generation does not change
            refused = _ask(served.url, AS_OF.isoformat())
            page = _viz(served.url, "/viz/data", view="money", asOf=AS_OF.isoformat())
            _raw_write(writer, f"DROP GRAPH <{RAW_GRAPH}>")
            again = _ask(served.url, AS_OF.isoformat())
    finally:
        remote.close()
        writer.close()
    assert "errors" not in before and before["data"]["findings"]["findings"]["totalCount"] > 0  # type: ignore[index]
    assert refused["data"] is None
    assert f"facts written raw (SPARQL Update or the Graph Store Protocol) in <{RAW_GRAPH}>" in \
        refused["errors"][0]["message"]  # type: ignore[index]
    assert page.status_code == 400 and f"in <{RAW_GRAPH}>" in page.json()["detail"]
    assert again == before
