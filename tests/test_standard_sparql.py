"""Standard SPARQL 1.1 only: every query text the project can send to a store parses with a strict
SPARQL 1.1 parser (sparqljs, run by node: tests/tools/sparql11.js).

Why a second parser: Oxigraph accepts its own extensions (LATERAL, date
subtraction as a duration, ``\\/`` in a local name...) that other servers
refuse or answer differently, so a query that runs on the embedded store
proves nothing about Virtuoso. The texts come from three places: every
``.rq`` under queries/, every compiled constraint of shapes/ (in both its
path form and the form with target classes and focus nodes bound), and
every text the engine actually sends while it loads the example bundle,
validates it, answers the curated queries, the GraphQL dashboard and
findings queries and /viz/data (recorded on the store).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import httpx
import pytest

from bepgraph.loading import load_all
from bepgraph.resources import shape_files
from bepgraph.sparql import named_queries
from bepgraph.store import EmbeddedStore, bind_values
from bepgraph.validation.compile import ShapesError
from bepgraph.validation.engine import load_shapes
from bepgraph.validation.run import run_validation
from bepgraph.viz.views import VIEWS

from .graphql_server import serve
from .w3c.shacl.suite import load_suite

CHECKER = Path(__file__).parent / "tools" / "sparql11.js"
NODE = shutil.which("node")


# Outside strings, IRIs and comments, a backslash escape in a prefixed name (`ex:a\\/b`): SPARQL 1.1
# allows it (PN_LOCAL_ESC) but Virtuoso 7.2 cannot parse it, so the project writes the full IRI instead.
_LOCAL_ESCAPE = re.compile(r"""#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|<[^<>"{}|^`\\\s]*>|(?P<esc>:[\w.-]*\\[_~.!$&'()*+,;=/?#@%-])""")


def refused(texts: Mapping[str, str]) -> dict[str, str]:
    """The texts the strict parser refuses (or that escape a local name), with the reason."""
    assert NODE is not None, "node is needed to run the SPARQL 1.1 parser (make install)"
    payload = json.dumps([{"name": n, "text": t} for n, t in texts.items()])
    out = subprocess.run([NODE, str(CHECKER)], input=payload, capture_output=True, text=True, timeout=120, check=True)
    found = {f["name"]: f["error"] for f in json.loads(out.stdout)}
    for name, text in texts.items():
        escapes = [m.group("esc") for m in _LOCAL_ESCAPE.finditer(text) if m.group("esc")]
        if escapes and name not in found:
            found[name] = f"a local-name escape ({escapes[0]}), which Virtuoso cannot parse: write the full IRI"
    return found


# --- the parser itself refuses what it must --------------------------------------------------------

@pytest.mark.parametrize("text", [
    "SELECT * WHERE { LATERAL { SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 } }",  # Oxigraph's LATERAL
    "PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:a\\/b ?o }",  # a local-name escape Virtuoso refuses
    "SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?p",  # ?s is neither grouped nor aggregated
    "SELECT * WHERE { ?s ?p ?o FILTER(bif:contains(?o, 'x')) }",  # an engine's own function, undeclared
])
def test_the_strict_parser_refuses_extensions(text: str) -> None:
    assert "q" in refused({"q": text})


def test_the_strict_parser_takes_standard_queries_and_updates() -> None:
    assert refused({
        "select": "PREFIX ex: <http://e/> SELECT ?s (COUNT(*) AS ?n) WHERE { VALUES ?s { ex:a } ?s ex:p* ?o "
                  "FILTER(?o IN (1, 2) && NOT EXISTS { ?o ex:q ?s }) } GROUP BY ?s",
        "update": "DROP SILENT GRAPH <http://e/g> ; INSERT DATA { GRAPH <http://e/g> { <http://e/a> <http://e/b> 1 } }",
    }) == {}


# --- what the project sends -------------------------------------------------------------------------

def test_every_query_file_is_standard_sparql() -> None:
    texts = {name: q.text for name, q in named_queries().items()}
    assert len(texts) >= 50 and any(n.startswith("graphql/children") for n in texts)
    assert refused(texts) == {}


def test_every_compiled_shape_constraint_is_standard_sparql() -> None:
    shapes = load_shapes(shape_files())
    texts: dict[str, str] = {}
    focus = ["<https://w3id.org/bepgraph/id/transactions/T-1>"]
    for i, c in enumerate(shapes.constraints):
        texts[f"{i} {c.shape} {c.component} (path)"] = c.query()
        known = {cls: [cls, "<https://w3id.org/bepgraph/ontology#Sub>"] for cls in c.target_classes}
        texts[f"{i} {c.shape} {c.component} (bound)"] = c.query(focus, known)
    assert len(shapes.constraints) >= 20
    assert refused(texts) == {}


def test_every_w3c_suite_constraint_is_standard_sparql() -> None:
    """The W3C SHACL suite's shapes exercise every compiled form of every Core and SPARQL component."""
    texts: dict[str, str] = {}
    for test in load_suite():
        if test.failure:
            continue
        try:
            shapes = load_shapes([test.shapes])
        except ShapesError:  # a shape the engine refuses sends nothing
            continue
        for i, c in enumerate(shapes.constraints):
            texts[f"{test.id} {i} {c.component}"] = c.query()
            texts[f"{test.id} {i} {c.component} (bound)"] = c.query(
                ["<http://e/x>"], {cls: [cls] for cls in c.target_classes})
    assert len(texts) >= 100
    assert refused(texts) == {}


class RecordingStore(EmbeddedStore):
    """An on-disk embedded store (no forked copy, so every text passes here) noting each text it runs."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sent: list[str] = []

    def query(self, text, bindings=None, *, default_graphs=None, named_graphs=None, rows=None):  # type: ignore[override]
        self.sent.append(bind_values(text, bindings, rows))
        return super().query(text, bindings, default_graphs=default_graphs, named_graphs=named_graphs, rows=rows)

    def update(self, text: str) -> None:
        self.sent.append(text)
        super().update(text)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    from .test_graphql import AS_OF, DASHBOARD, SERIES

    store = RecordingStore(tmp_path_factory.mktemp("recorded") / "store")
    load_all(store)
    run_validation(store, date(2005, 7, 31))
    for name, q in named_queries().items():
        if name.startswith("analyst/") and not any(not p.optional for p in q.parameters):
            list(store.query(q.text))  # type: ignore[call-overload]
    with serve(store) as served:
        body = httpx.post(served.url + "/graphql", timeout=300,
                          json={"query": DASHBOARD, "variables": {"id": SERIES, "asOf": AS_OF}}).json()
        assert "errors" not in body, body
        for view in VIEWS:
            response = httpx.get(served.url + "/viz/data", params={"view": view, "asOf": AS_OF}, timeout=300)
            assert response.status_code == 200, response.text
    yield store.sent
    store.close()


def test_every_text_the_engine_sends_is_standard_sparql(recorded: Sequence[str]) -> None:
    texts = {f"{i}": t for i, t in enumerate(dict.fromkeys(recorded))}
    assert len(texts) >= 40
    assert refused(texts) == {}

