"""Fault campaign (issue 13): one client mistake or attack per input kind, and what the service answers.

Starts ``bepgraph serve --allow-updates`` on the mini test bundle (a real
uvicorn process on 127.0.0.1) from the sources given by ``--src`` (so the
same campaign runs against ``main`` and a branch), sends each case and
prints a Markdown table: the case, the status (or exit code) and the first
words of the answer. A TCP listener on 127.0.0.1 stands for an internal
service; the table says whether it was contacted. Nothing leaves 127.0.0.1.

    python bench/fault_campaign.py --src src > bench/out/faults.md
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.bundles import MINI, write_bundle  # noqa: E402

TOKEN = "campaign-token"


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


def _short(answer: httpx.Response) -> str:
    text = answer.text.replace("\n", " ").replace("|", "/")
    try:
        body = answer.json()
        text = body.get("error") or (body.get("errors") or [{}])[0].get("message", "") or text
        if isinstance(body.get("detail"), str):
            text = f"{text}: {body['detail']}"
    except (ValueError, AttributeError):
        pass
    return text[:90]


def http_cases(base: str, listener: Listener) -> list[tuple[str, str, str]]:
    url = f"http://127.0.0.1:{listener.port}/x"
    auth = {"authorization": f"Bearer {TOKEN}"}
    rows: list[tuple[str, str, str]] = []

    def run(kind: str, case: str, send) -> None:  # type: ignore[no-untyped-def]
        before = listener.hits
        try:
            answer = send()
            outcome = f"{answer.status_code} {_short(answer)}"
        except httpx.HTTPError as exc:
            outcome = f"connection error: {type(exc).__name__}"
        if listener.hits > before:
            outcome += " **(listener contacted)**"
        rows.append((kind, case, outcome))

    def q(text: str, **kw):  # type: ignore[no-untyped-def]
        return lambda: httpx.post(base + "/sparql", content=text.encode(), timeout=60,
                                  headers={"content-type": "application/sparql-query", **kw})

    def u(text: str):  # type: ignore[no-untyped-def]
        return lambda: httpx.post(base + "/sparql", content=text.encode(), timeout=60,
                                  headers={"content-type": "application/sparql-update", **auth})

    def g(body: bytes, **headers: str):  # type: ignore[no-untyped-def]
        return lambda: httpx.post(base + "/graphql", content=body, timeout=60,
                                  headers={"content-type": "application/json", **headers})

    run("SPARQL query", "SERVICE <listener>", q(f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
    run("SPARQL query", "SERVICE SILENT <listener>", q(f"SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"))
    run("SPARQL query", "service via PREFIX, nested", q(f"PREFIX i: <{url[:-1]}> SELECT * {{ {{ OPTIONAL {{ service i:x {{ }} }} }} }}"))
    run("SPARQL query", "the word SERVICE in a string", q('SELECT * { ?s ?p "SERVICE <http://127.0.0.1:1/>" } LIMIT 1'))
    run("SPARQL query", "5,000 nested groups", q("SELECT * WHERE " + "{" * 5000 + "?s ?p ?o" + "}" * 5000))
    run("SPARQL query", "10,000 nested OPTIONALs",
        q("SELECT * WHERE { " + "OPTIONAL { ?s ?p ?o " * 10000 + "}" * 10000 + " }"))
    run("SPARQL query", "10,000 negations", q("SELECT * { FILTER(" + "!" * 10000 + "true) }"))
    run("SPARQL query", "unknown function <urn:f>", q("SELECT (<urn:f>(1) AS ?x) {}"))
    run("SPARQL query", "form with neither query nor update",
        lambda: httpx.post(base + "/sparql", data={"x": "1"}))
    run("SPARQL query", "20 MB body", q("ASK {} #" + "x" * (20 << 20)))
    run("SPARQL update", "CLEAR GRAPH <missing>", u("CLEAR GRAPH <http://example.org/missing>"))
    run("SPARQL update", "CLEAR SILENT GRAPH <missing>", u("CLEAR SILENT GRAPH <http://example.org/missing>"))
    run("SPARQL update", "DROP GRAPH <missing>", u("DROP GRAPH <http://example.org/missing>"))
    run("SPARQL update", "CREATE GRAPH twice (second)",
        lambda: (u("CREATE SILENT GRAPH <http://example.org/c>")(), u("CREATE GRAPH <http://example.org/c>")())[1])
    run("SPARQL update", "LOAD <listener>", u(f"LOAD <{url}>"))
    run("SPARQL update", "LOAD <file:///etc/passwd>", u("LOAD <file:///etc/passwd>"))
    run("GraphQL", "body null", g(b"null"))
    run("GraphQL", 'body "x"', g(b'"x"'))
    run("GraphQL", "body 1e9999", g(b"1e9999"))
    run("GraphQL", "body nested 50,000 deep", g(b"[" * 50000 + b"]" * 50000))
    run("GraphQL", "syntax error, Accept graphql-response+json",
        g(b'{"query": "{"}', accept="application/graphql-response+json"))
    run("GraphQL", "20 MB body", g(b'{"query": "{ __typename }", "x": "' + b"x" * (20 << 20) + b'"}'))
    run("HTTP", "HEAD /sparql", lambda: httpx.head(base + "/sparql"))
    run("HTTP", "OPTIONS /graphql", lambda: httpx.options(base + "/graphql"))
    run("HTTP", "GET /viz/data with Origin (CORS off)",
        lambda: httpx.get(base + "/healthz", headers={"origin": "https://evil.example"}))
    return rows


def cli_cases(env: dict[str, str], folder: Path) -> list[tuple[str, str, str]]:
    bepgraph = str(Path(sys.executable).with_name("bepgraph"))
    rows = []
    bundle = write_bundle(folder / "mini", MINI)

    def run(kind: str, case: str, *args: str) -> None:
        try:
            done = subprocess.run([bepgraph, *args], capture_output=True, text=True, env=env, timeout=60)
            err = done.stderr.strip().splitlines()
            tail = "Traceback …" if "Traceback" in done.stderr else (err[-1][:80] if err else done.stdout[:60].strip())
            rows.append((kind, case, f"exit {done.returncode}: {tail}".replace("|", "/")))
        except subprocess.TimeoutExpired:
            rows.append((kind, case, "hangs (killed after 60 s)"))

    run("CLI", "export --graph notanIRI", "export", str(bundle), "--graph", "notanIRI")
    run("CLI", "export --graph <unknown IRI>", "export", str(bundle), "--graph", "http://example.org/nope")
    run("CLI", "query without a name", "query")
    run("CLI", "serve --host 0.0.0.0, no read token", "serve", "--host", "0.0.0.0", "--port", "1")
    for name, make in (("matters.csv a directory", lambda p: p.mkdir()),
                       ("matters.csv a broken symlink", lambda p: p.symlink_to(p.parent / "gone")),
                       ("trustees.csv a FIFO", lambda p: os.mkfifo(p))):
        broken = write_bundle(folder / name.replace(" ", "-"), MINI)
        target = broken / name.split()[0]
        target.unlink()
        make(target)
        run("bundle", name, "load", str(broken))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the bepgraph sources to run")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(Path(args.src).resolve()), "BEPGRAPH_TOKEN": TOKEN}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bundle = write_bundle(folder / "served", MINI)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([str(Path(sys.executable).with_name("bepgraph")), "serve", "--port", str(port),
                                   "--allow-updates", str(bundle)], env={**env, "BEPGRAPH_QUERY_TIMEOUT": "5"},
                                  stdout=subprocess.DEVNULL, stderr=open(folder / "server.log", "w"))
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1200):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            listener = Listener()
            rows = http_cases(base, listener) + cli_cases(env, folder)
        finally:
            server.terminate()
            server.wait(timeout=30)
        log = (folder / "server.log").read_text()
    print("| input | case | answer |\n|---|---|---|")
    for kind, case, outcome in rows:
        print(f"| {kind} | {case} | {outcome} |")
    print(f"\nserver log: {log.count('Traceback')} tracebacks, {log.count('ERROR')} ERROR lines")
    print(json.dumps({"listener_hits": listener.hits}))


if __name__ == "__main__":
    main()
