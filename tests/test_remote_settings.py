"""Where a remote store's endpoints and credentials come from: the environment, read once, checked."""

from __future__ import annotations

import pytest

from bepgraph.cli import main
from bepgraph.errors import ParameterError
from bepgraph.remote import endpoints, query_form
from bepgraph.settings import RemoteSettings, Settings


def test_oxigraph_layout_follows_the_store_url() -> None:
    where = endpoints("http://127.0.0.1:7878/query", RemoteSettings())
    assert (where.query_url, where.update_url, where.gsp_url) == (
        "http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update", "http://127.0.0.1:7878/store")
    assert endpoints("http://h:1/", RemoteSettings()).query_url == "http://h:1/query"


def test_each_endpoint_set_in_the_environment_wins() -> None:
    remote = RemoteSettings.from_env({"BEPGRAPH_STORE_QUERY_URL": "http://v:8890/sparql",
                                      "BEPGRAPH_STORE_UPDATE_URL": "http://v:8890/sparql-auth",
                                      "BEPGRAPH_STORE_GSP_URL": "http://v:8890/sparql-graph-crud-auth"})
    where = endpoints(None, remote)
    assert (where.query_url, where.update_url, where.gsp_url) == (
        "http://v:8890/sparql", "http://v:8890/sparql-auth", "http://v:8890/sparql-graph-crud-auth")
    assert Settings.from_env({"BEPGRAPH_STORE_QUERY_URL": "http://v:8890/sparql"}).remote.query_url == \
        "http://v:8890/sparql"


@pytest.mark.parametrize("env, message", [
    ({"BEPGRAPH_STORE_AUTH": "kerberos"}, "not one of basic, digest, bearer"),
    ({"BEPGRAPH_STORE_AUTH": "digest", "BEPGRAPH_STORE_USER": "dba"}, "needs BEPGRAPH_STORE_PASSWORD"),
    ({"BEPGRAPH_STORE_AUTH": "bearer"}, "needs BEPGRAPH_STORE_TOKEN"),
    ({"BEPGRAPH_STORE_MAX_ROWS": "many"}, "BEPGRAPH_STORE_MAX_ROWS 'many' is not a number"),
    ({"BEPGRAPH_STORE_DATASET": "all"}, "not one of union, listed"),
])
def test_bad_remote_settings_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        RemoteSettings.from_env(env)


def test_credentials_never_show_in_the_settings_repr() -> None:
    remote = RemoteSettings.from_env({"BEPGRAPH_STORE_AUTH": "basic", "BEPGRAPH_STORE_USER": "u",
                                      "BEPGRAPH_STORE_PASSWORD": "s3cret", "BEPGRAPH_STORE_TOKEN": "t0ken"})
    assert "s3cret" not in repr(remote) and "t0ken" not in repr(remote)


def test_the_command_line_takes_no_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["load", "--store", "http://127.0.0.1:1/query", "--password", "x"])
    assert "unrecognized arguments: --password" in capsys.readouterr().err


@pytest.mark.parametrize("text, form", [
    ("PREFIX ex: <http://e/select#> # ASK in a comment\nCONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ('SELECT ?s WHERE { ?s ?p "DESCRIBE" }', "SELECT"),
    ("describe <http://e/x>", "DESCRIBE"),
    ("BASE <http://e/> ASK {}", "ASK"),
])
def test_the_query_form_is_read_past_comments_strings_and_iris(text: str, form: str) -> None:
    assert query_form(text) == form
