"""The ``bepgraph`` command: load, query and export, with exit codes and messages instead of tracebacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from bepgraph.cli import main
from bepgraph.loading import bundle_graph
from bepgraph.namespaces import BEP, graph_iri
from bepgraph.sparql import named_queries

from .servers import free_port

BEPGRAPH = Path(sys.executable).with_name("bepgraph")

QUERY = f"""# Title: Commissions from a date on
# Purpose: a query file of the CLI tests, with typed parameters.
# Parameters:
#   ?from  xsd:date     first trade date counted
#   ?min   xsd:decimal  smallest commission counted (optional)
# Columns:
#   ?trade  the transaction
PREFIX bep: <{BEP}>
SELECT ?trade WHERE {{
  ?trade bep:date ?date ; bep:commission ?c .
  FILTER(?date >= ?from && (!BOUND(?min) || ?c >= ?min))
}} ORDER BY ?trade
"""


@pytest.fixture
def query_file(tmp_path: Path) -> Path:
    path = tmp_path / "from-date.rq"
    path.write_text(QUERY, encoding="utf-8")
    return path


def test_load_reports_rows_and_graphs(mini_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", str(mini_bundle)]) == 0
    out = capsys.readouterr().out
    assert "loaded JNL Series Trust Brokerage Enhancement Plan (38 series) into memory" in out
    assert f"{bundle_graph(mini_bundle)}: organizations 2, series 1" in out
    assert f"{graph_iri('filing')}: " in out


def test_load_of_a_bad_bundle_exits_2_listing_the_problems(mini_bundle: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (mini_bundle / "trustees.csv").write_text("id,name,from\nt-1,A,2000-02-30\nt-2,B,2000-01-01\n")
    assert main(["load", str(mini_bundle)]) == 2
    err = capsys.readouterr().err
    assert "trustees.csv:2: column from: '2000-02-30' is not a calendar date" in err
    assert "nothing was loaded" in err and "Traceback" not in err


def test_query_list_names_every_query_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    for name, q in named_queries().items():
        assert name in out
        for p in q.parameters:
            assert f"{p.name}:{p.type}" in out


def test_query_file_binds_typed_parameters(query_file: Path, mini_bundle: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", str(query_file), str(mini_bundle), "--param", "from=2002-07-01",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]["bindings"]
    assert [r["trade"]["value"].rsplit("/", 1)[-1] for r in rows] == ["T-1", "T-2"]

    assert main(["query", str(query_file), str(mini_bundle), "--param", "from=2002-07-01",
                 "--param", "?min=100.00"]) == 0
    table = capsys.readouterr().out
    assert "transaction/T-1" in table and "transaction/T-2" not in table and "(1 row)" in table


@pytest.mark.parametrize(("param", "message"), [
    ("from=2002-13-01", "parameter from: '2002-13-01' is not a valid xsd:date"),
    ("from", "--param 'from' is not of the form key=value"),
    ("to=2002-01-01", "has no parameter to"),
])
def test_malformed_parameter_exits_2_with_a_message(query_file: Path, mini_bundle: Path, param: str,
                                                    message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", str(query_file), str(mini_bundle), "--param", param]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unknown_query_name_exits_2(mini_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "no-such-query", str(mini_bundle)]) == 2
    assert "no query named 'no-such-query'" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "fmt"), [
    ("turtle", ox.RdfFormat.TURTLE), ("nquads", ox.RdfFormat.N_QUADS), ("jsonld", ox.RdfFormat.JSON_LD),
])
def test_export_writes_parseable_output(mini_bundle: Path, tmp_path: Path, name: str, fmt: ox.RdfFormat) -> None:
    out = tmp_path / f"graph.{name}"
    assert main(["export", str(mini_bundle), "--format", name, "-o", str(out)]) == 0
    parsed = list(ox.parse(out.read_bytes(), format=fmt))
    assert any(t.predicate.value == BEP + "commission" for t in parsed)
    assert len(parsed) > 1000  # the filing, the ontology and the bundle


def test_a_disk_store_loaded_once_answers_later_commands(mini_bundle: Path, tmp_path: Path, query_file: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "db")
    assert main(["load", str(mini_bundle), "--store", db]) == 0
    assert main(["query", str(query_file), "--store", db, "--param", "from=2002-07-02"]) == 0
    out = capsys.readouterr().out
    assert "transaction/T-2" in out and "transaction/T-1" not in out


def test_installed_command_exits_with_the_documented_codes(mini_bundle: Path, query_file: Path,
                                                           tmp_path: Path) -> None:
    def bepgraph(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BEPGRAPH), *args], capture_output=True, text=True, timeout=120, check=False)

    db = str(tmp_path / "db")
    ok = bepgraph("load", str(mini_bundle), "--store", db)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert "38 series" in ok.stdout
    bad = bepgraph("query", str(query_file), "--store", db, "--param", "from=yesterday")
    assert bad.returncode == 2
    assert "'yesterday' is not a valid xsd:date" in bad.stderr and "Traceback" not in bad.stderr
    exported = bepgraph("export", "--store", db, "--format", "nquads")
    assert exported.returncode == 0
    assert len(list(ox.parse(exported.stdout.encode(), format=ox.RdfFormat.N_QUADS))) > 1000
    blocked = tmp_path / "file"
    blocked.write_text("")
    fault = bepgraph("load", str(mini_bundle), "--store", str(blocked / "db"))
    assert fault.returncode == 3
    assert "cannot open the store" in fault.stderr and "Traceback" not in fault.stderr


def test_output_whose_reader_went_away_ends_quietly_with_the_shells_sigpipe_code(mini_bundle: Path,
                                                                                   query_file: Path) -> None:
    # as `bepgraph query … | head -1` does once head has its line: the pipe is closed before the table is written
    with subprocess.Popen([str(BEPGRAPH), "query", str(query_file), str(mini_bundle), "--param", "from=2000-01-01"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141
    assert err == ""


# --- every mistake has its exit code and a message ---------------------------------------------------

def test_export_of_a_graph_that_is_not_an_iri_exits_2_naming_it(mini_bundle: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(mini_bundle), "--graph", "notanIRI"]) == 2
    err = capsys.readouterr().err
    assert "'notanIRI' is not an absolute IRI" in err and "Traceback" not in err


def test_export_of_a_graph_the_store_does_not_hold_exits_2_naming_it(mini_bundle: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(mini_bundle), "--graph", "http://example.org/no-such-graph"]) == 2
    captured = capsys.readouterr()
    assert "<http://example.org/no-such-graph> is not a graph of this store" in captured.err
    assert captured.out == ""


def test_query_without_a_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query"]) == 2
    assert "name a query" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_serve_on_an_address_others_reach_refuses_to_start_without_a_read_token(
        host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEPGRAPH_READ_TOKEN", raising=False)
    assert main(["serve", "--host", host, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "BEPGRAPH_READ_TOKEN" in err and "--public" in err


def test_serve_is_interrupted_by_ctrl_c_with_exit_130() -> None:
    port = free_port()
    with subprocess.Popen([str(BEPGRAPH), "serve", "--port", str(port)], stderr=subprocess.PIPE,
                          env={**os.environ, "BEPGRAPH_READ_TOKEN": ""}) as process:
        try:
            until = time.monotonic() + 120  # the example bundle loads first
            while time.monotonic() < until and process.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)  # poll interval, bounded by the deadline
            assert process.poll() is None
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
            assert process.returncode == 130
            assert b"Traceback" not in err
        finally:
            if process.poll() is None:
                process.kill()


def test_serve_of_a_bad_bundle_exits_2_with_the_problems_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "matters.csv").write_text("id,name\nx,y\n", encoding="utf-8")
    done = subprocess.run([str(BEPGRAPH), "serve", "--port", str(free_port()), str(bad)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "BEPGRAPH_READ_TOKEN": ""})
    assert done.returncode == 2
    assert "matters.csv:1: column action: required column is missing" in done.stderr
    assert "Traceback" not in done.stderr
