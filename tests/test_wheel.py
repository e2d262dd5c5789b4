"""The built wheel, installed alone in a fresh environment outside the checkout, validates and serves every page.

Why: the data folders (ontology/, shapes/, queries/, filings/, examples/)
and the pages' scripts copied from npm (web/viz/vendor, http/static/yasgui
and graphiql, all ignored by git) live outside the Python package or
outside version control; a wheel that forgot one of them would install
cleanly and then fail at the first request.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "bepgraph" / "http" / "static"
CHECKOUT_BEPGRAPH = Path(sys.executable).with_name("bepgraph")
AS_OF = "2004-06-30"


def _run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(the wheel, the fresh environment's bin/, a working folder outside the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", base / "dist", ROOT, cwd=base)
    assert built.returncode == 0, built.stderr
    wheel = next((base / "dist").glob("bepgraph-*.whl"))
    made = _run(sys.executable, "-m", "venv", base / "venv", cwd=base)
    assert made.returncode == 0, made.stderr
    bin_dir = base / "venv" / "bin"
    # the dependencies come from the pip cache (or PyPI); the package only from the wheel
    done = _run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, cwd=base)
    assert done.returncode == 0, done.stderr
    work = base / "work"
    work.mkdir()
    yield wheel, bin_dir, work


def _page_files() -> list[Path]:
    """The files `make install` copies from npm for the pages (the wheel must carry each)."""
    files = sorted((ROOT / "web" / "viz" / "vendor").glob("*")) + sorted((STATIC / "yasgui").glob("*")) \
        + sorted((STATIC / "graphiql").glob("*"))
    assert files, "run make install first: the pages' scripts are copied from npm"
    return files


def test_the_wheel_carries_the_data_folders_and_the_pages_scripts(installed: tuple[Path, Path, Path]) -> None:
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("ontology", "shapes", "queries", "filings", "examples"):
        here = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()}
        assert here and {f"bepgraph/_data/{name}" for name in here} <= names, folder
    shipped = {f"bepgraph/_data/{p.relative_to(ROOT).as_posix()}" if p.is_relative_to(ROOT / "web")
               else p.relative_to(ROOT / "src").as_posix() for p in _page_files()}
    assert shipped <= names
    assert "bepgraph/_data/web/viz/index.html" in names and "setup.py" not in names


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    where = _run(bin_dir / "python", "-c", "import bepgraph.resources as r; print(r.data_root())", cwd=work)
    assert where.returncode == 0, where.stderr
    root = Path(where.stdout.strip())
    assert root.name == "_data" and bin_dir.parent in root.parents


def test_validate_from_the_wheel_finds_what_the_checkout_finds(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    from_wheel = _run(bin_dir / "bepgraph", "validate", "--as-of", AS_OF, "--format", "json", cwd=work)
    from_checkout = _run(CHECKOUT_BEPGRAPH, "validate", "--as-of", AS_OF, "--format", "json", cwd=work)
    assert from_wheel.returncode == from_checkout.returncode == 1, from_wheel.stderr  # the example has breaches
    wheel_report, checkout_report = json.loads(from_wheel.stdout), json.loads(from_checkout.stdout)
    assert wheel_report["counts"]["violation"] > 0
    assert wheel_report == checkout_report


def test_serve_from_the_wheel_answers_viz_sparql_and_graphql_pages(installed: tuple[Path, Path, Path]) -> None:
    _, bin_dir, work = installed
    port = free_port()
    proc = subprocess.Popen([str(bin_dir / "bepgraph"), "serve", "--port", str(port)], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        for line in proc.stderr:  # the graphs served, then the address once it answers
            lines.append(line)
            if "serving on" in line:
                break
        assert any("serving on" in line for line in lines), lines
        assert any(str(bin_dir.parent) in line and "_data" in line for line in lines)
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=60) as client:
            page = client.get("/viz")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            scripts = re.findall(r'<script src="(/viz/static/[^"]+)"', page.text)
            vendor = {p.name: p.read_bytes() for p in (ROOT / "web" / "viz" / "vendor").glob("*")}
            assert {s.rsplit("/", 1)[1] for s in scripts} >= set(vendor)
            for script in scripts:
                answer = client.get(script)
                assert answer.status_code == 200, script
                name = script.rsplit("/", 1)[1]
                if name in vendor:
                    assert answer.content == vendor[name]
            sparql = client.get("/sparql", headers={"Accept": "text/html"})
            assert sparql.status_code == 200 and "yasgui.min.js" in sparql.text
            for path in sorted((STATIC / "yasgui").glob("*")):
                assert client.get(f"/yasgui/{path.name}").content == path.read_bytes()
            graphiql = client.get("/graphql", headers={"Accept": "text/html"})
            assert graphiql.status_code == 200 and "graphiql.min.js" in graphiql.text
            for path in sorted((STATIC / "graphiql").glob("*")):
                assert client.get(f"/graphql/static/{path.name}").content == path.read_bytes()
            count = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                               headers={"Accept": "application/sparql-results+json"})
            assert int(count.json()["results"]["bindings"][0]["n"]["value"]) > 40_000
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
